"""The rules of protocol.md §2.2, in their order: each rejected operation gets the first
rule it breaks. Every check reads memory (the registers index, the id index, the bets
and the batch's own earlier operations); the batch prefetches the few stored rows
it needs before the rules run, so no rule waits on the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from dsom.ingest.players import PlayerKey
from dsom.ingest.schemas import Operation, Refund, Win
from dsom.ingest.state import BetCache, BetState, RegistersIndex, Standing, licence_status

MINUTE_US = 60_000_000
FUTURE_TOLERANCE_US = 5 * MINUTE_US
LATE_AFTER_US = 15 * MINUTE_US
UNKNOWN_CHANNEL_OF = {
    "website": "website",
    "mobile_app": "mobile app",
    "establishment": "gambling establishment",
    "equipment": "piece of equipment",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an operation was not accepted: the code of the first rule it broke."""

    code: str
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class StoredOp:
    """What the rules need of an accepted operation read back from the database."""

    operation_id: str
    type: str
    canonical: bytes
    licence: str
    player_id: str
    amount: int
    activity: str
    refunded: int


class Prior(msgspec.Struct, gc=False):
    """An operation accepted before (stored, or earlier in this batch) under an id.

    One per accepted operation: a struct is built in C and, never holding a cycle, is
    not tracked by the garbage collector (gc=False).
    """

    seq: int
    canonical: bytes


class BatchView:
    """What the rules see during one batch: committed state, the effects of the batch still
    being committed (`parent`), and this batch's own effects so far.

    `candidates` and `stored` are what the batch prefetched for the requests judged into it;
    a batch that takes more requests while its parent commits adds theirs (`extend`)."""

    def __init__(
        self,
        registers: RegistersIndex,
        candidates: dict[tuple[str, str], list[int]],
        bets: BetCache,
        stored: dict[tuple[str, int], StoredOp],
        window_us: int,
        heads: Mapping[str, tuple[int, bytes]],
        players: set[PlayerKey],
        parent: BatchView | None = None,
    ) -> None:
        self.registers = registers
        self.candidates = candidates
        self.bets = bets
        self.stored = stored
        self.window_us = window_us
        self.committed_heads = heads
        self.committed_players = players
        self.parent = parent
        self.new_ids: dict[tuple[str, str], Prior] = {}
        self.new_bets: dict[tuple[str, str], BetState] = {}
        self.heads: dict[str, tuple[int, bytes]] = {}
        # The players counted by this batch and by the one still committing (copied: a
        # thousand or so, and one set to ask instead of two for every bet).
        self.players: set[PlayerKey] = set(parent.players) if parent is not None else set()

    def extend(
        self,
        candidates: dict[tuple[str, str], list[int]],
        stored: dict[tuple[str, int], StoredOp],
    ) -> None:
        """Add what was prefetched for more requests judged into this batch."""
        self.candidates.update(candidates)
        self.stored.update(stored)

    def prior(self, organizer: str, operation_id: str) -> Prior | None:
        """The operation accepted before under this id, if any."""
        key = (organizer, operation_id)
        found = self.new_ids.get(key)
        if found is None and self.parent is not None:
            found = self.parent.new_ids.get(key)
        if found is not None:
            return found
        for seq in self.candidates.get(key, ()):
            row = self.stored.get((organizer, seq))
            if row is not None and row.operation_id == operation_id:
                return Prior(seq, row.canonical)
        return None

    def bet(self, organizer: str, bet_id: str) -> BetState | None:
        """The accepted bet with this id, as this batch has left it."""
        key = (organizer, bet_id)
        found = self.new_bets.get(key)
        if found is None and self.parent is not None:
            found = self.parent.new_bets.get(key)
        if found is None:
            found = self.bets.get(organizer, bet_id)
        if found is None:
            for seq in self.candidates.get(key, ()):
                row = self.stored.get((organizer, seq))
                if row is not None and row.operation_id == bet_id and row.type == "bet":
                    found = BetState(
                        seq, row.licence, row.player_id, row.amount, row.activity, row.refunded
                    )
                    break
        return found

    def head(self, organizer: str) -> tuple[int, bytes] | None:
        """The organizer's ledger head as of this point of the batch (None: no entry yet)."""
        found = self.heads.get(organizer)
        if found is None and self.parent is not None:
            found = self.parent.heads.get(organizer)
        return found if found is not None else self.committed_heads.get(organizer)

    def new_player(self, key: PlayerKey) -> bool:
        """Whether this ("hour"/"day"/"month", organizer, period, activity, player) is new;
        remembers it if so. The kind is part of the key: the 1st of a month is also a
        month's date."""
        if key in self.players or key in self.committed_players:
            return False
        self.players.add(key)
        return True


def check(
    view: BatchView,
    organizer: str,
    op: Operation,
    occurred_us: int,
    received_us: int,
    prior: Prior | None,
) -> tuple[Rejection | None, Any]:
    """The first rule `op` breaks, or None and what was found along the way.

    The second value is the activity of an accepted operation (and, for a win or refund,
    its bet), which the batch records.
    """
    if op.currency != "UAH":
        return _no(
            "unsupported_currency",
            "currency",
            f"currency {op.currency!r} is not supported: version 1 accepts UAH only",
        ), None
    if occurred_us > received_us + FUTURE_TOLERANCE_US:
        return _no(
            "occurred_in_future",
            "occurred_at",
            f"occurred_at {op.occurred_at} is more than 5 minutes after DSOM received it",
        ), None
    if occurred_us < received_us - view.window_us:
        days = view.window_us // (24 * 60 * MINUTE_US)
        return _no(
            "reporting_window_closed",
            "occurred_at",
            f"occurred_at {op.occurred_at} is more than {days} days before DSOM received "
            "it: the reporting window is closed",
        ), None
    kind = op.kind  # the type's tag: one string test instead of isinstance chains
    some: Any = op  # its fields by kind
    registers = view.registers
    if kind in {"win", "refund"}:
        key = (organizer, op.license, "", "")
    else:
        key = (organizer, op.license, some.channel.kind, some.channel.id)
    standing = registers.standing.get(key)
    if standing is None or not standing[0] <= occurred_us < standing[1]:
        found = _standing(registers, organizer, op, occurred_us)
        if isinstance(found, Rejection):
            return found, None
        standing = registers.standing[key] = found
    activity = standing[2]
    if kind == "bet":
        if some.game_type != activity:  # seen in good standing with another game type
            return _wrong_game_type(op, activity), None
    elif kind in {"win", "refund"}:
        return _check_bet_reference(view, organizer, some, prior)
    if prior is not None:
        return _conflict(op), None
    return None, activity


def _standing(registers: RegistersIndex, organizer: str, op: Any, us: int) -> Rejection | Standing:
    """The licence and channel rules, in their order, read from the versions in force at
    `us`: the first broken, or (from, until, activity) over which the versions consulted
    stay in force. A bet's game type is judged here too, between the licence and the
    channel, so that the rules keep their order."""
    licence = registers.licences.get(op.license)
    if licence is None or licence.organizer != organizer:
        return _no(
            "unknown_license",
            "license",
            f"licence {op.license} is not a licence of organizer {organizer}",
        )
    version, since, until = licence.span(us)
    status = licence_status(version, us)
    if status != "active":
        return _no(
            "license_inactive",
            "license",
            f"licence {op.license} was {status.replace('_', ' ')} at {op.occurred_at}",
        )
    since = max(since, version.valid_from_us)
    until = min(until, version.valid_until_us)
    if op.kind in {"win", "refund"}:
        return since, until, version.activity
    if op.kind == "bet" and op.game_type != version.activity:
        return _wrong_game_type(op, version.activity)
    kind, key = op.channel.kind, op.channel.id
    channel = registers.channels.get((kind, key))
    if channel is None or channel.organizer != organizer:
        return _unknown_channel(op)
    entry, entry_since, entry_until = channel.span(us)
    since, until = max(since, entry_since), min(until, entry_until)
    place = None  # for equipment: its establishment's version at `us`
    if kind == "equipment":
        establishment = registers.channels.get(("establishment", entry.parent))
        if establishment is None:
            return _unknown_channel(op)
        place, place_since, place_until = establishment.span(us)
        if place.parent != op.license:
            return _unknown_channel(op)
        since, until = max(since, place_since), min(until, place_until)
    elif entry.parent != op.license:
        return _unknown_channel(op)
    if entry.status != "active":
        what = UNKNOWN_CHANNEL_OF[kind]
        return _no(
            "channel_inactive", "channel", f"{what} {key} was {entry.status} at {op.occurred_at}"
        )
    if place is not None and place.status != "active":
        return _no(
            "channel_inactive",
            "channel",
            f"establishment {entry.parent}, where {UNKNOWN_CHANNEL_OF[kind]} {key} stands, "
            f"was {place.status} at {op.occurred_at}",
        )
    return since, until, version.activity


def _wrong_game_type(op: Any, activity: str) -> Rejection:
    return _no(
        "game_type_not_licensed",
        "game_type",
        f"licence {op.license} is for {activity}, not {op.game_type}",
    )


def _unknown_channel(op: Any) -> Rejection:
    what = UNKNOWN_CHANNEL_OF[op.channel.kind]
    return _no(
        "unknown_channel",
        "channel",
        f"no {what} {op.channel.id} is registered under licence {op.license}",
    )


def _check_bet_reference(
    view: BatchView, organizer: str, op: Win | Refund, prior: Prior | None
) -> tuple[Rejection | None, Any]:
    bet = view.bet(organizer, op.bet_id)
    if bet is None:
        return _no(
            "unknown_bet", "bet_id", f"bet_id {op.bet_id} names no accepted bet of this organizer"
        ), None
    if bet.licence != op.license:
        return _no(
            "bet_mismatch",
            "license",
            f"bet {op.bet_id} was made under licence {bet.licence}, not {op.license}",
        ), None
    if bet.player_id != op.player_id:
        return _no("bet_mismatch", "player_id", f"bet {op.bet_id} was made by another player"), None
    if op.kind == "refund" and bet.refunded + op.amount > bet.amount:
        left = bet.amount - bet.refunded
        return _no(
            "refund_exceeds_stake",
            "amount",
            f"refunds of bet {op.bet_id} would exceed its stake of {bet.amount}: "
            f"at most {left} is left to refund",
        ), None
    if prior is not None:
        return _conflict(op), None
    return None, bet


def _conflict(op: Operation) -> Rejection:
    return _no(
        "duplicate_conflict",
        "operation_id",
        f"operation_id {op.operation_id} was accepted before with different content",
    )


def _no(code: str, field: str | None, message: str) -> Rejection:
    return Rejection(code, field, message)
