"""The reports' common parameters: range, granularity, filters, and whose data.

- `from`, `to`: a date (local midnight in Kyiv) or an RFC 3339 instant; the range is
  `[from, to)`; by default from the start of the current Kyiv month to the start of
  tomorrow. Reports kept in hourly rollups take whole hours only (a date always is one).
- `granularity`: `hour`, `day` (default) or `month`.
- `organizer` (EDRPOU code), `activity` (a game_type), `threshold` (large-wins, kopiyky).

A parameter a report does not take, or a value it cannot take, is `400 invalid_parameter`
naming it. An organizer's person sees its own organizer only: the filter is set to it,
and naming another organizer is `403 forbidden`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dsom.auth.principal import Principal
from dsom.kit.errors import DomainError, Forbidden
from dsom.kit.settings import Settings
from dsom.kit.time import KYIV, kyiv_midnight, parse_instant
from dsom.registers.declarations import ACTIVITIES
from dsom.reports.declarations import Report, granted, own_only
from dsom.reports.periods import GRANULARITIES, Granularity, hour_of, is_whole_hour

DEFAULT_THRESHOLD = 5_000_000  # 50,000.00 UAH (reports.md, large-wins)
MAX_AMOUNT = 10**13  # protocol.md: the largest amount of an operation
# Reports whose range is read from exact instants, not from hourly rollups.
EXACT_RANGE = frozenset({"large-wins", "licenses"})
PARAMETERS = ("from", "to", "granularity", "organizer", "activity", "threshold")


class InvalidParameter(DomainError):
    """A report parameter the report does not take or a value it cannot take."""

    status_code = 400
    code = "invalid_parameter"


@dataclass(frozen=True)
class Query:
    """A report's parameters, checked and with the defaults applied."""

    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    granularity: Granularity
    organizer: str | None  # forced to the principal's own for an organizer's person
    activity: str | None
    threshold: int
    now: datetime  # UTC

    @property
    def start_hour(self) -> int:
        """The first epoch hour of the range."""
        return hour_of(self.start)

    @property
    def end_hour(self) -> int:
        """The epoch hour the range ends at (exclusive)."""
        return hour_of(self.end)


def _bad(name: str, message: str) -> InvalidParameter:
    return InvalidParameter(f"{name}: {message}", field=name)


def _instant(raw: Mapping[str, str], name: str, default: datetime) -> datetime:
    text = raw.get(name)
    if text is None or not text.strip():
        return default
    try:
        return parse_instant(text)
    except ValueError:
        raise _bad(
            name, f"{text!r} is neither a date (2026-11-01) nor an RFC 3339 instant"
        ) from None


def check_access(report: Report, principal: Principal) -> None:
    """Refuse (403) a principal whose role does not see `report` (reports.md, who sees what)."""
    if not granted(report, principal.permissions):
        raise Forbidden(f"your role does not see the report {report.id}")
    if own_only(report, principal.permissions) and principal.organizer is None:
        raise Forbidden(f"the report {report.id} is for an organizer's own data")


def parse(
    report: Report,
    raw: Mapping[str, str],
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> Query:
    """The report's parameters from query-string values, or 400/403."""
    check_access(report, principal)
    for name in PARAMETERS:
        if raw.get(name) not in (None, "") and name not in report.filters:
            raise _bad(name, f"the report {report.id} takes no {name!r}")
    today = now.astimezone(KYIV).date()
    start = _instant(raw, "from", kyiv_midnight(today.replace(day=1)))
    end = _instant(raw, "to", kyiv_midnight(today + timedelta(days=1)))
    if start >= end and "from" in report.filters:
        raise _bad("from", "must be before to")
    if report.id not in EXACT_RANGE:
        for name, value in (("from", start), ("to", end)):
            if not is_whole_hour(value):
                raise _bad(name, "must be a date or a whole hour: the figures are kept by the hour")
    granularity = raw.get("granularity") or "day"
    if granularity not in GRANULARITIES:
        raise _bad("granularity", "must be hour, day or month")
    activity = raw.get("activity") or None
    if activity is not None and activity not in ACTIVITIES:
        raise _bad("activity", f"must be one of {', '.join(ACTIVITIES)}")
    organizer = (raw.get("organizer") or "").strip() or None
    if own_only(report, principal.permissions):
        if organizer is not None and organizer != principal.organizer:
            raise Forbidden("an organizer sees only its own figures")
        organizer = principal.organizer
    threshold = DEFAULT_THRESHOLD
    if raw.get("threshold"):
        text = raw["threshold"]
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_AMOUNT:
            raise _bad("threshold", f"must be a whole number of kopiyky, at most {MAX_AMOUNT}")
        threshold = int(text)
        if threshold < settings.large_win_floor:
            raise _bad(
                "threshold",
                f"must be at least {settings.large_win_floor} kopiyky: only wins from that "
                "floor (DSOM_LARGE_WIN_FLOOR) are indexed for this report",
            )
    return Query(start, end, granularity, organizer, activity, threshold, now)
