"""How the offices' pages write times, numbers and the names of those who acted.

Times are stored in UTC and shown in Kyiv time; numbers get a thin space between
thousands, as Ukrainian writes them; an actor as history records it
(`person:12 (Name)`) is shown by its name.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment

from dsom.kit.time import KYIV
from dsom.web.i18n import Translate

MINUS = "\u2212"
_ACTOR = re.compile(r"^[a-z]+:\S+ \((?P<name>.+)\)$")


def kyiv(value: datetime | None, seconds: bool = False) -> str:
    """A moment in Kyiv time, `2026-11-24 14:05` (with seconds if asked); "" for none."""
    if value is None:
        return ""
    return value.astimezone(KYIV).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def number(value: int | None) -> str:
    """An integer with thin spaces between thousands: 12 345 678."""
    return "" if value is None else f"{value:,}".replace(",", "\u202f")


def decimal(value: float | None, lang: str = "uk", places: int = 1) -> str:
    """A number to `places` decimals, thin spaces between thousands, the language's
    decimal mark and a true minus sign: −12 345,6."""
    if value is None:
        return ""
    rounded = round(value, places)
    text = f"{abs(rounded):,.{places}f}".replace(",", "\u202f")
    if lang == "uk":
        text = text.replace(".", ",")
    return (MINUS if rounded < 0 else "") + text


def percent(value: float | None, lang: str = "uk", places: int = 1) -> str:
    """A share in percent to `places` decimals (one unless told), with the language's
    decimal mark: 25,0 %."""
    if value is None:
        return ""
    return decimal(value, lang, places) + "\u00a0%"


def money(kopiyky: int | None, lang: str = "uk") -> str:
    """Kopiyky as hryvnias, exactly, with 2 decimals and thin spaces between thousands:
    1 234 567,89 (a minus sign before a negative sum)."""
    if kopiyky is None:
        return ""
    whole, part = divmod(abs(kopiyky), 100)
    mark = "," if lang == "uk" else "."
    return f"{MINUS if kopiyky < 0 else ''}{number(whole)}{mark}{part:02d}"


def actor_name(actor: str | None) -> str:
    """Who acted, by name: `person:12 (Ольга Коваль)` → `Ольга Коваль`."""
    if not actor:
        return ""
    found = _ACTOR.match(actor)
    return found.group("name") if found else actor


def detail_text(value: Any) -> str:
    """An audit entry's detail value as text (lists joined, objects as compact JSON)."""
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return "" if value is None else str(value)


def ago(t: Translate, now: datetime, then: datetime) -> str:
    """How long before `now` `then` was, in a few words: "5 min ago"."""
    gone = max(now - then, timedelta(0))
    if gone < timedelta(minutes=1):
        return t("just now")
    if gone < timedelta(hours=1):
        return t("{n} min ago").format(n=int(gone.total_seconds() // 60))
    if gone < timedelta(days=2):
        return t("{n} h ago").format(n=int(gone.total_seconds() // 3600))
    return t("{n} days ago").format(n=gone.days)


def install(env: Environment) -> None:
    """Give the templates these filters."""
    env.filters.update(
        kyiv=kyiv,
        number=number,
        decimal=decimal,
        percent=percent,
        money=money,
        actor_name=actor_name,
        detail_text=detail_text,
    )
