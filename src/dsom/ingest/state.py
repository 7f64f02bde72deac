"""The in-memory state the ingest rules consult, backed by the database.

- `RegistersIndex`: every licence and channel with its versions over time, so a rule
  asks "what governed this at `occurred_at`?" without a query. Re-read from the
  history tables at most once a second (only what changed).
- `IdIndex`: every accepted operation id of every organizer, compactly: a 64-bit hash
  of (organizer, operation_id) → (organizer number, seq). A hit is confirmed against
  the stored entry, so hash collisions cost a read, never a wrong answer. Rebuilt from
  the stored blocks when the process starts. Recent entries live in a dict; older
  ones in sorted numpy runs (16 bytes an operation), merged log-structured.
- `BetCache`: the bets recently accepted, for wins and refunds; older ones are read
  from the database by their seq.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Any, Generic, TypeVar

import msgspec
import numpy as np
from sqlalchemy import Connection, func, select

from dsom.kit.time import kyiv_midnight
from dsom.registers.declarations import CHANNEL_REGISTERS, LICENCES
from dsom.registers.models import HISTORY

# How much older than the newest change a change may be and still commit after it: a
# register write transaction (an import included) is expected to commit within this.
COMMIT_MARGIN = timedelta(minutes=10)
FOREVER = 2**62
NEVER = -(2**62)


def to_us(value: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    return int(value.timestamp()) * 1_000_000 + value.microsecond


def day_start_us(day: date) -> int:
    """Kyiv midnight that starts `day`, in epoch microseconds."""
    return to_us(kyiv_midnight(day))


# --- registers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LicenceVersion:
    since_us: int  # when this version took effect; the first one governs the past too
    status: str
    activity: str
    valid_from_us: int
    valid_until_us: int  # Kyiv midnight after valid_to


@dataclass(frozen=True, slots=True)
class ChannelVersion:
    since_us: int
    status: str
    parent: str  # the licence (websites, apps, establishments) or establishment (equipment)


V = TypeVar("V", LicenceVersion, ChannelVersion)


@dataclass
class Timeline(Generic[V]):
    """An entry's versions in order; `at(t)` is the one in force at t."""

    organizer: str
    versions: list[V]
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.starts = [v.since_us for v in self.versions]

    def at(self, us: int) -> V:
        """The version in force at `us` (the first one for anything earlier)."""
        versions = self.versions
        if len(versions) == 1:  # most entries never changed
            return versions[0]
        i = bisect.bisect_right(self.starts, us) - 1
        return versions[i if i > 0 else 0]

    def span(self, us: int) -> tuple[V, int, int]:
        """The version in force at `us`, and the instants [from, until) it is in force."""
        versions = self.versions
        if len(versions) == 1:
            return versions[0], NEVER, FOREVER
        i = max(bisect.bisect_right(self.starts, us) - 1, 0)
        until = self.starts[i + 1] if i + 1 < len(versions) else FOREVER
        return versions[i], (self.starts[i] if i > 0 else NEVER), until


def licence_status(version: LicenceVersion, us: int) -> str:
    """`active`, or why not: the recorded status, `not_yet_valid` or `expired`."""
    if version.status != "active":
        return version.status
    if us < version.valid_from_us:
        return "not_yet_valid"
    if us >= version.valid_until_us:
        return "expired"
    return "active"


# (organizer, licence, channel kind, channel id), the channel "" for wins and refunds
StandingKey = tuple[str, str, str, str]
# [from, until) in epoch µs, and the licence's activity: while these stay in force the
# licence is the organizer's and active, and the channel is registered under it and active
Standing = tuple[int, int, str]


class RegistersIndex:
    """Licences and channels with their versions, for the rules.

    `standing` remembers, for a licence and channel the rules found in good standing,
    the span of time over which every version they consulted stays in force: another
    operation through the same pair inside that span passes the same checks, so it
    is answered by one lookup instead of reading the versions again. Forgotten
    whenever a load finds any change."""

    def __init__(self) -> None:
        self.licences: dict[str, Timeline[LicenceVersion]] = {}
        self.channels: dict[tuple[str, str], Timeline[ChannelVersion]] = {}
        self.seen: dict[str, tuple[int, datetime | None]] = {}
        self.standing: dict[StandingKey, Standing] = {}

    def load(self, conn: Connection) -> bool:
        """Read what changed since the last load (everything the first time); True if any."""
        changed = self._load_licences(conn)
        for kind, reg in CHANNEL_REGISTERS.items():
            changed |= self._load_channels(conn, kind, reg.name)
        if changed:
            self.standing = {}
        return changed

    def _changed_rows(self, conn: Connection, table_name: str, key: str) -> list[Any]:
        """Every version of each entry that changed since the last look.

        `recorded_at` is stamped before a transaction commits, so a change can become
        visible after a later-stamped one (PostgreSQL runs writers side by side). So a
        change is noticed by the (count, latest stamp) pair, and every entry stamped
        within COMMIT_MARGIN before the newest stamp seen is read again.
        """
        table = HISTORY[table_name]
        count, latest = conn.execute(select(func.count(), func.max(table.c.recorded_at))).one()
        mark = (int(count), latest)
        previous = self.seen.get(table_name)
        if latest is None or mark == previous:
            return []
        stmt = select(table)
        if previous is not None and previous[1] is not None:
            since = previous[1] - COMMIT_MARGIN
            keys = select(table.c[key]).where(table.c.recorded_at > since).distinct()
            stmt = stmt.where(table.c[key].in_(keys))
        self.seen[table_name] = mark
        return list(conn.execute(stmt.order_by(table.c[key], table.c.version)).mappings())

    def _load_licences(self, conn: Connection) -> bool:
        rows = self._changed_rows(conn, LICENCES.name, "number")
        for number, versions in _group(rows, "number"):
            self.licences[number] = Timeline(
                versions[-1]["organizer"],
                [
                    LicenceVersion(
                        since_us=NEVER if v["version"] == 1 else to_us(v["recorded_at"]),
                        status=v["status"],
                        activity=v["activity"],
                        valid_from_us=day_start_us(v["valid_from"]),
                        valid_until_us=day_start_us(v["valid_to"] + timedelta(days=1)),
                    )
                    for v in versions
                ],
            )
        return bool(rows)

    def _load_channels(self, conn: Connection, kind: str, register: str) -> bool:
        parent = "establishment" if kind == "equipment" else "licence"
        rows = self._changed_rows(conn, register, "id")
        for key, versions in _group(rows, "id"):
            self.channels[(kind, key)] = Timeline(
                versions[-1]["organizer"],
                [
                    ChannelVersion(
                        since_us=NEVER if v["version"] == 1 else to_us(v["recorded_at"]),
                        status=v["status"],
                        parent=v[parent],
                    )
                    for v in versions
                ],
            )
        return bool(rows)


def _group(rows: Sequence[Any], key: str) -> Iterable[tuple[str, list[Any]]]:
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][key] != rows[start][key]:
            yield rows[start][key], list(rows[start:i])
            start = i


# --- operation ids -----------------------------------------------------------------------


Run = tuple["np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]  # sorted keys, their values
Hot = dict[int, int | list[int]]


class IdIndex:
    """(organizer, operation_id) → candidate (organizer number, seq) values, compactly.

    With `background`, a full hot dict is frozen (still searched) and turned into a
    sorted run, and runs merged, on a thread of its own: sorting millions of keys
    would otherwise stall the event loop for most of a second (measured: 0.4–0.9 s a
    spill). The finished runs are swapped in by the owning thread, in `add`/`lookup`.
    """

    HOT_LIMIT = 1_000_000

    def __init__(self, *, background: bool = False) -> None:
        self.organizers: dict[str, int] = {}
        self.hot: Hot = {}
        self.frozen: list[Hot] = []  # full hot dicts whose runs are being built
        self.runs: list[Run] = []
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dsom-ids") if background else None
        self._building: Future[list[Run]] | None = None

    def number_of(self, organizer: str) -> int:
        """A small stable number for an organizer, packed into index values."""
        number = self.organizers.get(organizer)
        if number is None:
            number = self.organizers[organizer] = len(self.organizers) + 1
        return number

    # The 64-bit hash this process files an (organizer, operation_id) pair under: the
    # builtin itself, so that a batch's keys are computed by map() in C.
    key: Callable[[tuple[str, str]], int] = staticmethod(hash)

    def pack(self, organizer: str, seq: int) -> int:
        """(organizer, seq) as one 64-bit value."""
        return (self.number_of(organizer) << 40) | seq

    @staticmethod
    def seq_of(value: int) -> int:
        """The seq in a packed value."""
        return value & ((1 << 40) - 1)

    def add(self, organizer: str, operation_id: str, seq: int) -> None:
        """File an accepted operation."""
        self.add_many([(organizer, operation_id)], [seq])

    def add_many(self, pairs: Sequence[tuple[str, str]], seqs: Sequence[int]) -> None:
        """File accepted operations: each (organizer, operation_id) with its seq.

        Nearly always every key is new to the hot dict and to the others: then the batch
        is filed with one dict update, its keys and values computed in C or in one
        comprehension (a loop testing each key cost ~3.6 % of a worker's main thread
        under load, py-spy). A key already filed gets a list of values instead."""
        if not pairs:
            return
        shifted = {org: self.number_of(org) << 40 for org in set(map(itemgetter(0), pairs))}
        keys = list(map(self.key, pairs))
        values = [shifted[org] | seq for (org, _), seq in zip(pairs, seqs, strict=True)]
        hot = self.hot
        if hot.keys().isdisjoint(keys) and len(set(keys)) == len(keys):
            hot.update(zip(keys, values, strict=True))
        else:
            for k, value in zip(keys, values, strict=True):
                existing = hot.get(k)
                if existing is None:
                    hot[k] = value
                elif isinstance(existing, list):
                    existing.append(value)
                else:
                    hot[k] = [existing, value]
        if len(hot) >= self.HOT_LIMIT:
            self._spill()

    def lookup(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """For each (organizer, operation_id), the seqs that may hold it (confirm by reading).

        One vectorised search per run for the whole batch; pairs with no candidate are
        left out of the answer.
        """
        self._install()
        wanted = list(dict.fromkeys(pairs))
        if not wanted:
            return {}
        keys = list(map(self.key, wanted))
        found: dict[int, list[int]] = {}
        for table in (self.hot, *self.frozen):
            # Nearly every id is new: find the few hits by a set intersection (in C), then
            # look only those up, rather than every key in a Python loop.
            hits = table.keys() & keys
            if not hits:
                continue
            for i, k in enumerate(keys):
                if k in hits:
                    value = table[k]
                    found.setdefault(i, []).extend(value if isinstance(value, list) else [value])
        if self.runs:
            # The probes in order: numpy's binary search starts each key where the last one
            # ended, so the walk through a run of millions stays in cache (measured: 16,000
            # keys against a run of 10 M, 50–57 ms unsorted, 9–10 ms sorted). One search
            # per run; a hit is where the key found is the key sought, and the few keys
            # filed more than once run on from there.
            probe = np.array(keys, dtype=np.int64).view(np.uint64)
            order = np.argsort(probe, kind="stable")
            probe = probe[order]
            for run_keys, run_vals in self.runs:
                size = len(run_keys)
                lo = np.searchsorted(run_keys, probe, "left")
                at = run_keys[np.minimum(lo, size - 1)]
                for j in np.nonzero((lo < size) & (at == probe))[0].tolist():
                    start = end = int(lo[j])
                    while end < size and run_keys[end] == probe[j]:
                        end += 1
                    filed = [int(v) for v in run_vals[start:end]]
                    found.setdefault(int(order[j]), []).extend(filed)
        answer: dict[tuple[str, str], list[int]] = {}
        for i, values in found.items():
            number = self.organizers.get(wanted[i][0])
            seqs = [self.seq_of(v) for v in values if v >> 40 == number]
            if seqs:
                answer[wanted[i]] = seqs
        return answer

    def __len__(self) -> int:
        return sum(
            len(v) if isinstance(v, list) else 1
            for t in (self.hot, *self.frozen)
            for v in t.values()
        ) + sum(len(k) for k, _ in self.runs)

    def settle(self) -> None:
        """Wait for a background build and install it (tests, shutdown)."""
        if self._building is not None:
            self._building.result()
        self._install()

    def close(self) -> None:
        """Stop the background thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _spill(self) -> None:
        if self._pool is None:
            self.runs = _with_run(self.runs, self.hot)
            self.hot = {}
            return
        self._install()
        if self._building is not None:
            return  # the previous build is still running: let the hot dict grow meanwhile
        frozen, self.hot = self.hot, {}
        self.frozen.append(frozen)
        self._building = self._pool.submit(_with_run, list(self.runs), frozen)

    def _install(self) -> None:
        building = self._building
        if building is None or not building.done():
            return
        self._building = None
        self.runs = building.result()  # an error here is a bug: let it be seen
        self.frozen.pop(0)


def _with_run(runs: list[Run], hot: Hot) -> list[Run]:
    """`runs` with `hot` added as a sorted run, merged log-structured: while the newest
    run is at least half the one before it, the two become one."""
    try:  # nearly always one value a key: read the dict straight into arrays, in C
        keys = np.fromiter(hot.keys(), np.int64, len(hot)).view(np.uint64)
        vals = np.fromiter(hot.values(), np.int64, len(hot))
    except TypeError:  # some key holds several values (a list): a pair for each
        pairs = [(k, v) for k, vs in hot.items() for v in (vs if isinstance(vs, list) else [vs])]
        keys = np.fromiter((k for k, _ in pairs), np.int64, len(pairs)).view(np.uint64)
        vals = np.fromiter((v for _, v in pairs), np.int64, len(pairs))
    order = np.argsort(keys, kind="stable")
    runs = [*runs, (keys[order], vals[order])]
    while len(runs) > 1 and len(runs[-1][0]) * 2 >= len(runs[-2][0]):
        (k2, v2), (k1, v1) = runs.pop(), runs.pop()
        keys = np.concatenate([k1, k2])
        vals = np.concatenate([v1, v2])
        order = np.argsort(keys, kind="stable")
        runs.append((keys[order], vals[order]))
    return runs


# --- bets ---------------------------------------------------------------------------------


class BetState(msgspec.Struct, frozen=True, gc=False):
    """What wins and refunds need of a bet.

    Immutable: a refund replaces it. A struct with gc=False (it holds only plain values)
    is never tracked by the garbage collector, so a cache of millions of them costs a
    full collection nothing (tracked objects there made every full collection stall the
    server for seconds: measured 1.7–3 s each, about a fifth of the time), and it is
    built in C, where a NamedTuple is built by a Python function.
    """

    seq: int
    licence: str
    player_id: str
    amount: int
    activity: str
    refunded: int


class BetCache:
    """Recently accepted bets by (organizer, bet operation_id), bounded, oldest out first.

    Two generations of plain dicts: a batch's bets go into `young` with one dict update
    (in C), and when `young` holds half the limit it becomes `old` and the old one is
    let go whole. So the newest `limit / 2` bets at least are always held, at most
    `limit`, and a lookup tries `young` first, where a refund's newer state of a bet is.
    An OrderedDict trimmed bet by bet, in Python, cost ~3.5 % of a worker's main thread
    under load (py-spy), for an exactness of eviction no rule needs: a bet not held is
    read from the database.
    """

    def __init__(self, limit: int = 2_000_000) -> None:
        self.limit = limit
        self.young: dict[tuple[str, str], BetState] = {}
        self.old: dict[tuple[str, str], BetState] = {}

    def __len__(self) -> int:
        return len(self.young) + len(self.old.keys() - self.young.keys())

    def get(self, organizer: str, bet_id: str) -> BetState | None:
        """A cached bet, or None (it may still be in the database)."""
        key = (organizer, bet_id)
        found = self.young.get(key)
        return found if found is not None else self.old.get(key)

    def put(self, organizer: str, bet_id: str, bet: BetState) -> None:
        """Remember a bet."""
        self.put_many({(organizer, bet_id): bet})

    def put_many(self, bets: dict[tuple[str, str], BetState]) -> None:
        """Remember bets by (organizer, bet_id), letting the older generation go when the
        younger is full."""
        self.young.update(bets)
        if len(self.young) * 2 >= self.limit:
            self.old, self.young = self.young, {}
