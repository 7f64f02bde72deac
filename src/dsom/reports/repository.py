"""All SQL of the reports: rollups and small register tables, never the stored operations
(large wins through their own table, distinct players through the player tables kept at
ingest).

Every rollup is keyed organizer first, (organizer, hour, …) or (organizer, day, …): a
range of hours or days across all organizers is read as `organizer IN (every
organizer) AND hour BETWEEN …`, so that both databases walk the primary key instead of
the whole table, however much history it holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from dsom.ingest.models import (
    large_wins,
    operation_blocks,
    operations_hourly,
    players_daily,
    players_hourly,
    rejections_hourly,
    submissions_hourly,
)
from dsom.ingest.players import unpack
from dsom.registers.models import CURRENT, HISTORY
from dsom.reports.models import (
    operations_daily,
    operations_hours,
    players_daily_counts,
    players_hourly_counts,
    players_monthly_counts,
    rejections_daily,
)
from dsom.reports.periods import (
    EPOCH_DAY,
    Granularity,
    Split,
    bucket_of_day,
    hour_at,
    month_starts,
    offsets,
    split,
)

SUMS = ("count", "amount", "late", "income_tax", "military_levy")


def _sum(column: Any) -> ColumnElement[int]:
    # PostgreSQL sums bigints as numeric: bring them back as integers.
    return cast(func.sum(column), BigInteger)


def organizers(conn: Connection) -> list[str]:
    """Every organizer's EDRPOU code (operations exist only for registered ones)."""
    table = CURRENT["organizers"]
    return list(conn.execute(select(table.c.edrpou).order_by(table.c.edrpou)).scalars())


def _organizers_in(column: Any, organizer: str | None) -> ColumnElement[bool]:
    """`organizer = ?`, or `IN (every organizer)`: either way the primary key is walked."""
    if organizer is not None:
        return column == organizer  # type: ignore[no-any-return]
    return column.in_(select(CURRENT["organizers"].c.edrpou))  # type: ignore[no-any-return]


# --- operations: daily and hourly sums --------------------------------------------------------


# One (day or hour, organizer, activity, type) of the rollups: (a whole Kyiv day or None,
# an hour or None, organizer, activity, type, count, amount, late, income_tax,
# military_levy). Plain tuples: a month's report reads thousands.
Sums = tuple[date | None, int | None, str, str, str, int, int, int, int, int]


def sums(
    conn: Connection,
    split: Split,
    *,
    types: Sequence[str],
    organizer: str | None,
    activity: str | None,
    by_organizer: bool = True,
    by_period: bool = True,
) -> Iterator[Sums]:
    """The rollups over a split range: whole days from `operations_daily`, edge hours from
    `operations_hourly`; by organizer unless told (then `organizer` is ""), by day and
    hour unless told (then both are None: the whole range at once)."""
    if split.first_day is not None:
        d = operations_daily.c
        groups: list[Any] = [
            *([d.day] if by_period else []),
            *([d.organizer] if by_organizer else []),
            d.activity,
            d.type,
        ]
        keys: list[Any] = [
            cast(d.day, String) if by_period else literal(None),  # text: parsed once a day
            d.organizer if by_organizer else literal(""),
            d.activity,
            d.type,
        ]
        stmt = select(*keys, *(_sum(d[c]) for c in SUMS)).where(
            _organizers_in(d.organizer, organizer),
            d.day >= split.first_day,
            d.day < split.end_day,
            d.type.in_(types),
        )
        if activity is not None:
            stmt = stmt.where(d.activity == activity)
        for day, *rest in conn.execute(stmt.group_by(*groups)).all():
            yield (_day(day) if by_period else None, None, *rest)
    for first, end in split.edges:
        yield from hourly_sums(
            conn,
            first,
            end,
            types=types,
            organizer=organizer,
            activity=activity,
            by_organizer=by_organizer,
            by_period=by_period,
        )


def hourly_sums(
    conn: Connection,
    first: int,
    end: int,
    *,
    types: Sequence[str],
    organizer: str | None,
    activity: str | None,
    by_organizer: bool = True,
    by_period: bool = True,
) -> Iterator[Sums]:
    """`operations_hourly` summed over licences, for the hours `[first, end)`."""
    h = operations_hourly.c
    keys: list[Any] = [
        h.hour if by_period else literal(None),
        h.organizer if by_organizer else literal(""),
        h.activity,
        h.type,
    ]
    groups: list[Any] = [
        *([h.hour] if by_period else []),
        *([h.organizer] if by_organizer else []),
        h.activity,
        h.type,
    ]
    stmt = select(*keys, *(_sum(h[c]) for c in SUMS)).where(
        _organizers_in(h.organizer, organizer), h.hour >= first, h.hour < end, h.type.in_(types)
    )
    if activity is not None:
        stmt = stmt.where(h.activity == activity)
    for row in conn.execute(stmt.group_by(*groups)).all():
        yield (None, *row)


@lru_cache(maxsize=10_000)
def _day(text: str) -> date:
    return date.fromisoformat(text)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def hours_with_operations(conn: Connection, organizer: str, first: int, end: int) -> int:
    """How many hours of `[first, end)` hold an operation of the organizer."""
    h = operations_hours.c
    stmt = select(func.count()).where(h.organizer == organizer, h.hour >= first, h.hour < end)
    return int(conn.execute(stmt).scalar_one())


def late_by_organizer(conn: Connection, split: Split, *, organizer: str | None) -> dict[str, int]:
    """Late operations of each organizer over a split range."""
    late: dict[str, int] = {}
    if split.first_day is not None:
        d = operations_daily.c
        stmt = select(d.organizer, _sum(d.late)).where(
            _organizers_in(d.organizer, organizer),
            d.day >= split.first_day,
            d.day < split.end_day,
            d.late > 0,
        )
        for org, n in conn.execute(stmt.group_by(d.organizer)).all():
            late[org] = late.get(org, 0) + n
    h = operations_hourly.c
    for first, end in split.edges:
        stmt = select(h.organizer, _sum(h.late)).where(
            _organizers_in(h.organizer, organizer), h.hour >= first, h.hour < end, h.late > 0
        )
        for org, n in conn.execute(stmt.group_by(h.organizer)).all():
            late[org] = late.get(org, 0) + n
    return late


# --- rejections and submissions (by the hour received) -----------------------------------------


def bucket_sql(column: Any, granularity: Granularity, first: int, end: int) -> Any:
    """An SQL expression of the bucket an epoch hour lies in, for hours of `[first, end)`:
    the hour itself; for a day, the Kyiv day's number since 1970-01-01 (the hour plus
    Kyiv's offset, over 24; the offsets from zoneinfo, one CASE branch per change); for a
    month, its start hour (one CASE branch per month)."""
    if granularity == "hour":
        return column
    if granularity == "day":
        segments = offsets(first, end)
        shift: Any = literal(segments[-1][1])
        if len(segments) > 1:
            branches = [(column < nxt[0], seg[1]) for seg, nxt in pairwise(segments)]
            shift = case(*branches, else_=segments[-1][1])
        return (column + shift) // 24
    starts = month_starts(first, end)
    if len(starts) == 1:
        return literal(starts[0])
    return case(*((column < nxt, start) for start, nxt in pairwise(starts)), else_=starts[-1])


def bucket_start(value: int, granularity: Granularity) -> int:
    """The start hour of a bucket `bucket_sql` gave."""
    if granularity == "day":
        return hour_at(EPOCH_DAY + timedelta(days=value))
    return value


def rejections(
    conn: Connection,
    first: int,
    end: int,
    *,
    organizer: str | None,
    granularity: Granularity | None = None,
    codes: Sequence[str] | None = None,
) -> list[tuple[int, str, str, int]]:
    """(bucket start hour, organizer, code, count) of operations rejected when received
    in `[first, end)`: whole Kyiv days from `rejections_daily`, the rest by the hour;
    granularity None: the whole range as one bucket (0)."""
    if granularity == "hour":
        return _hourly_rejections(conn, first, end, organizer, granularity, codes)
    part = split(first, end)
    found: dict[tuple[int, str, str], int] = {}
    if part.first_day is not None:
        r = rejections_daily.c
        stmt = select(cast(r.day, String), r.organizer, r.code, _sum(r.count)).where(
            _organizers_in(r.organizer, organizer), r.day >= part.first_day, r.day < part.end_day
        )
        if codes is not None:
            stmt = stmt.where(r.code.in_(codes))
        for day, org, code, n in conn.execute(stmt.group_by(r.day, r.organizer, r.code)).all():
            bucket = 0 if granularity is None else bucket_of_day(_day(day), granularity)
            found[(bucket, org, code)] = found.get((bucket, org, code), 0) + n
    for a, b in part.edges:
        for bucket, org, code, n in _hourly_rejections(conn, a, b, organizer, granularity, codes):
            found[(bucket, org, code)] = found.get((bucket, org, code), 0) + n
    return [(*key, n) for key, n in found.items()]


def _hourly_rejections(
    conn: Connection,
    first: int,
    end: int,
    organizer: str | None,
    granularity: Granularity | None,
    codes: Sequence[str] | None,
) -> list[tuple[int, str, str, int]]:
    r = rejections_hourly.c
    bucket = literal(0) if granularity is None else bucket_sql(r.hour, granularity, first, end)
    stmt = select(bucket, r.organizer, r.code, _sum(r.count)).where(
        _organizers_in(r.organizer, organizer), r.hour >= first, r.hour < end
    )
    if codes is not None:
        stmt = stmt.where(r.code.in_(codes))
    # By position: PostgreSQL would not match the bucket's bound parameters to themselves.
    groups: list[Any] = [literal_column(str(i)) for i in (1, 2, 3)]
    rows = conn.execute(stmt.group_by(*groups)).all()
    if granularity is None:
        return [(0, org, code, n) for _, org, code, n in rows]
    return [(bucket_start(int(b), granularity), org, code, n) for b, org, code, n in rows]


@dataclass(frozen=True, slots=True)
class Submitted:
    """What an organizer sent in one hour (of receipt)."""

    organizer: str
    hour: int
    requests: int
    received: int
    accepted: int
    duplicates: int
    rejected: int
    last_received_us: int


def submissions(conn: Connection, first: int, *, organizer: str | None) -> list[Submitted]:
    """Every organizer's submissions received from hour `first` on."""
    s = submissions_hourly.c
    stmt = select(
        s.organizer,
        s.hour,
        s.requests,
        s.received,
        s.accepted,
        s.duplicates,
        s.rejected,
        s.last_received_us,
    ).where(_organizers_in(s.organizer, organizer), s.hour >= first)
    return [Submitted(*row) for row in conn.execute(stmt).all()]


def last_received(conn: Connection, organizer: str | None) -> dict[str, int]:
    """When DSOM last received a request of each organizer (that ever sent one), epoch µs."""
    orgs, s = CURRENT["organizers"], submissions_hourly.c
    latest = (
        select(s.last_received_us)
        .where(s.organizer == orgs.c.edrpou)
        .order_by(s.hour.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = select(orgs.c.edrpou, latest)
    if organizer is not None:
        stmt = stmt.where(orgs.c.edrpou == organizer)
    return {org: us for org, us in conn.execute(stmt) if us is not None}


def accepted_total(conn: Connection) -> int:
    """Operations ever accepted: each organizer's ledger is gapless from 1, so its last
    seq is its count (one primary-key lookup per organizer)."""
    orgs, b = CURRENT["organizers"], operation_blocks.c
    last = (  # the organizer's last block, by its key: no scan of its blocks
        select(b.last_seq)
        .where(b.organizer == orgs.c.edrpou)
        .order_by(b.first_seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = conn.execute(select(last).select_from(orgs))
    return sum(int(seq) for (seq,) in rows if seq is not None)


# --- players -------------------------------------------------------------------------------------


def players_by_day(
    conn: Connection, first: date, end: date, *, organizer: str | None, activity: str | None
) -> list[tuple[date, str, int]]:
    """(day, activity, distinct players over all organizers) for whole days `[first, end)`."""
    c = players_daily_counts.c
    stmt = select(c.day, c.activity, _sum(c.players)).where(c.day >= first, c.day < end)
    stmt = _player_filters(stmt, c, organizer, activity).group_by(c.day, c.activity)
    return [(_as_date(day), act, n) for day, act, n in conn.execute(stmt)]


def players_by_month(
    conn: Connection, months: Sequence[date], *, organizer: str | None, activity: str | None
) -> list[tuple[date, str, int]]:
    """(month, activity, distinct players over all organizers) for whole months."""
    if not months:
        return []
    c = players_monthly_counts.c
    stmt = select(c.month, c.activity, _sum(c.players)).where(c.month.in_(list(months)))
    stmt = _player_filters(stmt, c, organizer, activity).group_by(c.month, c.activity)
    return [(_as_date(month), act, n) for month, act, n in conn.execute(stmt)]


def _player_filters(
    stmt: Select[Any], c: Any, organizer: str | None, activity: str | None
) -> Select[Any]:
    stmt = stmt.where(_organizers_in(c.organizer, organizer))
    if activity is not None:
        stmt = stmt.where(c.activity == activity)
    return stmt


def players_by_hour(
    conn: Connection, first: int, end: int, *, organizer: str | None, activity: str | None
) -> dict[tuple[int, str], int]:
    """{(hour, activity): distinct (organizer, player) with a bet} over hours `[first, end)`,
    from the hourly counts kept at ingest."""
    c = players_hourly_counts.c
    stmt = select(c.hour, c.activity, _sum(c.players)).where(c.hour >= first, c.hour < end)
    stmt = _player_filters(stmt, c, organizer, activity).group_by(c.hour, c.activity)
    return {(int(hour), act): int(n) for hour, act, n in conn.execute(stmt)}


def players_in(
    conn: Connection,
    *,
    days: tuple[date, date] | None,
    hours: Sequence[tuple[int, int]],
    organizers: Sequence[str],
    activity: str | None,
) -> dict[str, int]:
    """{activity: distinct (organizer, player) with a bet} in the whole Kyiv days
    `[days)` and the hours `hours` (`[first, end)` pairs) together: a bucket the range
    cuts, from the players the engine stored packed for each day and hour
    (ingest/players.py), united here."""
    p, h = players_daily.c, players_hourly.c
    counts: dict[str, int] = {}
    for org in organizers:
        parts: list[Any] = []
        if days is not None:
            parts.append(
                select(p.activity, p.player_ids).where(
                    p.organizer == org, p.day >= days[0], p.day < days[1]
                )
            )
        for first, end in hours:
            parts.append(
                select(h.activity, h.player_ids).where(
                    h.organizer == org, h.hour >= first, h.hour < end
                )
            )
        if activity is not None:
            parts = [part.where(part.selected_columns.activity == activity) for part in parts]
        players: dict[str, set[str]] = {}
        for part in parts:
            for act, ids in conn.execute(part):
                players.setdefault(act, set()).update(unpack(bytes(ids)))
        for act, found in players.items():
            counts[act] = counts.get(act, 0) + len(found)
    return counts


# --- large wins ----------------------------------------------------------------------------------


def large_win_rows(
    conn: Connection,
    from_us: int,
    to_us: int,
    *,
    threshold: int,
    organizer: str | None,
    activity: str | None,
) -> list[tuple[int, str, str, str, str, str, str, int]]:
    """(occurred µs, organizer, operation_id, licence, activity, bet_id, player_id, amount)
    of wins of at least `threshold` in `[from_us, to_us)`, through the large-wins index."""
    lw = large_wins.c
    stmt = select(
        lw.occurred_us,
        lw.organizer,
        lw.operation_id,
        lw.licence,
        lw.activity,
        lw.bet_id,
        lw.player_id,
        lw.amount,
    ).where(lw.occurred_us >= from_us, lw.occurred_us < to_us, lw.amount >= threshold)
    if organizer is not None:
        stmt = stmt.where(lw.organizer == organizer)
    if activity is not None:
        stmt = stmt.where(lw.activity == activity)
    return [tuple(row) for row in conn.execute(stmt).all()]


# --- registers -----------------------------------------------------------------------------------


def licences_as_of(
    conn: Connection, at: datetime, *, organizer: str | None, activity: str | None
) -> list[tuple[str, str, date]]:
    """(activity, status, valid_to) of every licence as the register recorded it at `at`."""
    h = HISTORY["licences"]
    stmt = select(h.c.activity, h.c.status, h.c.valid_to).where(
        h.c.recorded_at <= at, or_(h.c.superseded_at.is_(None), h.c.superseded_at > at)
    )
    if organizer is not None:
        stmt = stmt.where(h.c.organizer == organizer)
    if activity is not None:
        stmt = stmt.where(h.c.activity == activity)
    return [(act, status, _as_date(valid_to)) for act, status, valid_to in conn.execute(stmt)]


def licence_versions(
    conn: Connection, activities: Iterable[str], organizer: str | None
) -> list[dict[str, Any]]:
    """Every version of the licences of these activities, by number and version."""
    h = HISTORY["licences"]
    stmt = select(
        h.c.number,
        h.c.organizer,
        h.c.activity,
        h.c.status,
        h.c.valid_from,
        h.c.valid_to,
        h.c.version,
        h.c.recorded_at,
    ).where(h.c.activity.in_(sorted(activities)))
    if organizer is not None:
        stmt = stmt.where(h.c.organizer == organizer)
    rows = conn.execute(stmt.order_by(h.c.number, h.c.version)).mappings()
    return [dict(r) for r in rows]


def online_channel_versions(conn: Connection, organizer: str | None) -> list[dict[str, Any]]:
    """Every version of every website and mobile app (id, licence, status, when)."""
    found: list[dict[str, Any]] = []
    for name in ("websites", "mobile_apps"):
        h = HISTORY[name]
        stmt = select(
            literal(name).label("register"),
            h.c.id,
            h.c.organizer,
            h.c.licence,
            h.c.status,
            h.c.version,
            h.c.recorded_at,
        )
        if organizer is not None:
            stmt = stmt.where(h.c.organizer == organizer)
        found.extend(dict(r) for r in conn.execute(stmt.order_by(h.c.id, h.c.version)).mappings())
    return found


# --- the database itself ---------------------------------------------------------------------


def database_bytes(conn: Connection) -> int:
    """The size of the database: SQLite's file and its write-ahead log; PostgreSQL's
    `pg_database_size`."""
    if conn.dialect.name == "postgresql":
        return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())
    path = conn.engine.url.database
    if not path or path == ":memory:":
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(page_size) * int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
