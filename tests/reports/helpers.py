"""The reports recomputed plainly from what the tests sent and DSOM accepted.

Nothing here reads DSOM's tables or calls its report code: every figure is computed again
from reports.md's words over the operations the answers accepted (as
tests/ingest/test_accounting.py records them), the answers' rejection codes, and the
registers as the tests built them. Periods are bucketed with zoneinfo, amounts rounded
with Decimal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from sqlalchemy import delete

from dsom.ingest.models import (
    bet_refunds,
    large_wins,
    operation_blocks,
    operations_hourly,
    players_daily,
    players_hourly,
    players_monthly,
    rejections_hourly,
    submissions_hourly,
)
from dsom.kit.time import KYIV
from dsom.reports.models import (
    operations_daily,
    operations_hours,
    players_daily_counts,
    players_hourly_counts,
    players_monthly_counts,
    rejections_daily,
)
from tests.conftest import Server
from tests.ingest.helpers import tax_half_up
from tests.ingest.test_accounting import Accepted, Answered, Org

REPORTS = "/api/v1/reports"
HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPERATION_TABLES = (
    operation_blocks,
    bet_refunds,
    operations_hourly,
    rejections_hourly,
    submissions_hourly,
    players_hourly,
    players_daily,
    players_monthly,
    large_wins,
    operations_daily,
    operations_hours,
    players_hourly_counts,
    players_daily_counts,
    players_monthly_counts,
    rejections_daily,
)


def forget_operations(server: Server) -> None:
    """Empty every table that operations fill (the registers and keys stay), and make the
    server read its state again: the next example starts from no operations."""
    with server.engine.begin() as conn:
        for table in OPERATION_TABLES:
            conn.execute(delete(table))
    server.reload()
    server.app.state.report_throughput.restart()


def get(http: httpx.Client, headers: dict[str, str], report: str, **params: Any) -> Any:
    """A report's JSON answer (asserting 200)."""
    answer = http.get(f"{REPORTS}/{report}", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- time ------------------------------------------------------------------------------------


def instant(us: int) -> datetime:
    """Epoch microseconds as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


def us_of(value: datetime) -> int:
    """An aware datetime as epoch microseconds."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def kyiv_midnight(day: date) -> datetime:
    """Local midnight that starts a Kyiv day (never ambiguous: Kyiv changes at 3-4 am)."""
    return datetime.combine(day, time(0), tzinfo=KYIV)


def bucket(us: int, granularity: str) -> tuple[int, str]:
    """(start µs, `period` label) of the Kyiv hour, day or month an instant lies in."""
    if granularity == "hour":
        start = instant(us - us % HOUR_US)
        return us_of(start), start.astimezone(KYIV).isoformat()
    day = instant(us).astimezone(KYIV).date()
    if granularity == "month":
        day = day.replace(day=1)
    start = kyiv_midnight(day)
    return us_of(start), start.isoformat()


def kyiv_text(us: int) -> str:
    """An instant as the reports write one: Kyiv time, microseconds, offset."""
    return instant(us).astimezone(KYIV).isoformat(timespec="microseconds")


def half_up(value: Decimal, places: str = "1") -> Decimal:
    """Rounded half up (away from zero) to `places`."""
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


# --- what the test knows -------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """A report's range and filters, as the test asked for them."""

    start_us: int
    end_us: int
    granularity: str = "day"
    organizer: str | None = None
    activity: str | None = None
    threshold: int = 5_000_000

    def has(self, us: int) -> bool:
        """Whether an instant lies in the range."""
        return self.start_us <= us < self.end_us


@dataclass
class Licensed:
    """A licence as the test registered it (status never changed since)."""

    organizer: str
    activity: str
    status: str
    valid_from: date
    valid_to: date
    online: bool  # online_casino / online_poker, or bookmaking with an active site or app


@dataclass
class Seen:
    """Everything DSOM accepted and answered, over all the organizers of a test."""

    orgs: list[Org]
    licences: list[Licensed] = field(default_factory=list)

    def accepted(self, r: Range, types: Iterable[str]) -> list[tuple[str, Accepted]]:
        """Accepted operations of these types that occurred in the range, filtered."""
        wanted = set(types)
        return [
            (org.code, a)
            for org in self.orgs
            if r.organizer in (None, org.code)
            for a in org.ledger
            if a.op["type"] in wanted and r.has(a.occurred_us) and r.activity in (None, a.activity)
        ]

    def answers(self, organizer: str | None = None) -> list[tuple[str, Answered]]:
        """Every answer DSOM gave, with its organizer."""
        return [
            (org.code, ans)
            for org in self.orgs
            if organizer in (None, org.code)
            for ans in org.answers
        ]


def _sorted(rows: dict[tuple[Any, ...], list[Any]]) -> list[list[Any]]:
    return [values for _, values in sorted(rows.items())]


# --- the reports, recomputed ---------------------------------------------------------------


def market_volumes(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md market-volumes."""
    rows: dict[tuple[Any, ...], list[Any]] = {}
    index = {"bet": 2, "win": 4, "refund": 6}
    for _org, a in seen.accepted(r, index):
        start, period = bucket(a.occurred_us, r.granularity)
        row = rows.setdefault((start, a.activity), [period, a.activity, 0, 0, 0, 0, 0, 0])
        row[index[a.op["type"]]] += 1
        row[index[a.op["type"]] + 1] += a.op["amount"]
    return _sorted(rows)


def ggr(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md ggr: stakes − refunded − payouts by period, organizer, activity."""
    rows: dict[tuple[Any, ...], list[Any]] = {}
    column = {"bet": 3, "refund": 4, "win": 5}
    for org, a in seen.accepted(r, column):
        start, period = bucket(a.occurred_us, r.granularity)
        row = rows.setdefault((start, org, a.activity), [period, org, a.activity, 0, 0, 0, 0])
        row[column[a.op["type"]]] += a.op["amount"]
    for row in rows.values():
        row[6] = row[3] - row[4] - row[5]
    return _sorted(rows)


def payments(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md payments."""
    rows: dict[tuple[Any, ...], list[Any]] = {}
    column = {"deposit": 2, "withdrawal": 4}
    for org, a in seen.accepted(r, column):
        start, period = bucket(a.occurred_us, r.granularity)
        row = rows.setdefault((start, org), [period, org, 0, 0, 0, 0, 0])
        row[column[a.op["type"]]] += 1
        row[column[a.op["type"]] + 1] += a.op["amount"]
    for row in rows.values():
        row[6] = row[3] - row[5]
    return _sorted(rows)


def winnings_tax(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md winnings-tax: per win, each tax half up; their sums."""
    rows: dict[tuple[Any, ...], list[Any]] = {}
    for org, a in seen.accepted(r, ["win"]):
        start, period = bucket(a.occurred_us, r.granularity)
        row = rows.setdefault((start, org), [period, org, 0, 0, 0, 0, 0])
        amount = a.op["amount"]
        pit, levy = tax_half_up(amount, "0.18"), tax_half_up(amount, "0.05")
        row[2] += 1
        row[3] += amount
        row[4] += pit
        row[5] += levy
        row[6] += pit + levy
    return _sorted(rows)


def player_activity(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md player-activity: distinct (organizer, player) with a bet, exact."""
    players: dict[tuple[Any, ...], set[tuple[str, str]]] = defaultdict(set)
    rows: dict[tuple[Any, ...], list[Any]] = {}
    for org, a in seen.accepted(r, ["bet"]):
        start, period = bucket(a.occurred_us, r.granularity)
        players[(start, a.activity)].add((org, a.op["player_id"]))
        row = rows.setdefault((start, a.activity), [period, a.activity, 0, 0, 0, 0])
        row[3] += 1
        row[4] += a.op["amount"]
    for key, row in rows.items():
        row[2] = len(players[key])
        row[5] = int(half_up(Decimal(row[4]) / Decimal(row[2])))
    return _sorted(rows)


def market_share(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md market-share: the denominator is every organizer's market."""
    whole = Range(r.start_us, r.end_us, activity=r.activity)
    figures: dict[tuple[str, str], list[int]] = {}
    market: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for org, a in seen.accepted(whole, ["bet", "win", "refund"]):
        f = figures.setdefault((a.activity, org), [0, 0])
        amount = a.op["amount"]
        stakes = amount if a.op["type"] == "bet" else 0
        revenue = amount if a.op["type"] == "bet" else -amount
        f[0] += stakes
        f[1] += revenue
        market[a.activity][0] += stakes
        market[a.activity][1] += revenue

    def share(part: int, total: int) -> float | None:
        if total <= 0:
            return None
        return float(half_up(Decimal(part) * 100 / Decimal(total), "0.01"))

    return [
        [activity, org, stakes, revenue, share(stakes, market[activity][0]),
         share(revenue, market[activity][1])]
        for (activity, org), (stakes, revenue) in sorted(figures.items())
        if r.organizer in (None, org)
    ]  # fmt: skip


def large_wins_(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md large-wins: wins of at least the threshold, with bet and player."""
    rows = []
    for org, a in seen.accepted(r, ["win"]):
        if a.op["amount"] >= r.threshold:
            op = a.op
            rows.append(
                (
                    (a.occurred_us, org, op["operation_id"]),
                    [kyiv_text(a.occurred_us), org, op["operation_id"], op["license"],
                     a.activity, op["bet_id"], op["player_id"], op["amount"]],
                )
            )  # fmt: skip
    return [row for _, row in sorted(rows)]


def rejections(seen: Seen, r: Range) -> list[list[Any]]:
    """reports.md rejections: by the time received, organizer and code."""
    rows: dict[tuple[Any, ...], list[Any]] = {}
    for org, ans in seen.answers(r.organizer):
        if not r.has(ans.received_us):
            continue
        start, period = bucket(ans.received_us, r.granularity)
        for code in ans.codes:
            rows.setdefault((start, org, code), [period, org, code, 0])[3] += 1
    return _sorted(rows)


LICENCE_CODES = {"unknown_license", "license_inactive", "game_type_not_licensed"}
CHANNEL_CODES = {"unknown_channel", "channel_inactive"}


def online_since(seen: Seen, organizer: str) -> datetime | None:
    """From when the organizer held an active online licence (None: never); the tests'
    licences never change status, so the earliest validity start of an online one."""
    starts = [
        kyiv_midnight(lic.valid_from)
        for lic in seen.licences
        if lic.organizer == organizer and lic.online and lic.status == "active"
    ]
    return min(starts) if starts else None


def compliance(seen: Seen, r: Range, now_us: int) -> list[list[Any]]:
    """reports.md compliance; silent hours: the range's hours that have ended, starting
    while an online licence was active, with no operation occurring in them."""
    every = ["bet", "win", "refund", "deposit", "withdrawal"]
    rows = []
    for org in sorted(o.code for o in seen.orgs):
        if r.organizer not in (None, org):
            continue
        mine = seen.accepted(Range(r.start_us, r.end_us, organizer=org), every)
        late = sum(1 for _, a in mine if a.received_us - a.occurred_us > 15 * MINUTE_US)
        codes = [c for _, ans in seen.answers(org) if r.has(ans.received_us) for c in ans.codes]
        since = online_since(seen, org)
        silent = 0
        if since is not None:
            busy = {a.occurred_us // HOUR_US for _, a in mine}
            for hour in range(r.start_us // HOUR_US, r.end_us // HOUR_US):
                ended = (hour + 1) * HOUR_US <= now_us
                if ended and hour * HOUR_US >= us_of(since) and hour not in busy:
                    silent += 1
        figures = [
            late,
            sum(c in LICENCE_CODES for c in codes),
            sum(c in CHANNEL_CODES for c in codes),
            silent,
        ]
        if any(figures):
            rows.append([org, *figures])
    return rows


def licenses(seen: Seen, r: Range, registered_us: int) -> list[list[Any]]:
    """reports.md licenses: as the register stood at `to`, expiring within 90 days of it."""
    rows: dict[tuple[Any, ...], list[Any]] = {}
    if r.end_us < registered_us:
        return []
    for lic in seen.licences:
        if r.organizer not in (None, lic.organizer) or r.activity not in (None, lic.activity):
            continue
        row = rows.setdefault((lic.activity, lic.status), [lic.activity, lic.status, 0, 0])
        row[2] += 1
        ends = us_of(kyiv_midnight(lic.valid_to + timedelta(days=1)))
        if lic.status == "active" and r.end_us <= ends < r.end_us + 90 * 24 * HOUR_US:
            row[3] += 1
    return _sorted(rows)


def submission_health(seen: Seen, organizer: str | None, now_us: int) -> list[list[Any]]:
    """reports.md submission-health at `now_us`: last hour = this clock hour and the one
    before; today = since Kyiv midnight."""
    hour = now_us // HOUR_US
    today = us_of(kyiv_midnight(instant(now_us).astimezone(KYIV).date()))
    rows = []
    for org in sorted(o.code for o in seen.orgs):
        if organizer not in (None, org):
            continue
        answers = [ans for _, ans in seen.answers(org)]
        last = max((ans.received_us for ans in answers), default=None)
        accepted_hour = sum(a.accepted for a in answers if a.received_us // HOUR_US >= hour - 1)
        accepted_today = sum(a.accepted for a in answers if a.received_us >= today)
        received_today = sum(a.received for a in answers if a.received_us >= today)
        rejected_today = sum(a.rejected for a in answers if a.received_us >= today)
        online = online_since(seen, org)
        if online is not None and (last is None or last < now_us - 60 * MINUTE_US):
            status = "silent"
        elif received_today and Decimal(rejected_today) / received_today > Decimal("0.05"):
            status = "degraded"
        else:
            status = "ok"
        if last is None and online is None:
            continue
        rows.append(
            [org, kyiv_text(last) if last is not None else None, accepted_hour, accepted_today,
             rejected_today, status]
        )  # fmt: skip
    return rows


def system_status_counts(seen: Seen, now_us: int) -> dict[str, int]:
    """The counted figures of system-status (those the test can know)."""
    hour = now_us // HOUR_US
    answers = seen.answers()
    recent = [(org, a) for org, a in answers if a.received_us // HOUR_US >= hour - 1]
    return {
        "accepted_last_hour": sum(a.accepted for _, a in recent),
        "accepted_total": sum(a.accepted for _, a in answers),
        "rejected_last_hour": sum(a.rejected for _, a in recent),
        "organizers_reporting_last_hour": len({org for org, _ in recent}),
    }
