"""Time: timezone-aware everywhere, stored in UTC, bucketed in Europe/Kyiv."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")


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
