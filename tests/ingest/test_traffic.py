"""The traffic of `dsom simulate`: valid, realistic and reproducible operations."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from dsom.demo.market import generate, keys_file
from dsom.ingest.schemas import decode_operation
from dsom.ingest.traffic import Traffic
from dsom.registers.declarations import LAND_BASED, ONLINE, REGISTERS

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


def clock() -> datetime:
    """A stopped clock, so that two runs can be compared whole."""
    return NOW


def market_keys(organizers: int = 15) -> dict[str, Any]:
    """The keys file of a demo market, its statuses as `load` leaves them after seeding."""
    market = generate(organizers, today=TODAY)
    rows = {
        name: {row[REGISTERS[name].key]: row for row in entries}
        for name, entries in market.rows.items()
    }
    for name, key, status in market.later_status:
        rows[name][key]["status"] = status
    return keys_file(
        market, {org["edrpou"]: f"key-{org['edrpou']}" for org in market.rows["organizers"]}
    )


KEYS = market_keys()


def play(traffic: Traffic, batches: int = 30, size: int = 100) -> dict[str, list[dict[str, Any]]]:
    """Every organizer's operations in the order sent, its batches taken in turn."""
    sent: dict[str, list[dict[str, Any]]] = {code: [] for code in traffic.organizers}
    for _ in range(batches):
        for code in traffic.organizers:
            sent[code].extend(traffic.next_batch(code, size))
    return sent


SENT = play(Traffic(KEYS, seed=7, run_id="run-1", clock=clock))
ALL = [op for ops in SENT.values() for op in ops]


def active_channels(org: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Active licence number: its active channels as (kind, id)."""
    return {
        lic["number"]: {
            (ch["kind"], ch["id"]) for ch in lic["channels"] if ch["status"] == "active"
        }
        for lic in org["licenses"]
        if lic["status"] == "active"
    }


def test_every_operation_passes_the_protocol_schema() -> None:
    for op in ALL:
        decoded, occurred = decode_operation(msgspec.Raw(msgspec.json.encode(op)))
        assert decoded.operation_id == op["operation_id"]
        assert occurred == NOW
        assert op["currency"] == "UAH"
        assert 1 <= op["amount"] <= 10_000_000_000_000


def test_all_five_types_are_sent_in_realistic_shares() -> None:
    types = Counter(op["type"] for op in ALL)
    assert set(types) == {"bet", "win", "refund", "deposit", "withdrawal"}
    assert 0.40 < types["win"] / types["bet"] < 0.50
    assert 0.01 < types["refund"] / types["bet"] < 0.03
    for kind in ("deposit", "withdrawal"):
        assert 0.08 < types[kind] / len(ALL) < 0.12


def test_wins_and_refunds_follow_a_bet_of_the_same_organizer_licence_and_player() -> None:
    for ops in SENT.values():
        bets: dict[str, dict[str, Any]] = {}
        refunded: Counter[str] = Counter()
        settled: Counter[str] = Counter()
        for op in ops:
            if op["type"] == "bet":
                bets[op["operation_id"]] = op
            elif op["type"] in ("win", "refund"):
                bet = bets.get(op["bet_id"])
                assert bet is not None, f"{op['operation_id']} before its bet {op['bet_id']}"
                assert (op["license"], op["player_id"]) == (bet["license"], bet["player_id"])
                settled[op["bet_id"]] += 1
                if op["type"] == "refund":
                    refunded[op["bet_id"]] += op["amount"]
                    assert refunded[op["bet_id"]] <= bet["amount"]
                else:
                    assert op["amount"] >= bet["amount"]  # a win pays more than was staked
        assert set(settled.values()) <= {1}  # one win or one refund, never both


def test_wins_refer_to_bets_in_the_same_or_an_earlier_batch() -> None:
    traffic = Traffic(KEYS, seed=3, run_id="r", clock=clock)
    code = traffic.organizers[0]
    seen: set[str] = set()
    same_batch = 0
    for _ in range(20):
        batch = traffic.next_batch(code, 50)
        in_batch: set[str] = set()
        for op in batch:
            if op["type"] == "bet":
                in_batch.add(op["operation_id"])
            elif op["type"] in ("win", "refund"):
                assert op["bet_id"] in seen | in_batch
                same_batch += op["bet_id"] in in_batch
        seen |= in_batch
    assert same_batch, "some wins come in the batch of their bet"


def test_only_active_organizers_licences_and_channels_are_used() -> None:
    organizers = {org["code"]: org for org in KEYS["organizers"]}
    for code, ops in SENT.items():
        org = organizers[code]
        assert org["status"] == "active"
        channels = active_channels(org)
        for op in ops:
            assert op["license"] in channels, f"{op['license']} is not an active licence"
            if "channel" in op:
                channel = (op["channel"]["kind"], op["channel"]["id"])
                assert channel in channels[op["license"]]
    skipped = Traffic(KEYS, clock=clock).skipped
    statuses = {org["code"]: org["status"] for org in KEYS["organizers"]}
    for code, status in statuses.items():
        if status != "active":
            assert skipped[code] == status
        elif code not in SENT:
            assert skipped[code] == "without an active licence and channel"
            assert not any(active_channels(organizers[code]).values())
    assert set(skipped) | set(SENT) == set(statuses)
    assert len(SENT) >= len(statuses) - 5


def test_bets_are_of_the_licence_activity_through_a_channel_it_is_carried_on_in() -> None:
    activity = {
        lic["number"]: lic["activity"] for org in KEYS["organizers"] for lic in org["licenses"]
    }
    kinds: Counter[tuple[str, str]] = Counter()
    for op in ALL:
        if op["type"] != "bet":
            continue
        assert op["game_type"] == activity[op["license"]]
        kind = op["channel"]["kind"]
        kinds[op["game_type"], kind] += 1
        if kind in ("website", "mobile_app"):
            assert op["game_type"] in ONLINE
        else:
            assert op["game_type"] in LAND_BASED
    assert kinds["slot_hall", "equipment"] > kinds["slot_hall", "establishment"]
    assert kinds["bookmaking", "website"]
    assert kinds["bookmaking", "establishment"]
    assert sum("game_ref" in op for op in ALL if op["type"] == "bet") > 0


def test_deposits_and_withdrawals_go_online_if_the_organizer_can_else_to_a_cashier() -> None:
    organizers = {org["code"]: org for org in KEYS["organizers"]}
    methods: Counter[tuple[str, str]] = Counter()
    for code, ops in SENT.items():
        online = any(
            kind in ("website", "mobile_app")
            for channels in active_channels(organizers[code]).values()
            for kind, _ in channels
        )
        for op in ops:
            if op["type"] not in ("deposit", "withdrawal"):
                continue
            kind = op["channel"]["kind"]
            assert kind in (("website", "mobile_app") if online else ("establishment",))
            methods[kind, op["payment_method"]] += 1
    assert {method for (_, method) in methods} == {
        "card",
        "bank_transfer",
        "e_wallet",
        "cash",
        "other",
    }
    assert not methods["website", "cash"]


def test_amounts_are_round_and_spread_like_real_ones() -> None:
    bets = sorted(op["amount"] for op in ALL if op["type"] == "bet")
    assert all(amount % 100 == 0 for amount in bets)  # whole hryvnias
    median = bets[len(bets) // 2]
    assert 1_000 <= median <= 50_000  # tens to hundreds of hryvnias
    assert bets[-1] > 20 * median
    multiples: list[float] = []
    refunds: list[float] = []
    for ops in SENT.values():
        stake = {op["operation_id"]: op["amount"] for op in ops if op["type"] == "bet"}
        for op in ops:
            if op["type"] in ("win", "refund"):
                share = op["amount"] / stake[op["bet_id"]]
                (multiples if op["type"] == "win" else refunds).append(share)
    assert min(multiples) >= 1.19  # 1.2 times, less rounding down to a kopiyka
    assert any(m >= 50 for m in multiples), "now and then a big win"
    assert all(0 < share <= 1 for share in refunds)


def test_players_are_the_organizers_own_pseudonymous_accounts() -> None:
    for code, ops in SENT.items():
        players = Counter(op["player_id"] for op in ops)
        assert all(player.startswith(f"p-{code}-") for player in players)
        top = sum(n for _, n in players.most_common(len(players) // 10))
        assert top > len(ops) / 5, "some players play far more than others"


def test_operation_ids_are_the_run_id_and_a_count_unique_in_the_run() -> None:
    for ops in SENT.values():
        ids = [op["operation_id"] for op in ops]
        assert len(ids) == len(set(ids))
        assert all(i.startswith("run-1-") for i in ids)


def test_occurred_at_is_the_current_time_in_utc_with_microseconds() -> None:
    assert {op["occurred_at"] for op in ALL} == {"2026-11-24T09:30:15.123456Z"}


def test_the_same_seed_plays_the_same_traffic_whatever_the_order() -> None:
    again = Traffic(KEYS, seed=7, run_id="run-1", clock=clock)
    codes = again.organizers
    assert play(again) == SENT
    # One organizer alone sends what it sent while the others took turns.
    alone = Traffic(KEYS, seed=7, run_id="run-1", clock=clock)
    ops = [op for _ in range(30) for op in alone.next_batch(codes[-1], 100)]
    assert ops == SENT[codes[-1]]


def test_another_seed_plays_other_traffic() -> None:
    assert play(Traffic(KEYS, seed=8, run_id="run-1", clock=clock), batches=2) != play(
        Traffic(KEYS, seed=7, run_id="run-1", clock=clock), batches=2
    )


def test_after_forgetting_open_bets_no_win_refers_to_an_earlier_batch() -> None:
    traffic = Traffic(KEYS, seed=1, run_id="r", clock=clock)
    code = traffic.organizers[0]
    before = {op["operation_id"] for op in traffic.next_batch(code, 200)}
    traffic.forget_open_bets(code)
    after = [op for _ in range(5) for op in traffic.next_batch(code, 100)]
    assert not {op["bet_id"] for op in after if "bet_id" in op} & before


def test_an_organizer_without_an_active_channel_is_skipped() -> None:
    keys = {
        "organizers": [
            {
                "code": "40000001",
                "status": "active",
                "api_key": "k",
                "licenses": [
                    {
                        "number": "OC-1",
                        "activity": "online_casino",
                        "status": "active",
                        "channels": [{"kind": "website", "id": "WEB-1", "status": "inactive"}],
                    }
                ],
            },
            {"code": "40000002", "status": "active", "api_key": None, "licenses": []},
        ]
    }
    traffic = Traffic(keys, clock=clock)
    assert traffic.organizers == []
    assert traffic.skipped == {
        "40000001": "without an active licence and channel",
        "40000002": "without an api_key",
    }


@pytest.mark.parametrize("run_id", ["", "-x", "a b", "x" * 41])
def test_a_run_id_that_cannot_start_an_operation_id_is_refused(run_id: str) -> None:
    with pytest.raises(ValueError, match="run id"):
        Traffic(KEYS, run_id=run_id)
