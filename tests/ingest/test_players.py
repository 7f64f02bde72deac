"""The engine's knowledge of each period's players (ingest/players.py)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsom.ingest.players import PlayerKey, PlayerSets, packed, unpack


def test_packed_rows_hold_each_period_and_activity_once_keyed_by_their_first_bet() -> None:
    new = [
        ("11111111", 10, "poker", "a", 5),
        ("11111111", 10, "poker", "b", 7),
        ("11111111", 10, "betting", "a", 6),
        ("22222222", 10, "poker", "a", 3),
        ("11111111", 11, "poker", "c", 9),
    ]

    rows = packed(new)

    assert [(o, at, seq, a, n, unpack(ids)) for o, at, seq, a, n, ids in rows] == [
        ("11111111", 10, 5, "poker", 2, ["a", "b"]),
        ("11111111", 10, 6, "betting", 1, ["a"]),
        ("11111111", 11, 9, "poker", 1, ["c"]),
        ("22222222", 10, 3, "poker", 1, ["a"]),
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["11111111", "22222222"]),
            st.integers(0, 3),
            st.sampled_from(["poker", "betting"]),
            st.text(max_size=5),
        ),
        unique=True,
    )
)
def test_packed_rows_keep_every_player_under_keys_of_their_own(
    players: list[tuple[str, int, str, str]],
) -> None:
    new = [(*player, seq) for seq, player in enumerate(players, start=1)]

    rows = packed(new)

    assert sorted((o, at, a, p) for o, at, _, a, _, ids in rows for p in unpack(ids)) == sorted(
        players
    )
    assert len({(o, at, seq) for o, at, seq, *_ in rows}) == len(rows)  # the table's key
    assert all(n == len(msgspec.msgpack.decode(ids)) for *_, n, ids in rows)


def _key(org: str, hour: int, player: str) -> PlayerKey:
    return ("hour", org, hour, "poker", player)


def test_periods_are_read_once_and_known_after() -> None:
    sets = PlayerSets()
    hour_1, hour_2 = ("hour", "11111111", 1), ("hour", "11111111", 2)

    assert sets.missing([hour_1, hour_2, hour_1]) == [hour_1, hour_2]
    sets.add([hour_1, hour_2], [_key("11111111", 1, "a")])
    sets.merge({_key("11111111", 2, "b")})

    assert sets.missing([hour_1, hour_2]) == []
    assert sets.seen == {_key("11111111", 1, "a"), _key("11111111", 2, "b")}


def test_over_its_limit_only_idle_periods_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("dsom.ingest.players.time.monotonic", lambda: clock[0])
    sets = PlayerSets(limit=2, idle_s=60)
    old, current = ("hour", "11111111", 1), ("hour", "11111111", 2)
    sets.missing([old])
    sets.add([old], [_key("11111111", 1, p) for p in "ab"])
    clock[0] += 61
    sets.missing([current])
    sets.add([current], [_key("11111111", 2, "a")])

    sets.merge({_key("11111111", 2, "b")})  # 4 players: over the limit of 2

    assert sets.loaded == {current}
    assert sets.seen == {_key("11111111", 2, "a"), _key("11111111", 2, "b")}
    assert sets.missing([old, current]) == [old]  # read again if a late bet needs it
    # Still over the limit, but in use: kept, and not looked at again until doubled.
    assert sets.next_look == 4
    sets.merge({_key("11111111", 2, "c"), _key("11111111", 2, "d")})
    assert len(sets) == 4
