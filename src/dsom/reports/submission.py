"""An organizer's data-submission status, for its office: what arrived, when, and what
was rejected with which code.

Read from the ingest rollups only (`submissions_hourly`, `rejections_hourly`, by the
hour DSOM received a request), never from the stored operations: the page costs a few
dozen rows however much an organizer sends. Hours are whole UTC hours; Kyiv's offsets
are whole hours, so "today" (since local midnight) is a whole number of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from dsom.auth.permissions import Permission
from dsom.auth.principal import Principal
from dsom.ingest.models import rejections_hourly, submissions_hourly
from dsom.kit.time import KYIV, kyiv_midnight, utcnow
from dsom.registers.models import CURRENT

HOUR_S = 3600
REJECTIONS_DAYS = 7

# protocol.md §2.2, in the order the rules are checked.
REJECTION_CODES = (
    "schema_violation",
    "unsupported_currency",
    "occurred_in_future",
    "reporting_window_closed",
    "unknown_license",
    "license_inactive",
    "game_type_not_licensed",
    "unknown_channel",
    "channel_inactive",
    "unknown_bet",
    "bet_mismatch",
    "refund_exceeds_stake",
    "duplicate_conflict",
)
# Who may see an organizer's submission status: those who send its data, or read its reports.
SEES_SUBMISSION = (Permission.KEYS_MANAGE, Permission.REPORTS_OWN)


@dataclass
class Counts:
    """What arrived over some hours: requests, and operations by their fate."""

    requests: int = 0
    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, requests: int, received: int, accepted: int, dup: int, rejected: int) -> None:
        """Add one hour's row."""
        self.requests += requests
        self.received += received
        self.accepted += accepted
        self.duplicates += dup
        self.rejected += rejected

    @property
    def rejected_pct(self) -> float | None:
        """The share of received operations that were rejected, in percent."""
        return 100.0 * self.rejected / self.received if self.received else None


@dataclass
class HourRejections:
    """Rejected operations received in one hour, by code."""

    start: datetime  # the hour's start, in Kyiv time
    by_code: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All rejected operations of the hour."""
        return sum(self.by_code.values())


@dataclass
class SubmissionStatus:
    """An organizer's submission status at `now`."""

    organizer: str
    organizer_status: str | None  # its status in the organizers register
    now: datetime
    last_received: datetime | None
    today: Counts
    last_24h: Counts
    hours: list[HourRejections]  # the last 7 days' hours with rejections, newest first
    by_code: dict[str, int]  # the last 7 days' rejections by code, in the protocol's order

    @property
    def ever_sent(self) -> bool:
        """Whether DSOM ever received a request of this organizer."""
        return self.last_received is not None


def _hour(instant: datetime) -> int:
    return int(instant.timestamp()) // HOUR_S


def _instant_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def last_received(conn: Connection, organizer: str) -> datetime | None:
    """When DSOM last received a request of `organizer` (the newest hour's last one)."""
    us = conn.execute(
        select(submissions_hourly.c.last_received_us)
        .where(submissions_hourly.c.organizer == organizer)
        .order_by(submissions_hourly.c.hour.desc())
        .limit(1)
    ).scalar()
    return _instant_us(us) if us is not None else None


def submission_status(
    conn: Connection, organizer: str, *, now: datetime | None = None
) -> SubmissionStatus:
    """The organizer's submission status: last request, today's and the last 24 hours'
    figures, and the last 7 days' rejections by hour and code."""
    now = now or utcnow()
    this_hour = _hour(now)
    today_from = _hour(kyiv_midnight(now.astimezone(KYIV).date()))
    day_from = this_hour - 23  # this hour and the 23 before it
    today, last_24h = Counts(), Counts()
    s = submissions_hourly.c
    rows = conn.execute(
        select(s.hour, s.requests, s.received, s.accepted, s.duplicates, s.rejected).where(
            s.organizer == organizer, s.hour >= min(today_from, day_from)
        )
    )
    for row in rows:
        figures = (row.requests, row.received, row.accepted, row.duplicates, row.rejected)
        if row.hour >= today_from:
            today.add(*figures)
        if row.hour >= day_from:
            last_24h.add(*figures)

    r = rejections_hourly.c
    week_from = this_hour - REJECTIONS_DAYS * 24 + 1
    hours: dict[int, HourRejections] = {}
    by_code: dict[str, int] = {}
    for hour, code, count in conn.execute(
        select(r.hour, r.code, r.count).where(r.organizer == organizer, r.hour >= week_from)
    ):
        start = datetime.fromtimestamp(hour * HOUR_S, UTC).astimezone(KYIV)
        bucket = hours.setdefault(hour, HourRejections(start))
        bucket.by_code[code] = bucket.by_code.get(code, 0) + int(count)
        by_code[code] = by_code.get(code, 0) + int(count)
    order = {code: i for i, code in enumerate(REJECTION_CODES)}
    by_code = dict(sorted(by_code.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))

    orgs = CURRENT["organizers"]
    status = conn.execute(select(orgs.c.status).where(orgs.c.edrpou == organizer)).scalar()
    return SubmissionStatus(
        organizer=organizer,
        organizer_status=status,
        now=now,
        last_received=last_received(conn, organizer),
        today=today,
        last_24h=last_24h,
        hours=[hours[h] for h in sorted(hours, reverse=True)],
        by_code=by_code,
    )


@dataclass(frozen=True)
class Glance:
    """The home page's box: when the last request arrived, and what was rejected today."""

    last_received: datetime | None
    received_today: int
    rejected_today: int


def glance(engine: Engine, principal: Principal) -> Glance | None:
    """The home page's submission box for a person of an organizer who may see it; None
    for anyone else."""
    if principal.organizer is None or not any(principal.can(p) for p in SEES_SUBMISSION):
        return None
    today_from = _hour(kyiv_midnight(utcnow().astimezone(KYIV).date()))
    with engine.connect() as conn:
        received, rejected = _sums(conn, principal.organizer, today_from)
        last = last_received(conn, principal.organizer)
    return Glance(last, received, rejected)


def _sums(conn: Connection, organizer: str, from_hour: int) -> tuple[int, int]:
    s = submissions_hourly.c
    received = rejected = 0
    for row in conn.execute(
        select(s.received, s.rejected).where(s.organizer == organizer, s.hour >= from_hour)
    ):
        received += row.received
        rejected += row.rejected
    return received, rejected
