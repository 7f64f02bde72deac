"""Time: timezone-aware everywhere, stored in UTC, bucketed in Europe/Kyiv."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
HOUR_S = 3600


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant or a date (local midnight in Kyiv), as an aware UTC datetime."""
    text = text.strip()
    if len(text) == 10:
        return kyiv_midnight(date.fromisoformat(text))
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value.astimezone(UTC)


def kyiv_midnight(day: date) -> datetime:
    """The UTC instant of local midnight that starts `day` in Kyiv."""
    return datetime.combine(day, time(0), tzinfo=KYIV).astimezone(UTC)


def isoformat_z(value: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC with a `Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def today_kyiv() -> date:
    """Today's date in Kyiv."""
    return utcnow().astimezone(KYIV).date()


@lru_cache(maxsize=100_000)
def kyiv_day_of_hour(hour: int) -> date:
    """The Kyiv calendar day the UTC epoch hour `hour` (seconds since the epoch // 3600)
    lies in, by the time-zone database: Kyiv's offsets are whole hours, so an hour never
    straddles two days. Every rollup by Kyiv day takes its day from here."""
    return datetime.fromtimestamp(hour * HOUR_S, UTC).astimezone(KYIV).date()
