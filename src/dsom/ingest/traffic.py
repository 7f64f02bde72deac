"""Realistic, valid operations for `dsom simulate` and the benchmarks, from a keys file.

Pure and reproducible: no I/O, and each organizer draws from its own random stream
seeded by (seed, organizer code), so what one organizer sends does not depend on how
often the others were asked. Only `occurred_at` follows the clock (the current time,
formatted once per batch: operations more than 5 minutes off would be refused).

Each active organizer plays on its active licences through their active channels:

- a pool of players `p-<code>-<n>`, some far more active than others;
- bets with `game_type` = the licence's activity, through websites and apps (online
  licences) or gambling establishments and their equipment (land-based ones; a
  bookmaking licence may have both), stakes log-normal around a typical stake of
  the activity, in round amounts, and a `game_ref` most of the time;
- about 45% of bets are followed by a win (a plausible multiple of the stake, now
  and then a big one) and about 2% by a refund (the stake or part of it, never more),
  always by the same player under the same licence, a few operations later: in the
  same batch after the bet, or in a later one;
- deposits and withdrawals (about 10% of operations each) through a website or app
  when the organizer has one, else at a gambling establishment, with a payment
  method that fits the channel.

Operation ids are `<run id>-<n>`, counted per organizer, so a run never repeats one.
"""

from __future__ import annotations

import heapq
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import NormalDist
from typing import Any

from dsom.kit.time import utcnow

ONLINE_KINDS = ("website", "mobile_app")
LAND_KINDS = ("establishment", "equipment")
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$")
MAX_AMOUNT = 10_000_000_000_000
TABLE = 4096  # amounts are drawn from tables of this many quantiles: one draw, no maths

WIN_SHARE = 0.45
REFUND_SHARE = 0.02
# Deposits and withdrawals are ~10% of all operations each; bets, wins and refunds the
# rest. Per new (not settling) operation: bets b with b * (1 + 0.47) = 0.8 of all.
_BETS = 0.8 / (1 + WIN_SHARE + REFUND_SHARE)
BET_SHARE = _BETS / (_BETS + 0.2)
DEPOSIT_SHARE = BET_SHARE + (1 - BET_SHARE) / 2
# A win or refund follows its bet after about this many of the organizer's operations.
SETTLE_AFTER = 25.0


@dataclass(frozen=True, slots=True)
class _Game:
    """How an activity is played: its stakes, how often a bet names its game, its wins."""

    stakes: tuple[int, ...]  # equally likely stakes, kopiyky: the distribution's quantiles
    ref_share: float  # how often a bet names its game, table or event
    refs: tuple[str, ...]
    multiples: tuple[float, ...]  # equally likely win / stake ratios


def _nice(kopiyky: float, floor: int = 100) -> int:
    """A round amount, as people stake and pay: whole hryvnias, tens, hundreds."""
    if kopiyky < 10_000:
        step = 100
    elif kopiyky < 100_000:
        step = 500
    elif kopiyky < 1_000_000:
        step = 5_000
    else:
        step = 50_000
    return min(MAX_AMOUNT, max(floor, int(kopiyky / step + 0.5) * step))


def _quantiles(median: float, spread: float, floor: int = 100) -> tuple[int, ...]:
    """Round amounts at the quantiles of a log-normal: what a random draw would give."""
    normal = NormalDist()
    return tuple(
        _nice(median * math.exp(spread * normal.inv_cdf((i + 0.5) / TABLE)), floor)
        for i in range(TABLE)
    )


def _multiples(big_share: float) -> tuple[float, ...]:
    """Win / stake ratios: mostly 1.2-5, some 5-50, a few big wins of 50-1,000."""
    big = round(TABLE * big_share)
    large = round(TABLE * (3 * big_share + 0.05))
    small = TABLE - big - large
    return (
        tuple(1.2 + 3.8 * ((i + 0.5) / small) ** 2 for i in range(small))
        + tuple(5.0 + 45.0 * ((i + 0.5) / large) ** 2 for i in range(large))
        + tuple(50.0 * 20.0 ** ((i + 0.5) / big) for i in range(big))
    )


def _refs(*groups: tuple[str, int]) -> tuple[str, ...]:
    return tuple(f"{name}-{n}" for name, count in groups for n in range(1, count + 1))


GAMES: dict[str, _Game] = {
    "online_casino": _Game(
        _quantiles(4_000, 1.1),
        0.7,
        _refs(("roulette-eu", 4), ("blackjack", 6), ("baccarat-live", 3), ("slot-steppe-gold", 1))
        + tuple(
            f"slot-{name}"
            for name in ("cossack-fortune", "carpathian-gems", "black-sea-pearls", "lucky-7s")
        ),
        _multiples(0.03),
    ),
    "online_poker": _Game(
        _quantiles(10_000, 1.0),
        0.8,
        _refs(("nlh-table", 40), ("plo-table", 12), ("sng", 20), ("mtt-sunday", 1)),
        _multiples(0.01),
    ),
    "bookmaking": _Game(
        _quantiles(15_000, 1.2),
        0.9,
        _refs(("football-upl", 120), ("football-ucl", 40), ("tennis-atp", 60), ("basketball", 30))
        + _refs(("esports-cs2", 30), ("hockey", 20)),
        _multiples(0.02),
    ),
    "slot_hall": _Game(
        _quantiles(1_500, 0.9),
        0.5,
        _refs(("slot-fruit-classic", 3), ("slot-golden-wheat", 2), ("slot-wild-steppe", 2)),
        _multiples(0.03),
    ),
    "casino_establishment": _Game(
        _quantiles(40_000, 1.2),
        0.6,
        _refs(("table-roulette", 6), ("table-blackjack", 8), ("table-poker", 4), ("table-dice", 2))
        + _refs(
            ("slot", 12),
        ),
        _multiples(0.02),
    ),
}
ONLINE_PAYMENTS = ("card",) * 12 + ("e_wallet",) * 4 + ("bank_transfer",) * 3 + ("other",)
CASHIER_PAYMENTS = ("cash",) * 3 + ("card",)
DEPOSITS = _quantiles(50_000, 1.0, floor=10_000)  # around 500 UAH
WITHDRAWALS = _quantiles(150_000, 1.1, floor=10_000)  # winnings cashed out: larger


@dataclass(frozen=True, slots=True)
class _Licence:
    number: str
    activity: str
    game: _Game
    online: tuple[tuple[str, str], ...]  # (kind, id) of active websites and apps
    establishments: tuple[tuple[str, str], ...]
    equipment: tuple[tuple[str, str], ...]
    online_share: float  # of its bets made online (a bookmaker's may be both)


@dataclass(slots=True)
class _Organizer:
    code: str
    rnd: random.Random
    licences: tuple[_Licence, ...]
    # (licence, channel, payment methods) where money goes in and out
    cashiers: tuple[tuple[str, tuple[str, str], tuple[str, ...]], ...]
    player_prefix: str
    players: int
    id_prefix: str
    count: int = 0
    # (due count, tie, bet id, licence, player, stake, activity, is refund): wins and
    # refunds waiting for their turn, earliest due first
    pending: list[tuple[int, int, str, str, str, int, str, bool]] = field(default_factory=list)


class Traffic:
    """The operations of a run, organizer by organizer, batch by batch."""

    def __init__(
        self,
        keys: Mapping[str, Any],
        *,
        seed: int = 0,
        run_id: str = "sim",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Plan the traffic of every usable organizer of a keys file (see interfaces.md)."""
        if not RUN_ID.fullmatch(run_id):
            raise ValueError(
                f"run id {run_id!r}: 1-40 letters, digits, '.', '_', ':' or '-', "
                "starting with a letter or digit"
            )
        self.clock = clock
        self.api_keys: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.skipped: dict[str, str] = {}  # organizer code: why it plays no part
        self._plans: dict[str, _Organizer] = {}
        today = clock().date()
        for org in keys.get("organizers") or ():
            code = str(org.get("code"))
            why = _unusable(org)
            licences = () if why else _licences(org, today)
            if not why and not licences:
                why = "without an active licence and channel"
            if why:
                self.skipped[code] = why
                continue
            self.api_keys[code] = str(org["api_key"])
            self.names[code] = str(org.get("name") or code)
            channels = sum(
                len(lic.online) + len(lic.establishments) + len(lic.equipment) for lic in licences
            )
            self._plans[code] = _Organizer(
                code=code,
                rnd=random.Random(f"{seed}/{code}"),  # noqa: S311 - reproducible, not secret
                licences=licences,
                cashiers=_cashiers(licences),
                player_prefix=f"p-{code}-",
                players=min(5_000, 100 + 40 * channels),
                id_prefix=f"{run_id}-",
            )
        self.organizers: list[str] = list(self._plans)

    def next_batch(self, organizer: str, size: int) -> list[dict[str, Any]]:
        """The organizer's next `size` operations, all with `occurred_at` = now."""
        plan = self._plans[organizer]
        now = self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rnd = plan.rnd.random
        pending = plan.pending
        licences = plan.licences
        n_licences = len(licences)
        cashiers = plan.cashiers
        players = plan.players
        prefix = plan.id_prefix
        player_prefix = plan.player_prefix
        count = plan.count
        ops: list[dict[str, Any]] = []
        append = ops.append
        for _ in range(size):
            count += 1
            op_id = f"{prefix}{count}"
            if pending and pending[0][0] <= count:
                _, _, bet_id, number, player, stake, activity, refund = heapq.heappop(pending)
                if refund:
                    # mostly the whole stake (a cancelled bet), sometimes half (a voided leg)
                    amount = stake if rnd() < 0.8 or stake < 2 else stake // 2
                else:
                    multiples = GAMES[activity].multiples
                    amount = min(MAX_AMOUNT, int(stake * multiples[int(rnd() * TABLE)]))
                append(
                    {
                        "operation_id": op_id,
                        "type": "refund" if refund else "win",
                        "occurred_at": now,
                        "license": number,
                        "player_id": player,
                        "amount": amount,
                        "currency": "UAH",
                        "bet_id": bet_id,
                    }
                )
                continue
            player = f"{player_prefix}{int(players * rnd() * rnd()) + 1}"
            pick = rnd()
            if pick < BET_SHARE or not cashiers:
                lic = licences[int(rnd() * n_licences)] if n_licences > 1 else licences[0]
                game = lic.game
                kind, key = _bet_channel(lic, rnd)
                stake = game.stakes[int(rnd() * TABLE)]
                op: dict[str, Any] = {
                    "operation_id": op_id,
                    "type": "bet",
                    "occurred_at": now,
                    "license": lic.number,
                    "player_id": player,
                    "amount": stake,
                    "currency": "UAH",
                    "game_type": lic.activity,
                    "channel": {"kind": kind, "id": key},
                }
                if rnd() < game.ref_share:
                    op["game_ref"] = game.refs[int(rnd() * len(game.refs))]
                append(op)
                fate = rnd()
                if fate < WIN_SHARE + REFUND_SHARE:
                    due = count + 1 + int(-SETTLE_AFTER * math.log(1.0 - rnd()))
                    heapq.heappush(
                        pending,
                        (
                            due,
                            count,
                            op_id,
                            lic.number,
                            player,
                            stake,
                            lic.activity,
                            fate >= WIN_SHARE,
                        ),
                    )
                continue
            number, (kind, key), methods = cashiers[int(rnd() * len(cashiers))]
            deposit = pick < DEPOSIT_SHARE
            append(
                {
                    "operation_id": op_id,
                    "type": "deposit" if deposit else "withdrawal",
                    "occurred_at": now,
                    "license": number,
                    "player_id": player,
                    "amount": (DEPOSITS if deposit else WITHDRAWALS)[int(rnd() * TABLE)],
                    "currency": "UAH",
                    "channel": {"kind": kind, "id": key},
                    "payment_method": methods[int(rnd() * len(methods))],
                }
            )
        plan.count = count
        return ops

    def forget_open_bets(self, organizer: str) -> None:
        """Send no win or refund for bets so far: the last batch may not have been stored."""
        self._plans[organizer].pending.clear()


def _unusable(org: Mapping[str, Any]) -> str | None:
    """Why an organizer of the keys file cannot send anything, or None."""
    status = org.get("status", "active")
    if status != "active":
        return str(status)
    if not org.get("api_key"):
        return "without an api_key"
    return None


def _licences(org: Mapping[str, Any], today: date) -> tuple[_Licence, ...]:
    """The organizer's licences that are active today and have an active channel."""
    found = []
    for lic in org.get("licenses") or ():
        activity = lic.get("activity")
        if lic.get("status", "active") != "active" or activity not in GAMES:
            continue
        if not _valid_around(lic, today):
            continue
        by_kind: dict[str, list[tuple[str, str]]] = {k: [] for k in ONLINE_KINDS + LAND_KINDS}
        for ch in lic.get("channels") or ():
            if ch.get("status", "active") == "active" and ch.get("kind") in by_kind:
                by_kind[ch["kind"]].append((ch["kind"], str(ch["id"])))
        online = tuple(by_kind["website"] + by_kind["mobile_app"])
        establishments = tuple(by_kind["establishment"])
        equipment = tuple(by_kind["equipment"])
        land = establishments or equipment
        if not online and not land:
            continue
        share = 1.0 if not land else 0.0 if not online else 0.7
        found.append(
            _Licence(
                str(lic["number"]),
                activity,
                GAMES[activity],
                online,
                establishments,
                equipment,
                share,
            )
        )
    return tuple(found)


def _valid_around(lic: Mapping[str, Any], today: date) -> bool:
    """Whether the licence's term covers today, with a day's margin for time zones."""
    margin = timedelta(days=1)
    try:
        if lic.get("valid_from") and date.fromisoformat(lic["valid_from"]) > today - margin:
            return False
        if lic.get("valid_to") and date.fromisoformat(lic["valid_to"]) < today + margin:
            return False
    except (TypeError, ValueError):
        return True  # a keys file written by hand may leave the term out or free-form
    return True


def _cashiers(
    licences: tuple[_Licence, ...],
) -> tuple[tuple[str, tuple[str, str], tuple[str, ...]], ...]:
    """Where players pay in and out: online channels if any, else establishments."""
    online = [(lic.number, ch, ONLINE_PAYMENTS) for lic in licences for ch in lic.online]
    if online:
        return tuple(online)
    return tuple(
        (lic.number, ch, CASHIER_PAYMENTS) for lic in licences for ch in lic.establishments
    )


def _bet_channel(lic: _Licence, rnd: Callable[[], float]) -> tuple[str, str]:
    """Where a bet is placed: online, or at a machine or table, or at the cashier's desk."""
    if lic.online and (lic.online_share >= 1.0 or rnd() < lic.online_share):
        channels = lic.online
    elif lic.equipment and (not lic.establishments or rnd() < 0.8):
        channels = lic.equipment
    else:
        channels = lic.establishments
    return channels[int(rnd() * len(channels))]
