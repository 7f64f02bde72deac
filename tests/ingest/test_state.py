"""The ingest engine's in-memory state (ingest/state.py) and the winnings tax (ingest/taxes.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from dsom.auth.principal import SYSTEM
from dsom.ingest.state import (
    FOREVER,
    NEVER,
    BetCache,
    BetState,
    IdIndex,
    LicenceVersion,
    RegistersIndex,
    Timeline,
    day_start_us,
    licence_status,
    to_us,
)
from dsom.ingest.taxes import TaxTable, half_up
from dsom.kit.db import write_transaction
from dsom.kit.settings import Settings
from dsom.registers import service
from dsom.registers.declarations import LICENCES
from tests.ingest.helpers import GROUNDS, new_licence, new_organizer, tax_half_up

# --- IdIndex -----------------------------------------------------------------------------------


def _index(hot_limit: int = IdIndex.HOT_LIMIT) -> IdIndex:
    index = IdIndex()
    index.HOT_LIMIT = hot_limit
    return index


class FewKeys(IdIndex):
    """An index whose hash files ids under a handful of keys: collisions on purpose."""

    @staticmethod
    def key(pair: tuple[str, str]) -> int:  # type: ignore[override]
        """Keys at both ends of the 64-bit range, and a few in between."""
        return (-(2**63), -1, 0, 7, 2**63 - 1)[len(pair[1]) % 5]


def test_an_added_id_is_found_with_its_seq() -> None:
    index = _index()
    index.add("10000001", "op-1", 1)
    index.add("10000001", "op-2", 2)

    assert index.lookup([("10000001", "op-2"), ("10000001", "op-1")]) == {
        ("10000001", "op-2"): [2],
        ("10000001", "op-1"): [1],
    }
    assert len(index) == 2


def test_ids_never_added_are_left_out_of_the_answer() -> None:
    index = _index()
    index.add("10000001", "op-1", 1)

    assert index.lookup([("10000001", "op-9"), ("99999999", "op-1")]) == {}
    assert index.lookup([]) == {}


def test_the_same_id_of_two_organizers_is_two_entries() -> None:
    index = _index()
    index.add("10000001", "op-1", 5)
    index.add("20000002", "op-1", 1)

    assert index.lookup([("10000001", "op-1")]) == {("10000001", "op-1"): [5]}
    assert index.lookup([("20000002", "op-1")]) == {("20000002", "op-1"): [1]}


def test_ids_spilled_from_the_hot_dict_into_runs_are_still_found() -> None:
    index = _index(hot_limit=4)
    pairs = [(f"{10000001 + i % 3}", f"op-{i}") for i in range(50)]
    for seq, (org, op_id) in enumerate(pairs, start=1):
        index.add(org, op_id, seq)

    assert index.runs
    assert len(index.hot) < 4
    assert len(index) == 50
    assert index.lookup(pairs) == {pair: [seq] for seq, pair in enumerate(pairs, start=1)}


def test_many_spills_merge_into_few_sorted_runs() -> None:
    index = _index(hot_limit=3)
    pairs = [("10000001", f"op-{i}") for i in range(2000)]
    for seq, (org, op_id) in enumerate(pairs, start=1):
        index.add(org, op_id, seq)

    sizes = [len(keys) for keys, _ in index.runs]
    assert sum(sizes) + len(index.hot) == 2000
    # Log-structured: each run is more than twice the next, so there are few of them.
    assert all(newer * 2 < older for older, newer in pairwise(sizes))
    assert len(sizes) <= 12
    for keys, _ in index.runs:
        assert (keys[1:] >= keys[:-1]).all()
    assert index.lookup(pairs) == {pair: [seq] for seq, pair in enumerate(pairs, start=1)}


def test_an_id_filed_twice_gives_both_seqs_wherever_they_live() -> None:
    index = _index(hot_limit=3)
    index.add("10000001", "op-1", 1)
    index.add("10000001", "op-1", 2)  # both in the hot dict
    for i in range(10):
        index.add("10000001", f"other-{i}", 10 + i)  # spills them
    index.add("10000001", "op-1", 99)  # and one more, hot again

    assert sorted(index.lookup([("10000001", "op-1")])[("10000001", "op-1")]) == [1, 2, 99]


def test_colliding_keys_give_every_candidate_of_that_organizer_only() -> None:
    index = FewKeys()
    index.HOT_LIMIT = 2
    added: dict[tuple[str, str], int] = {}
    for i in range(40):
        pair = (("10000001", "20000002")[i % 2], "x" * (1 + i % 7))
        if pair not in added:
            added[pair] = i + 1
            index.add(*pair, i + 1)

    found = index.lookup(added)
    for (org, op_id), seq in added.items():
        same_key = {
            s
            for (o, other_id), s in added.items()
            if o == org and FewKeys.key((o, other_id)) == FewKeys.key((org, op_id))
        }
        assert seq in found[(org, op_id)]
        assert set(found[(org, op_id)]) == same_key


@given(
    st.lists(
        st.tuples(st.sampled_from(["10000001", "20000002", "30000003"]), st.text(min_size=1)),
        unique=True,
        max_size=60,
    ),
    st.integers(1, 8),
)
def test_lookup_finds_every_added_id_whatever_the_spills(
    pairs: list[tuple[str, str]], hot_limit: int
) -> None:
    index = _index(hot_limit)
    for seq, (org, op_id) in enumerate(pairs, start=1):
        index.add(org, op_id, seq)

    found = index.lookup(pairs)

    assert len(index) == len(pairs)
    for seq, pair in enumerate(pairs, start=1):
        assert found[pair] == [seq]  # no collisions among so few 64-bit hashes


# --- Timeline and licence_status -----------------------------------------------------------------


def _licence(since_us: int, status: str = "active") -> LicenceVersion:
    return LicenceVersion(since_us, status, "online_casino", NEVER, FOREVER)


def test_timeline_gives_the_version_in_force_at_each_instant() -> None:
    first, second, third = _licence(NEVER), _licence(100, "suspended"), _licence(200)
    timeline = Timeline("10000001", [first, second, third])

    assert timeline.at(-(10**15)) is first
    assert timeline.at(99) is first
    assert timeline.at(100) is second
    assert timeline.at(199) is second
    assert timeline.at(200) is third
    assert timeline.at(10**18) is third


def test_the_first_version_governs_the_past_even_before_it_was_recorded() -> None:
    first, second = _licence(1_000, "suspended"), _licence(2_000)
    timeline = Timeline("10000001", [first, second])

    assert timeline.at(0) is first
    assert timeline.at(999) is first
    assert timeline.at(2_000) is second


def test_a_recorded_status_other_than_active_is_the_answer_whatever_the_dates() -> None:
    for status in ("suspended", "revoked", "expired"):
        assert licence_status(_licence(NEVER, status), 0) == status


def test_licence_validity_runs_from_kyiv_midnight_of_valid_from_through_valid_to() -> None:
    valid_from, valid_to = date(2026, 3, 29), date(2026, 10, 25)  # both days change the clocks
    version = LicenceVersion(
        NEVER,
        "active",
        "online_casino",
        day_start_us(valid_from),
        day_start_us(valid_to + timedelta(days=1)),
    )
    starts = to_us(datetime(2026, 3, 28, 22, 0, tzinfo=UTC))  # 00:00 Kyiv, winter time (+02:00)
    ends = to_us(datetime(2026, 10, 25, 22, 0, tzinfo=UTC))  # 00:00 Kyiv of the 26th, +02:00 again

    assert licence_status(version, starts - 1) == "not_yet_valid"
    assert licence_status(version, starts) == "active"
    assert licence_status(version, to_us(datetime(2026, 7, 1, tzinfo=UTC))) == "active"
    assert licence_status(version, ends - 1) == "active"  # 23:59:59.999999 of valid_to
    assert licence_status(version, ends) == "expired"


def test_the_registers_index_reads_licence_versions_from_the_history(db: Engine) -> None:
    org = new_organizer(db)
    number = new_licence(
        db,
        organizer=org,
        activity="bookmaking",
        valid_from=date(2026, 3, 29),
        valid_to=date(2026, 10, 25),
    )
    index = RegistersIndex()
    with db.begin() as conn:
        assert index.load(conn)
    with write_transaction(db) as conn:
        service.set_status(conn, LICENCES, SYSTEM, number, "suspended", GROUNDS)
    with db.begin() as conn:
        assert index.load(conn)
        assert not index.load(conn)  # nothing changed since

    timeline = index.licences[number]
    assert timeline.organizer == org
    assert len(timeline.versions) == 2
    at = timeline.at
    summer_noon = to_us(datetime(2026, 7, 1, 9, tzinfo=UTC))
    assert licence_status(at(summer_noon), summer_noon) == "active"  # the first version's past
    starts = to_us(datetime(2026, 3, 28, 22, 0, tzinfo=UTC))
    ends = to_us(datetime(2026, 10, 25, 22, 0, tzinfo=UTC))
    assert licence_status(at(starts - 1), starts - 1) == "not_yet_valid"
    assert licence_status(at(starts), starts) == "active"
    assert licence_status(at(ends - 1), ends - 1) == "active"
    later = to_us(datetime.now(UTC) + timedelta(seconds=1))
    assert licence_status(at(later), later) == "suspended"
    assert at(later).activity == "bookmaking"


# --- BetCache ---------------------------------------------------------------------------------


def _bet(seq: int) -> BetState:
    return BetState(seq, "LIC-1", "p-1", 100, "online_casino", 0)


def test_the_bet_cache_keeps_the_newest_half_of_its_limit_and_lets_older_bets_go() -> None:
    cache = BetCache(limit=4)
    for seq in range(1, 8):
        cache.put("10000001", f"b-{seq}", _bet(seq))
        assert len(cache) <= 4
        # The newest two (half the limit) are always held.
        assert cache.get("10000001", f"b-{seq}") == _bet(seq)
        if seq > 1:
            assert cache.get("10000001", f"b-{seq - 1}") == _bet(seq - 1)

    assert cache.get("10000001", "b-1") is None
    assert cache.get("10000001", "b-3") is None
    assert len(cache) == 3


def test_a_bet_replaced_by_a_refund_is_found_in_its_newer_state_across_generations() -> None:
    cache = BetCache(limit=4)
    cache.put("10000001", "b-1", _bet(1))
    cache.put("10000001", "b-2", _bet(2))  # young is full: b-1 and b-2 are now the old ones
    refunded = BetState(1, "LIC-1", "p-1", 100, "online_casino", 40)
    cache.put("10000001", "b-1", refunded)

    assert cache.get("10000001", "b-1") == refunded
    assert len(cache) == 2
    cache.put_many({("10000001", "b-3"): _bet(3)})  # young full again: the stale b-1 goes
    assert cache.get("10000001", "b-1") == refunded
    assert cache.get("10000001", "b-2") is None


def test_the_bet_cache_keeps_organizers_apart() -> None:
    cache = BetCache(limit=10)
    cache.put("10000001", "b-1", _bet(1))
    cache.put("20000002", "b-1", _bet(7))

    assert cache.get("10000001", "b-1") == _bet(1)
    assert cache.get("20000002", "b-1") == _bet(7)
    assert cache.get("30000003", "b-1") is None


# --- taxes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (25, "0.18", 5),  # 4.5 → 5
        (10, "0.05", 1),  # 0.5 → 1
        (50, "0.05", 3),  # 2.5 → 3 (not to even)
        (30, "0.05", 2),  # 1.5 → 2
        (1, "0.18", 0),  # 0.18 → 0
        (3, "0.18", 1),  # 0.54 → 1
        (9, "0.05", 0),  # 0.45 → 0
        (300, "0.015", 5),  # 4.5 → 5
        (10**13, "0.18", 18 * 10**11),
    ],
)
def test_half_up_rounds_half_a_kopiyka_up(amount: int, rate: str, expected: int) -> None:
    assert half_up(amount, Fraction(Decimal(rate))) == expected


@given(st.integers(1, 10**13), st.decimals(min_value=0, max_value=1, places=4))
def test_half_up_agrees_with_decimal_rounding(amount: int, rate: Decimal) -> None:
    assert half_up(amount, Fraction(rate)) == tax_half_up(amount, str(rate))


def test_the_default_rates_are_18_and_5_percent() -> None:
    table = TaxTable(Settings.model_fields["tax_rates"].default)

    assert table.on_win(250, to_us(datetime(2026, 1, 1, tzinfo=UTC))) == (45, 13)  # 12.5 → 13


def test_the_rates_of_the_kyiv_day_a_win_occurred_apply() -> None:
    table = TaxTable(
        '[{"from": "2027-01-01", "income_tax": "0.20", "military_levy": "0.015"},'
        ' {"from": "2000-01-01", "income_tax": "0.18", "military_levy": "0.05"}]'
    )
    new_year = to_us(datetime(2026, 12, 31, 22, 0, tzinfo=UTC))  # 2027-01-01 00:00 in Kyiv

    assert table.on_win(1_000, new_year - 1) == (180, 50)
    assert table.on_win(1_000, new_year) == (200, 15)
    assert table.on_win(100, new_year) == (20, 2)  # 1.5 → 2


def test_a_tax_table_needs_at_least_one_rate() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TaxTable("[]")


def test_id_index_building_runs_in_the_background_finds_every_id_throughout() -> None:
    index = IdIndex(background=True)
    index.HOT_LIMIT = 500  # type: ignore[misc]
    try:
        for seq in range(1, 5_001):
            index.add("40000006", f"op-{seq}", seq)
            if seq % 250 == 0:  # while runs are being built, frozen dicts are searched
                found = index.lookup([("40000006", f"op-{n}") for n in range(1, seq + 1)])
                assert all(found[("40000006", f"op-{n}")] == [n] for n in range(1, seq + 1))
        index.settle()
        assert not index.frozen
        assert len(index) == 5_000
        assert index.runs
        found = index.lookup([("40000006", f"op-{n}") for n in range(1, 5_001)])
        assert [found[("40000006", f"op-{n}")] for n in range(1, 5_001)] == [
            [n] for n in range(1, 5_001)
        ]
        assert index.lookup([("40000006", "op-0"), ("14360570", "op-1")]) == {}
    finally:
        index.close()
