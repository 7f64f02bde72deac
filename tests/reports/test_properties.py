"""Whatever two organizers send (valid and invalid operations, late ones, refunds,
duplicates sent twice, wins on bets), every report, over any range, granularity and
filters, equals a plain recomputation from what DSOM's answers accepted and rejected.

The operations are drawn and their answers checked, one by one, by the model of
tests/ingest/test_accounting.py; tests/reports/helpers.py recomputes the reports from
them. Each report has its own property test, on SQLite and on PostgreSQL, through the
real HTTP server and an official's token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from dsom import __version__
from dsom.kit.time import KYIV
from dsom.registers.declarations import ACTIVITIES
from dsom.reports.declarations import REPORTS
from tests.conftest import Server
from tests.ingest.helpers import Market, bet, iso_z, new_licence, new_market, post, settlement
from tests.ingest.test_accounting import (
    AMOUNTS,
    PLAYERS,
    Org,
    Sent,
    World,
    account,
    draw_operation,
    example_times,
)
from tests.reports import helpers as expect
from tests.reports.helpers import Licensed, Range, Seen, forget_operations, get, kyiv_midnight

HOUR = timedelta(hours=1)
FLOOR = 1_000_000  # Settings.large_win_floor's default


@dataclass
class Setup:
    """Two organizers' markets (registered once per test), their licences as the test
    knows them, and when they were registered."""

    markets: list[Market]
    licences: list[Licensed]
    started_us: int  # before the first of them was registered
    registered_us: int  # after the last of them (with a second's margin)


@pytest.fixture
def setup(http: httpx.Client, db: Engine) -> Setup:
    """Two markets of tests/ingest/helpers.py, and a licence ending within 90 days."""
    started_us = expect.us_of(datetime.now(UTC))
    markets = [new_market(db), new_market(db)]
    today = datetime.now(UTC).date()
    licences = []
    for market in markets:
        for activity, lic in market.licences.items():
            online = activity in ("online_casino", "online_poker", "bookmaking")
            licences.append(
                Licensed(
                    market.organizer,
                    activity,
                    "active" if lic.active else "suspended",
                    today - timedelta(days=100),
                    today + timedelta(days=5 * 365),
                    online,
                )
            )
    soon = today + timedelta(days=20)
    new_licence(db, organizer=markets[0].organizer, activity="casino_establishment", valid_to=soon)
    licences.append(
        Licensed(
            markets[0].organizer,
            "casino_establishment",
            "active",
            today - timedelta(days=100),
            soon,
            False,
        )
    )
    registered_us = expect.us_of(datetime.now(UTC)) + 1_000_000
    return Setup(markets, licences, started_us, registered_us)


def opening_bets(draw: Callable[..., Any], world: World, org: Org) -> list[Sent]:
    """A bet under each active licence, so that the organizers meet in every activity
    (shares, distinct players), and maybe a large win on it, before the random rounds
    settle and repeat them."""
    sents = []
    for lic in org.market.licences.values():
        if not lic.active:
            continue
        channel = draw(st.sampled_from([ch for ch in lic.channels if ch.active]))
        op = bet(
            f"open-{next(world.serial)}",
            licence=lic.number,
            channel=channel,
            game_type=lic.activity,
            occurred_at=iso_z(draw(st.sampled_from(world.good_times))),
            player_id=draw(st.sampled_from(PLAYERS)),
            amount=draw(AMOUNTS),
        )
        sents.append(Sent(op))
        if draw(st.booleans()):  # a win about the large-win floor and threshold
            amount = draw(st.sampled_from([FLOOR - 1, FLOOR, 5_000_000, 7_777_777]))
            sents.append(
                Sent(
                    settlement(
                        "win",
                        f"open-{next(world.serial)}",
                        bet_id=op["operation_id"],
                        licence=lic.number,
                        occurred_at=iso_z(draw(st.sampled_from(world.good_times))),
                        player_id=op["player_id"],
                        amount=amount,
                    )
                )
            )
    return sents


def send(draw: Callable[..., Any], world: World, http: httpx.Client) -> None:
    """Opening bets, then a few rounds of random requests from both organizers, each
    answer checked by the model."""
    for org in world.orgs:
        sents = opening_bets(draw, world, org)
        org.sent.extend(sents)
        account(world, org, sents, post(http, org.market.headers, [s.element for s in sents]))
    for _ in range(draw(st.integers(2, 4), label="rounds")):  # repeats upsert the rollups
        for org in world.orgs:
            sents = []
            for _ in range(draw(st.integers(0, 8))):
                sents.append(draw_operation(draw, world, org))
                org.sent.append(sents[-1])  # a later one may retry or settle an earlier one
            if sents:
                answer = post(http, org.market.headers, [s.element for s in sents])
                account(world, org, sents, answer)


# --- parameters --------------------------------------------------------------------------------


def _render(draw: Callable[..., Any], value: datetime) -> str:
    zone = draw(st.sampled_from([UTC, KYIV, timezone(timedelta(hours=5, minutes=30))]))
    return value.astimezone(zone).isoformat()


def draw_parameters(
    draw: Callable[..., Any], report: str, now: datetime, codes: list[str], wins: list[int]
) -> tuple[dict[str, str], Range]:
    """Random parameters the report takes, and the range and filters they mean."""
    filters = REPORTS[report].filters
    params: dict[str, str] = {}
    today = now.astimezone(KYIV).date()
    start, end = kyiv_midnight(today.replace(day=1)), kyiv_midnight(today + timedelta(days=1))
    kind = draw(st.sampled_from(["default", "dates", "dates", "hours", "instants"]), label="range")
    if kind == "instants" and report != "large-wins":
        kind = "hours"  # only large-wins takes instants off the hour
    if kind == "dates":
        first = today - timedelta(days=draw(st.one_of(st.integers(0, 2), st.integers(0, 35))))
        start = kyiv_midnight(first)
        end = kyiv_midnight(first + timedelta(days=draw(st.integers(1, 40))))
    elif kind in ("hours", "instants"):
        hour = now.replace(minute=0, second=0, microsecond=0)
        # often a few recent hours (a day or month the range cuts, where the data is)
        start = hour - HOUR * draw(st.one_of(st.integers(0, 4), st.integers(0, 30 * 24)))
        end = start + HOUR * draw(st.one_of(st.integers(1, 6), st.integers(1, 40 * 24)))
        if kind == "instants":
            start += timedelta(microseconds=draw(st.integers(0, 3_599_999_999)))
            end += timedelta(microseconds=draw(st.integers(0, 3_599_999_999)))
    if kind != "default" and "to" in filters:
        if "from" in filters:
            params["from"] = start.date().isoformat() if kind == "dates" else _render(draw, start)
        else:  # licenses: `to` only; `from` stays the default
            start = kyiv_midnight(today.replace(day=1))
        params["to"] = (
            (end.astimezone(KYIV).date().isoformat()) if kind == "dates" else _render(draw, end)
        )
    granularity = "day"
    if "granularity" in filters:
        granularity = draw(st.sampled_from(["day", "hour", "month"]), label="granularity")
        params["granularity"] = granularity
    organizer = None
    if "organizer" in filters:
        organizer = draw(
            st.one_of(st.none(), st.sampled_from([*codes, "00000000"])), label="organizer"
        )
        if organizer is not None:
            params["organizer"] = organizer
    activity = None
    if "activity" in filters:
        activity = draw(st.one_of(st.none(), st.sampled_from(ACTIVITIES)), label="activity")
        if activity is not None:
            params["activity"] = activity
    threshold = 5_000_000
    if "threshold" in filters and draw(st.booleans()):
        # The amounts of wins sent, so that a win lies exactly on the threshold.
        large = sorted({w for w in wins if w >= FLOOR})
        threshold = draw(st.sampled_from([FLOOR, FLOOR + 1, 2_000_000, 10**13, *large]))
        params["threshold"] = str(threshold)
    r = Range(expect.us_of(start), expect.us_of(end), granularity, organizer, activity, threshold)
    return params, r


# --- the property ------------------------------------------------------------------------------


def expected(report: str, seen: Seen, r: Range, now_us: int, setup: Setup) -> Any:
    """The report's rows recomputed at `now_us`."""
    plain: dict[str, Callable[[Seen, Range], Any]] = {
        "market-volumes": expect.market_volumes,
        "ggr": expect.ggr,
        "payments": expect.payments,
        "winnings-tax": expect.winnings_tax,
        "player-activity": expect.player_activity,
        "market-share": expect.market_share,
        "large-wins": expect.large_wins_,
        "rejections": expect.rejections,
    }
    if report in plain:
        return plain[report](seen, r)
    if report == "compliance":
        return expect.compliance(seen, r, now_us)
    if report == "licenses":
        return expect.licenses(seen, r, setup.registered_us)
    if report == "submission-health":
        return expect.submission_health(seen, r.organizer, now_us)
    return expect.system_status_counts(seen, now_us)


def check_system_status(answer: Any, seen: Seen, now_us: int, elapsed: float) -> bool:
    """system-status: the counts equal the recomputation; the rest is well-formed."""
    (row,) = answer["rows"]
    got = dict(zip(answer["columns"], row, strict=True))
    counts = expect.system_status_counts(seen, now_us)
    if any(got[name] != value for name, value in counts.items()):
        return False
    if elapsed < 50:  # the whole example fits in the last minute
        assert got["accepted_last_minute"] == counts["accepted_total"], got
    p50, p99 = got["ingest_p50_ms"], got["ingest_p99_ms"]
    assert (p50 is None) == (p99 is None)
    assert p50 is None or 0 <= p50 <= p99
    assert got["database_bytes"] > 0
    assert isinstance(got["uptime_s"], int)
    assert got["uptime_s"] >= 0
    assert got["version"] == __version__
    return True


@pytest.mark.parametrize("report", list(REPORTS))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_report_equals_a_recomputation_from_what_was_accepted(
    report: str,
    http: httpx.Client,
    server: Server,
    regulator: dict[str, str],
    setup: Setup,
    data: st.DataObject,
) -> None:
    started = time.monotonic()
    forget_operations(server)
    good, bad = example_times(datetime.now(UTC))
    world = World([Org(m) for m in setup.markets], good, bad)
    send(data.draw, world, http)
    seen = Seen(world.orgs, setup.licences)
    codes = [m.organizer for m in setup.markets]
    for _ in range(data.draw(st.integers(1, 3), label="queries")):
        wins = [a.op["amount"] for org in world.orgs for a in org.ledger if a.op["type"] == "win"]
        params, r = draw_parameters(data.draw, report, datetime.now(UTC), codes, wins)
        before = expect.us_of(datetime.now(UTC))
        answer = get(http, regulator, report, **params)
        after = expect.us_of(datetime.now(UTC))
        assert answer["report"] == report
        assert answer["columns"] == REPORTS[report].column_ids
        if report == "system-status":
            elapsed = time.monotonic() - started
            assert any(check_system_status(answer, seen, t, elapsed) for t in (before, after)), (
                answer["rows"],
                expect.system_status_counts(seen, before),
            )
            continue
        if report == "licenses" and setup.started_us <= r.end_us < setup.registered_us:
            # `to` fell while the register was being filled: part of it stood by then,
            # which part the test cannot know (a range ending on the hour, drawn when the
            # setup straddled it).
            continue
        # The figures that depend on the clock are recomputed at either end of the request.
        wanted = [expected(report, seen, r, t, setup) for t in (before, after)]
        assert answer["rows"] in wanted, (params, answer["rows"], wanted[0])
