"""Distinct players with a bet, by UTC hour, Kyiv day and Kyiv month (reports.md).

The engine counts a player once per period and activity: exactly, because it knows
every player each period already has (`PlayerSets`). Each group commit stores the
players new to a period packed, one row per (organizer, period, activity) and batch:

    players_hourly / players_daily / players_monthly
        (organizer, hour / day / month, seq, activity, players, player_ids)

`seq` is the ledger seq of the first bet of the row (rows from before migration 0010:
-1, -2, …), `players` how many ids the row holds, `player_ids` the ids as a MessagePack
array. Why packed: a row per player cost the writer about 4 µs of CPU each (a row and its
key, however placed), three of them for a player new to the hour, day and month, so the
start of an hour, when most bets come from players not yet seen in it, ran at half speed
(docs/performance.md). A packed row costs about that for a whole batch's players.

`{table}_counts` keeps the sums (organizer, period, activity) → players that the reports
read for whole periods; for a period a range cuts, the report unions the ids it reads
(reports/repository.py: players_in).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import msgspec

log = logging.getLogger("dsom.ingest")

# ("hour", organizer, UTC hour, activity, player), or ("day" / "month", organizer, Kyiv
# date as ISO text, activity, player): a player already counted for that period.
PlayerKey = tuple[str, str, str | int, str, str]
# ("hour", organizer, UTC hour) or ("day" / "month", organizer, Kyiv date): one period.
PlayerPeriod = tuple[str, str, str | int]
# A player new to its period, as the engine hands it to the writer:
# (organizer, hour / day / month, activity, player, seq of the bet that counted it).
NewPlayer = tuple[str, Any, str, str, int]

# The table and period column of each kind of period.
TABLES = {
    "hour": ("players_hourly", "hour"),
    "day": ("players_daily", "day"),
    "month": ("players_monthly", "month"),
}

_encode = msgspec.msgpack.Encoder().encode
unpack = msgspec.msgpack.Decoder(list[str]).decode


def packed(new: Iterable[NewPlayer]) -> list[tuple[Any, Any, int, str, int, bytes]]:
    """Rows (organizer, period, seq, activity, players, player_ids) of players new to their
    periods: one per (organizer, period, activity), `seq` that of its first player's bet
    (the ledger's seqs grow, so no two rows of a period share one), in key order."""
    groups: dict[tuple[Any, Any, str], tuple[int, list[str]]] = {}
    for organizer, period, activity, player, seq in new:
        key = (organizer, period, activity)
        group = groups.get(key)
        if group is None:
            groups[key] = (seq, [player])
        else:
            group[1].append(player)
    return sorted(
        (organizer, period, first, activity, len(ids), _encode(ids))
        for (organizer, period, activity), (first, ids) in groups.items()
    )


class PlayerSets:
    """The players each period already counts, exact for every period read so far.

    Only this decides whether a bet's player is new to its hour, day and month (the
    tables hold packed rows, with no key on the player). Before the first bet of a
    period is judged, the period's stored players are read (`missing`, then `add`); each
    committed batch's new players are merged in (`merge`).

    Memory: 114 bytes a (period, activity, player), and its id's string (tracemalloc,
    1 M keys). Past `limit` players, the periods no batch has asked about for `idle_s`
    seconds are forgotten (read again if a late bet needs one); those in use stay,
    however many, and the next look is put off until the set has doubled, so a market
    whose current periods hold more than `limit` players grows the set instead of
    reading them again and again. `seen` is changed in place, never replaced: a batch
    judged before keeps asking the same set.
    """

    def __init__(self, limit: int = 5_000_000, idle_s: float = 600.0) -> None:
        self.limit = limit
        self.idle_s = idle_s
        self.seen: set[PlayerKey] = set()
        self.loaded: set[PlayerPeriod] = set()
        self.used: dict[PlayerPeriod, float] = {}  # period -> when a batch last asked
        self.next_look = limit

    def missing(self, periods: list[PlayerPeriod]) -> list[PlayerPeriod]:
        """Those of `periods` not read yet, each once, in order; all of them noted as in use."""
        now = time.monotonic()
        used = self.used
        for period in periods:
            used[period] = now
        loaded = self.loaded
        return [p for p in dict.fromkeys(periods) if p not in loaded]

    def add(self, periods: Iterable[PlayerPeriod], stored: Iterable[PlayerKey]) -> None:
        """`periods` read, with every player stored for them."""
        self.seen.update(stored)
        self.loaded.update(periods)

    def merge(self, new: set[PlayerKey]) -> None:
        """A committed batch's new players (of periods read before it was judged)."""
        self.seen |= new
        if len(self.seen) > self.next_look:
            self.forget_idle()

    def forget_idle(self) -> None:
        """Forget the periods not asked about for `idle_s` seconds, and their players."""
        before = len(self.seen)
        cutoff = time.monotonic() - self.idle_s
        for period in [p for p, at in self.used.items() if at <= cutoff]:
            del self.used[period]
            self.loaded.discard(period)
        loaded = self.loaded
        kept = [key for key in self.seen if key[:3] in loaded]
        self.seen.clear()
        self.seen.update(kept)
        self.next_look = max(self.limit, 2 * len(self.seen))
        log.info(
            "players of idle periods forgotten",
            extra={"forgotten": before - len(self.seen), "kept": len(self.seen)},
        )

    def __len__(self) -> int:
        return len(self.seen)
