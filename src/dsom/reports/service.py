"""The twelve reports: one query function each, over the rollups and the registers.

`run` is what the API and the pages call: it finds the report (404), checks who may see
it and parses the parameters (`params.parse`: 403/400, and an organizer's person scoped
to its own organizer, the one place that does it), and reads everything in one
snapshot of the database, so a report's rows agree with each other. Rows are ordered by
the key columns (periods chronologically, text alphabetically); a combination of keys
with nothing in it has no row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from dsom import __version__
from dsom.auth.principal import Principal
from dsom.ingest.rules import FUTURE_TOLERANCE_US
from dsom.ingest.state import day_start_us, to_us
from dsom.kit.errors import NotFound
from dsom.kit.settings import Settings
from dsom.kit.time import KYIV, kyiv_midnight, utcnow
from dsom.reports import repository as repo
from dsom.reports.declarations import REPORT_LIST, REPORTS, Report, granted
from dsom.reports.live import Live
from dsom.reports.params import Query, parse
from dsom.reports.periods import (
    HOUR_US,
    Granularity,
    bucket_end,
    bucket_of_day,
    bucket_of_hour,
    day_of_hour,
    hour_at,
    hour_of,
    label,
    split,
)

Row = list[Any]
NEVER = -(2**62)
FOREVER = 2**62
LICENCE_CODES = ("unknown_license", "license_inactive", "game_type_not_licensed")
CHANNEL_CODES = ("unknown_channel", "channel_inactive")
ALWAYS_ONLINE = frozenset({"online_casino", "online_poker"})  # bookmaking: with a site or app
SILENT_AFTER_US = 60 * 60 * 1_000_000
DEGRADED_OVER = 20  # degraded: over 1/20 (5 %) of today's received operations rejected
EXPIRING_WITHIN = timedelta(days=90)


@dataclass
class Table:
    """A report's answer: its declaration, the parameters it was run with, its rows."""

    report: Report
    query: Query
    rows: list[Row]

    @property
    def columns(self) -> list[str]:
        """The column ids, in order."""
        return self.report.column_ids

    def as_json(self) -> dict[str, Any]:
        """reports.md's JSON answer."""
        return {"report": self.report.id, "columns": self.columns, "rows": self.rows}


def report_of(report_id: str) -> Report:
    """The report with this id, or 404."""
    report = REPORTS.get(report_id)
    if report is None:
        raise NotFound(f"there is no report {report_id!r}")
    return report


def visible(principal: Principal) -> list[Report]:
    """The reports `principal` may see, in reports.md's order."""
    return [r for r in REPORT_LIST if granted(r, principal.permissions)]


def run(
    engine: Engine,
    report_id: str,
    principal: Principal,
    raw: Mapping[str, str],
    *,
    settings: Settings,
    live: Live,
    now: datetime | None = None,
) -> Table:
    """One report for `principal` with the query-string parameters `raw`."""
    report = report_of(report_id)
    query = parse(report, raw, principal, settings, now or utcnow())
    with snapshot(engine) as conn:
        rows = QUERIES[report.id](conn, query, live)
    return Table(report, query, rows)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one state of the database throughout."""
    with engine.connect() as plain:
        conn = plain
        if plain.dialect.name == "postgresql":
            conn = plain.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


# --- arithmetic ------------------------------------------------------------------------------


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up (half away from zero), denominator > 0."""
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return quotient if numerator >= 0 else -quotient


def share_pct(part: int, whole: int) -> float | None:
    """part / whole in percent, rounded half up to 2 decimals; None if whole ≤ 0."""
    if whole <= 0:
        return None
    return half_up_div(part * 10_000, whole) / 100


def instant(us: int) -> str:
    """Epoch microseconds as ISO 8601 in Kyiv time, with the offset and microseconds."""
    value = datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)
    return value.astimezone(KYIV).isoformat(timespec="microseconds")


# --- operations by period ----------------------------------------------------------------------

# [count, amount, late, income_tax, military_levy] by type
Figures = dict[str, list[int]]


def _sums_by_bucket(
    conn: Connection,
    query: Query,
    types: tuple[str, ...],
    *,
    by_organizer: bool,
    organizer: str | None = None,
    granularity: Granularity | None = None,
) -> dict[tuple[int, str, str], Figures]:
    """{(bucket start hour, organizer or "", activity): figures by type} over the range;
    `granularity` None: the whole range as one bucket (start hour 0)."""
    kw: dict[str, Any] = {
        "types": types,
        "organizer": organizer,
        "activity": query.activity,
        "by_organizer": by_organizer,
    }
    if granularity == "hour":
        rows: Iterable[repo.Sums] = repo.hourly_sums(conn, query.start_hour, query.end_hour, **kw)
    else:
        kw["by_period"] = granularity is not None
        rows = repo.sums(conn, split(query.start_hour, query.end_hour), **kw)
    found: dict[tuple[int, str, str], Figures] = {}
    for day, hour, org, activity, kind, *values in rows:
        if granularity is None:
            bucket = 0
        elif day is not None:
            bucket = bucket_of_day(day, granularity)
        else:
            assert hour is not None
            bucket = bucket_of_hour(hour, granularity)
        figures = found.setdefault((bucket, org, activity), {})
        held = figures.get(kind)
        if held is None:
            figures[kind] = values
        else:
            for i, value in enumerate(values):
                held[i] += value
    return found


def _merge_activities(
    found: dict[tuple[int, str, str], Figures],
) -> dict[tuple[int, str], Figures]:
    merged: dict[tuple[int, str], Figures] = {}
    for (bucket, org, _activity), figures in found.items():
        into = merged.setdefault((bucket, org), {})
        for kind, values in figures.items():
            held = into.setdefault(kind, [0, 0, 0, 0, 0])
            for i, value in enumerate(values):
                held[i] += value
    return merged


ZERO = (0, 0, 0, 0, 0)


def _fig(figures: Figures, kind: str) -> list[int] | tuple[int, ...]:
    return figures.get(kind, ZERO)


def market_volumes(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Bets, wins and refunds by period and activity."""
    found = _sums_by_bucket(
        conn,
        q,
        ("bet", "win", "refund"),
        by_organizer=False,
        organizer=q.organizer,
        granularity=q.granularity,
    )
    rows = []
    for (bucket, _, activity), f in sorted(found.items()):
        bets, wins, refunds = _fig(f, "bet"), _fig(f, "win"), _fig(f, "refund")
        rows.append(
            [label(bucket), activity, bets[0], bets[1], wins[0], wins[1], refunds[0], refunds[1]]
        )
    return rows


def ggr(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Stakes, refunds, payouts and GGR by period, organizer and activity."""
    found = _sums_by_bucket(
        conn,
        q,
        ("bet", "win", "refund"),
        by_organizer=True,
        organizer=q.organizer,
        granularity=q.granularity,
    )
    rows = []
    for (bucket, org, activity), f in sorted(found.items()):
        stakes, payouts, refunded = _fig(f, "bet")[1], _fig(f, "win")[1], _fig(f, "refund")[1]
        rows.append(
            [label(bucket), org, activity, stakes, refunded, payouts, stakes - refunded - payouts]
        )
    return rows


def payments(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Deposits and withdrawals by period and organizer."""
    found = _sums_by_bucket(
        conn,
        q,
        ("deposit", "withdrawal"),
        by_organizer=True,
        organizer=q.organizer,
        granularity=q.granularity,
    )
    rows = []
    for (bucket, org), f in sorted(_merge_activities(found).items()):
        deposits, withdrawals = _fig(f, "deposit"), _fig(f, "withdrawal")
        rows.append(
            [
                label(bucket),
                org,
                deposits[0],
                deposits[1],
                withdrawals[0],
                withdrawals[1],
                deposits[1] - withdrawals[1],
            ]
        )
    return rows


def winnings_tax(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Wins, payouts and the taxes to withhold from them, by period and organizer."""
    found = _sums_by_bucket(
        conn, q, ("win",), by_organizer=True, organizer=q.organizer, granularity=q.granularity
    )
    rows = []
    for (bucket, org), f in sorted(_merge_activities(found).items()):
        count, amount, _late, income_tax, levy = _fig(f, "win")
        rows.append([label(bucket), org, count, amount, income_tax, levy, income_tax + levy])
    return rows


def market_share(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Each organizer's share of stakes and GGR per activity over the whole range; the
    market (the denominator) is every organizer, whatever the organizer filter."""
    found = _sums_by_bucket(conn, q, ("bet", "win", "refund"), by_organizer=True)
    market: dict[str, list[int]] = {}
    figures: dict[tuple[str, str], tuple[int, int]] = {}
    for (_, org, activity), f in found.items():
        stakes = _fig(f, "bet")[1]
        revenue = stakes - _fig(f, "refund")[1] - _fig(f, "win")[1]
        total = market.setdefault(activity, [0, 0])
        total[0] += stakes
        total[1] += revenue
        figures[(activity, org)] = (stakes, revenue)
    rows = []
    for (activity, org), (stakes, revenue) in sorted(figures.items()):
        if q.organizer is not None and org != q.organizer:
            continue
        total_stakes, total_ggr = market[activity]
        rows.append(
            [
                activity,
                org,
                stakes,
                revenue,
                share_pct(stakes, total_stakes),
                share_pct(revenue, total_ggr),
            ]
        )
    return rows


# --- players -----------------------------------------------------------------------------------


def player_activity(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Active players, bets, stakes and the average stake per player, by period and
    activity."""
    found = _sums_by_bucket(
        conn, q, ("bet",), by_organizer=False, organizer=q.organizer, granularity=q.granularity
    )
    players = _players(conn, q)
    rows = []
    for (bucket, _, activity), f in sorted(found.items()):
        bets, stakes = _fig(f, "bet")[:2]
        if not bets:
            continue
        active = players.get((bucket, activity), 0)
        average = half_up_div(stakes, active) if active else None
        rows.append([label(bucket), activity, active, bets, stakes, average])
    return rows


def _players(conn: Connection, q: Query) -> dict[tuple[int, str], int]:
    """{(bucket start hour, activity): distinct (organizer, player) with a bet}.

    Hours, whole days and whole months come from the counts kept at ingest; a day or
    month the range cuts, from the player rows of its whole days and its hours. A bucket
    the range ends inside counts as whole when nothing can have occurred after the
    range's end yet (no operation is accepted more than 5 minutes ahead of its receipt):
    the current month up to tomorrow is whole.
    """
    g = q.granularity
    organizers = [q.organizer] if q.organizer else repo.organizers(conn)
    if g == "hour":
        return repo.players_by_hour(
            conn, q.start_hour, q.end_hour, organizer=q.organizer, activity=q.activity
        )
    horizon_us = to_us(q.now) + FUTURE_TOLERANCE_US
    whole: list[int] = []
    cut: list[tuple[int, int, int]] = []  # (bucket, first hour, end hour)
    bucket = bucket_of_hour(q.start_hour, g)
    while bucket < q.end_hour:
        end = bucket_end(bucket, g)
        first, last = max(bucket, q.start_hour), min(end, q.end_hour)
        if first == bucket and (last == end or last * HOUR_US >= horizon_us):
            whole.append(bucket)
        else:
            cut.append((bucket, first, last))
        bucket = end
    counts: dict[tuple[int, str], int] = {}
    kw: dict[str, Any] = {"organizer": q.organizer, "activity": q.activity}
    if whole and g == "day":
        whole_days = [day_of_hour(b) for b in whole]
        wanted = set(whole_days)
        for day, activity, n in repo.players_by_day(
            conn, min(whole_days), max(whole_days) + timedelta(days=1), **kw
        ):
            if day in wanted:
                counts[(hour_at(day), activity)] = n
    elif whole:
        months = [day_of_hour(b) for b in whole]
        for month, activity, n in repo.players_by_month(conn, months, **kw):
            counts[(hour_at(month), activity)] = n
    if cut:
        for bucket, first, last in cut:
            part = split(first, last)
            days = None
            if part.first_day is not None and part.end_day is not None:
                days = (part.first_day, part.end_day)
            found = repo.players_in(
                conn,
                days=days,
                hours=part.edges,
                organizers=organizers,
                activity=q.activity,
            )
            for activity, n in found.items():
                counts[(bucket, activity)] = n
    return counts


# --- rejections, compliance, submissions -------------------------------------------------------


def rejections(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Rejected operations by period of receipt, organizer and code."""
    found = repo.rejections(
        conn, q.start_hour, q.end_hour, organizer=q.organizer, granularity=q.granularity
    )
    return [[label(b), org, code, n] for b, org, code, n in sorted(found)]


def compliance(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Late operations, licence and channel rejections and silent hours, by organizer."""
    late = repo.late_by_organizer(conn, split(q.start_hour, q.end_hour), organizer=q.organizer)
    licence: dict[str, int] = {}
    channel: dict[str, int] = {}
    for _hour, org, code, count in repo.rejections(
        conn,
        q.start_hour,
        q.end_hour,
        organizer=q.organizer,
        codes=LICENCE_CODES + CHANNEL_CODES,
    ):
        into = licence if code in LICENCE_CODES else channel
        into[org] = into.get(org, 0) + count
    silent = silent_hours(conn, q)
    rows = []
    for org in sorted(set(late) | set(licence) | set(channel) | set(silent)):
        figures = [late.get(org, 0), licence.get(org, 0), channel.get(org, 0), silent.get(org, 0)]
        if any(figures):
            rows.append([org, *figures])
    return rows


def silent_hours(conn: Connection, q: Query) -> dict[str, int]:
    """For each organizer, the hours of the range that have ended in which it held an
    active online licence (at the hour's start) and has no operation."""
    end = min(q.end_hour, hour_of(q.now))
    if end <= q.start_hour:
        return {}
    intervals = online_intervals(conn, q.organizer)
    spans: dict[str, list[tuple[int, int]]] = {}
    for org, active in intervals.items():
        for start_us, end_us in active:
            # the hours whose start lies in [start_us, end_us), within the range
            first = max(-(-start_us // HOUR_US), q.start_hour)
            last = min(-(-end_us // HOUR_US), end)
            if first < last:
                spans.setdefault(org, []).append((first, last))
    found = {}
    for org, hours in spans.items():
        silent = sum(
            last - first - repo.hours_with_operations(conn, org, first, last)
            for first, last in hours
        )
        if silent:
            found[org] = silent
    return found


def online_intervals(conn: Connection, organizer: str | None) -> dict[str, list[tuple[int, int]]]:
    """For each organizer, the instants (epoch µs, `[start, end)`, merged) when it held an
    active online licence: online_casino or online_poker, or bookmaking with an active
    website or mobile app. As the ingest rules read the registers: an entry's first
    version also governs the past, each later one from the moment it was recorded, and a
    licence is active only within its validity dates."""
    channels: dict[str, list[tuple[int, int]]] = {}
    for versions in _versions(repo.online_channel_versions(conn, organizer), ("register", "id")):
        for v, since, until in versions:
            if v["status"] == "active":
                channels.setdefault(v["licence"], []).append((since, until))
    licences = repo.licence_versions(conn, ALWAYS_ONLINE | {"bookmaking"}, organizer)
    found: dict[str, list[tuple[int, int]]] = {}
    for versions in _versions(licences, ("number",)):
        active: list[tuple[int, int]] = []
        for v, since, until in versions:
            if v["status"] != "active":
                continue
            valid_from = day_start_us(v["valid_from"])
            valid_until = day_start_us(v["valid_to"] + timedelta(days=1))
            start, end = max(since, valid_from), min(until, valid_until)
            if start < end:
                active.append((start, end))
        last = versions[-1][0]
        if last["activity"] not in ALWAYS_ONLINE:
            active = _intersect(active, _union(channels.get(last["number"], [])))
        if active:
            found.setdefault(last["organizer"], []).extend(active)
    return {org: _union(spans) for org, spans in found.items()}


def _versions(
    rows: list[dict[str, Any]], key: tuple[str, ...]
) -> Iterator[list[tuple[dict[str, Any], int, int]]]:
    """Each entry's versions with the instants `[since, until)` each governed."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in key), []).append(row)
    for versions in groups.values():
        versions.sort(key=lambda v: v["version"])
        starts = [NEVER] + [to_us(v["recorded_at"]) for v in versions[1:]]
        ends = [*starts[1:], FOREVER]
        yield list(zip(versions, starts, ends, strict=True))


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2)]


def submission_health(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Each organizer's last request, what was accepted in the last hour (the current
    clock hour and the one before) and today, what was rejected today, and its status."""
    now_us, now_hour = to_us(q.now), hour_of(q.now)
    today = hour_of(kyiv_midnight(q.now.astimezone(KYIV).date()))
    figures: dict[str, list[int]] = {}  # accepted last hour, accepted, received, rejected today
    for s in repo.submissions(conn, min(today, now_hour - 1), organizer=q.organizer):
        f = figures.setdefault(s.organizer, [0, 0, 0, 0])
        if s.hour >= now_hour - 1:
            f[0] += s.accepted
        if s.hour >= today:
            f[1] += s.accepted
            f[2] += s.received
            f[3] += s.rejected
    last = repo.last_received(conn, q.organizer)
    online = {
        org
        for org, spans in online_intervals(conn, q.organizer).items()
        if any(start <= now_us < end for start, end in spans)
    }
    rows = []
    for org in sorted(set(last) | online | set(figures)):
        accepted_hour, accepted_today, received_today, rejected_today = figures.get(
            org, [0, 0, 0, 0]
        )
        received = last.get(org)
        if org in online and (received is None or received < now_us - SILENT_AFTER_US):
            status = "silent"
        elif rejected_today * DEGRADED_OVER > received_today:
            status = "degraded"
        else:
            status = "ok"
        rows.append(
            [
                org,
                instant(received) if received is not None else None,
                accepted_hour,
                accepted_today,
                rejected_today,
                status,
            ]
        )
    return rows


def system_status(conn: Connection, q: Query, live: Live) -> list[Row]:
    """One row: DSOM's throughput, answer times, size and age."""
    now_hour = hour_of(q.now)
    accepted = rejected = 0
    reporting = set()
    for s in repo.submissions(conn, now_hour - 1, organizer=None):
        accepted += s.accepted
        rejected += s.rejected
        if s.requests:
            reporting.add(s.organizer)
    total = repo.accepted_total(conn)
    last_minute = live.throughput.last_minute(total) if live.throughput else None
    p50, p99 = percentile_ms(live.latencies, 0.50), percentile_ms(live.latencies, 0.99)
    return [
        [
            last_minute,
            accepted,
            total,
            rejected,
            p50,
            p99,
            len(reporting),
            repo.database_bytes(conn),
            int(time.monotonic() - live.started),
            __version__,
        ]
    ]


def percentile_ms(seconds: Iterable[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of answer times, in milliseconds to 0.1; None if none."""
    ordered = sorted(seconds)
    if not ordered:
        return None
    value = ordered[max(math.ceil(q * len(ordered)) - 1, 0)]
    return round(value * 1000, 1)


# --- registers ---------------------------------------------------------------------------------


def licenses(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Licences by activity and status as the register recorded them at the range's end,
    and how many active ones end their validity within 90 days of it."""
    counts: dict[tuple[str, str], list[int]] = {}
    for activity, status, valid_to in repo.licences_as_of(
        conn, q.end, organizer=q.organizer, activity=q.activity
    ):
        figures = counts.setdefault((activity, status), [0, 0])
        figures[0] += 1
        ends = kyiv_midnight(valid_to + timedelta(days=1))
        if status == "active" and q.end <= ends < q.end + EXPIRING_WITHIN:
            figures[1] += 1
    return [
        [activity, status, n, expiring]
        for (activity, status), (n, expiring) in sorted(counts.items())
    ]


def large_wins(conn: Connection, q: Query, _live: Live) -> list[Row]:
    """Wins of at least the threshold, with their bet and player."""
    found = repo.large_win_rows(
        conn,
        to_us(q.start),
        to_us(q.end),
        threshold=q.threshold,
        organizer=q.organizer,
        activity=q.activity,
    )
    found.sort(key=lambda r: (r[0], r[1], r[2]))
    return [[instant(r[0]), *r[1:]] for r in found]


QUERIES: dict[str, Callable[[Connection, Query, Live], list[Row]]] = {
    "system-status": system_status,
    "submission-health": submission_health,
    "rejections": rejections,
    "licenses": licenses,
    "compliance": compliance,
    "large-wins": large_wins,
    "market-volumes": market_volumes,
    "player-activity": player_activity,
    "market-share": market_share,
    "ggr": ggr,
    "payments": payments,
    "winnings-tax": winnings_tax,
}
