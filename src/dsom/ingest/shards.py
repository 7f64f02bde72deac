"""Organizers shared out among server processes, and the link between them.

`dsom serve --workers N` runs N processes on one listening socket. Each process owns
the organizers the run's plan gives it (`plan_shards`: shared out by their traffic of
the last days, made once by the serving process before the workers start, and read by
each; an organizer registered since goes by `shard_of`): only it judges their operations
and keeps their in-memory state (ledger heads, operation ids, bets), so every
organizer's ledger still has exactly one writer. A request that arrives at a process
that does not own its organizer is passed, body untouched, to the owner over a Unix
socket and the owner's answer is sent back as it is.

The link is a small framed protocol, many requests in flight on one connection:

    frame    = length (4 bytes, big-endian) + request id (8 bytes) + payload
    request  = msgpack [kind, organizer, received_us, body]
    response = msgpack [status, body]

Every table is keyed by organizer first, so the processes never write the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import struct
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import cast

import msgspec
from prometheus_client import Counter

log = logging.getLogger("dsom.shards")

HEADER = struct.Struct("!IQ")
MAX_FRAME = 64 * 1024 * 1024
CONNECT_PATIENCE_S = 5.0

FORWARDED = Counter(
    "dsom_shard_forwarded_total", "Requests passed to the process owning the organizer"
)

Handler = Callable[[str, str, int, bytes], Awaitable[tuple[int, bytes]]]
_encode = msgspec.msgpack.Encoder().encode
_decode_request = msgspec.msgpack.Decoder(tuple[str, str, int, bytes]).decode
_decode_response = msgspec.msgpack.Decoder(tuple[int, bytes]).decode


class PeerUnavailable(Exception):
    """The process owning an organizer cannot be reached."""


PLAN_FILE = "plan.json"


def plan_shards(volumes: Mapping[str, int], count: int) -> dict[str, int]:
    """Organizers shared out among `count` processes so that each carries about the same
    traffic: the busiest first, each to the process carrying least so far (ties: the one
    with fewer organizers, then the lower index). With no traffic yet, that shares them
    out evenly by number.

    Hashing alone leaves the busiest processes to chance: bench/ingest.py's 46 organizers
    of equal traffic hash 26 to one process and 20 to the other, and in a closed loop the
    busier process holds every client up. Shared out evenly, alternated runs gave
    +1 % to +5 % ops/s (docs/performance.md); with organizers of unequal size, which a
    national market has, hashing can put the largest ones together."""
    loads, sizes = [0] * count, [0] * count
    plan: dict[str, int] = {}
    for organizer in sorted(volumes, key=lambda code: (-volumes[code], code)):
        index = min(range(count), key=lambda i: (loads[i], sizes[i], i))
        plan[organizer] = index
        loads[index] += volumes[organizer]
        sizes[index] += 1
    return plan


class _Plan(msgspec.Struct):
    """The plan file: how many processes, and the owner of each organizer."""

    count: int
    organizers: dict[str, int]


def write_plan(directory: Path, count: int, plan: Mapping[str, int]) -> None:
    """Leave the plan where every process of this run reads it (`Shards`)."""
    (directory / PLAN_FILE).write_bytes(msgspec.json.encode(_Plan(count, dict(plan))))


def read_plan(directory: Path | None, count: int) -> dict[str, int]:
    """The plan of this run, if there is one for `count` processes."""
    if directory is None or not (directory / PLAN_FILE).exists():
        return {}
    data = msgspec.json.decode((directory / PLAN_FILE).read_bytes(), type=_Plan)
    if data.count != count or any(not 0 <= i < count for i in data.organizers.values()):
        raise ValueError(f"{directory / PLAN_FILE} is not a plan for {count} processes")
    return data.organizers


def shard_of(organizer: str, count: int) -> int:
    """The index of the process owning `organizer` among `count` (stable across restarts):
    for an organizer the run's plan does not name, registered since it started."""
    if count == 1:
        return 0
    digest = hashlib.blake2b(organizer.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def socket_path(directory: Path, index: int) -> Path:
    """Where process `index` listens for requests passed to it."""
    return directory / f"shard-{index}.sock"


class Shards:
    """This process's place among the server's processes."""

    def __init__(self, index: int = 0, count: int = 1, directory: Path | None = None) -> None:
        if not 0 <= index < count:
            raise ValueError(f"shard index {index} is not within 0..{count - 1}")
        if count > 1 and directory is None:
            raise ValueError("several shards need a directory for their sockets")
        self.index = index
        self.count = count
        self.directory = directory
        self.server: asyncio.AbstractServer | None = None
        self.peers: dict[int, _Peer] = {}
        self._owners: dict[str, int] = read_plan(directory, count) if count > 1 else {}

    def owner(self, organizer: str) -> int:
        """The index of the process owning `organizer`."""
        found = self._owners.get(organizer)
        if found is None:
            found = self._owners[organizer] = shard_of(organizer, self.count)
        return found

    def owns(self, organizer: str) -> bool:
        """Whether this process judges `organizer`'s operations."""
        return self.count == 1 or self.owner(organizer) == self.index

    async def start(self, handler: Handler) -> None:
        """Listen for requests passed by the other processes."""
        if self.count == 1:
            return
        assert self.directory is not None
        path = socket_path(self.directory, self.index)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

        loop = asyncio.get_running_loop()
        self.server = await loop.create_unix_server(lambda: _serving_link(handler), str(path))
        os.chmod(path, 0o600)

    async def stop(self) -> None:
        """Close the links and stop listening."""
        for peer in self.peers.values():
            await peer.close()
        self.peers.clear()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def forward(
        self, organizer: str, kind: str, received_us: int, body: bytes
    ) -> tuple[int, bytes]:
        """Pass a request to the owner of `organizer`; its status and body."""
        index = self.owner(organizer)
        peer = self.peers.get(index)
        if peer is None:
            assert self.directory is not None
            peer = self.peers[index] = _Peer(socket_path(self.directory, index))
        FORWARDED.inc()
        return await peer.call(kind, organizer, received_us, body)


class _Link(asyncio.Protocol):
    """One end of a link: cuts the byte stream into frames, and sends frames coalesced.

    Every frame sent during one pass of the event loop goes out in one write at the end
    of it: with many small requests in flight, one system call (and one wake-up of the
    other process) then carries many frames instead of one each (py-spy: a write per
    frame was ~5 % of a worker's time under 10-operation requests).
    """

    def __init__(
        self,
        on_frame: Callable[[int, bytes], None],
        on_lost: Callable[[Exception], None] | None = None,
    ) -> None:
        self.on_frame = on_frame
        self.on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.outgoing: list[bytes] = []
        self.closed: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
        self.writable: asyncio.Future[None] | None = None  # set while the peer is behind

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= HEADER.size:
            length, request_id = HEADER.unpack_from(buffer, start)
            if length > MAX_FRAME:
                self._lost(ValueError(f"a frame of {length} bytes is over the limit"))
                return
            end = start + HEADER.size + length
            if len(buffer) < end:
                break
            with memoryview(buffer) as view:  # one copy of the payload, not two
                payload = bytes(view[start + HEADER.size : end])
            start = end
            self.on_frame(request_id, payload)
        del buffer[:start]

    def send(self, request_id: int, payload: bytes) -> None:
        """Queue a frame; it is written at the end of this pass of the event loop."""
        if not self.outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self.outgoing.append(HEADER.pack(len(payload), request_id))
        self.outgoing.append(payload)

    def _flush(self) -> None:
        frames, self.outgoing = self.outgoing, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(frames))

    def pause_writing(self) -> None:
        if self.writable is None:
            self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.writable = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(exc or ConnectionResetError("the link was closed"))

    def _lost(self, exc: Exception) -> None:
        if self.transport is not None:
            self.transport.close()
        self.outgoing = []
        self.resume_writing()
        if not self.closed.done():
            self.closed.set_result(exc)
            if self.on_lost is not None:
                self.on_lost(exc)

    def close(self) -> None:
        """Close the link (frames still queued are dropped)."""
        self._lost(ConnectionResetError("the link was closed here"))


def _serving_link(handler: Handler) -> _Link:
    """The owner's end of a link: each frame is a request, answered on the same link."""
    tasks: set[asyncio.Task[None]] = set()

    async def answer(request_id: int, payload: bytes) -> None:
        try:
            kind, organizer, received_us, body = _decode_request(payload)
            status, out = await handler(kind, organizer, received_us, body)
        except Exception:
            log.exception("a passed request failed")
            status, out = 500, b'{"error":{"code":"internal_error","message":"internal error"}}'
        link.send(request_id, _encode((status, out)))

    def on_frame(request_id: int, payload: bytes) -> None:
        task = asyncio.create_task(answer(request_id, payload))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    link = _Link(on_frame)
    return link


class _Peer:
    """One connection to another process, many requests in flight."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.link: _Link | None = None
        self.pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self.ids = itertools.count(1)
        self.connecting = asyncio.Lock()

    async def call(
        self, kind: str, organizer: str, received_us: int, body: bytes
    ) -> tuple[int, bytes]:
        link = self.link
        if link is None or link.closed.done():
            link = await self._connect()
        if link.writable is not None:
            await link.writable  # the owner is behind: wait, as a drain would
            if link.closed.done():
                raise PeerUnavailable(f"the link broke: {link.closed.result()!r}")
        request_id = next(self.ids)
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        link.send(request_id, _encode((kind, organizer, received_us, body)))
        return await future

    async def _connect(self) -> _Link:
        async with self.connecting:
            if self.link is not None and not self.link.closed.done():
                return self.link
            loop = asyncio.get_running_loop()
            deadline = loop.time() + CONNECT_PATIENCE_S
            while True:
                try:
                    _, link = await loop.create_unix_connection(
                        lambda: _Link(self._answered, self._dropped), str(self.path)
                    )
                    break
                except (FileNotFoundError, ConnectionError) as exc:
                    if loop.time() > deadline:
                        raise PeerUnavailable(f"{self.path}: {exc}") from None
                    await asyncio.sleep(0.05)
            self.link = link
            return link

    def _answered(self, request_id: int, payload: bytes) -> None:
        future = self.pending.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(_decode_response(payload))

    def _dropped(self, reason: Exception) -> None:
        """The link broke: fail the requests still waiting on it (all of them were sent on
        it: a new link is made only once this one is marked closed, at the same moment)."""
        self.link = None
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(PeerUnavailable(f"the link broke: {reason!r}"))

    async def close(self) -> None:
        if self.link is not None:
            self.link.close()
        self.link = None
