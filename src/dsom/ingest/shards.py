"""Organizers shared out among server processes, and the link between them.

`dsom serve --workers N` runs N processes on one listening socket. Each process owns
the organizers whose shard (`shard_of`) is its index: only it judges their operations
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
from collections.abc import Awaitable, Callable
from pathlib import Path

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


def shard_of(organizer: str, count: int) -> int:
    """The index of the process owning `organizer` among `count` (stable across restarts)."""
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
        self._owners: dict[str, int] = {}

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

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await _serve_connection(reader, writer, handler)

        self.server = await asyncio.start_unix_server(serve, path=str(path), limit=MAX_FRAME)
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


async def _serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    lock = asyncio.Lock()
    tasks: set[asyncio.Task[None]] = set()

    async def answer(request_id: int, payload: bytes) -> None:
        try:
            kind, organizer, received_us, body = _decode_request(payload)
            status, out = await handler(kind, organizer, received_us, body)
        except Exception:
            log.exception("a passed request failed")
            status, out = 500, b'{"error":{"code":"internal_error","message":"internal error"}}'
        frame = _encode((status, out))
        async with lock:
            writer.write(HEADER.pack(len(frame), request_id) + frame)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    try:
        while True:
            try:
                head = await reader.readexactly(HEADER.size)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length, request_id = HEADER.unpack(head)
            payload = await reader.readexactly(length)
            task = asyncio.create_task(answer(request_id, payload))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        writer.close()


class _Peer:
    """One connection to another process, many requests in flight."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}
        self.ids = itertools.count(1)
        self.connecting = asyncio.Lock()
        self.listener: asyncio.Task[None] | None = None

    async def call(
        self, kind: str, organizer: str, received_us: int, body: bytes
    ) -> tuple[int, bytes]:
        writer = await self._connected()
        request_id = next(self.ids)
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        frame = _encode((kind, organizer, received_us, body))
        try:
            writer.write(HEADER.pack(len(frame), request_id) + frame)
            await writer.drain()
        except ConnectionError as exc:
            self.pending.pop(request_id, None)
            self._drop(exc)
            raise PeerUnavailable(str(exc)) from None
        return await future

    async def _connected(self) -> asyncio.StreamWriter:
        async with self.connecting:
            if self.writer is not None and not self.writer.is_closing():
                return self.writer
            deadline = asyncio.get_running_loop().time() + CONNECT_PATIENCE_S
            while True:
                try:
                    self.reader, self.writer = await asyncio.open_unix_connection(
                        str(self.path), limit=MAX_FRAME
                    )
                    break
                except (FileNotFoundError, ConnectionError) as exc:
                    if asyncio.get_running_loop().time() > deadline:
                        raise PeerUnavailable(f"{self.path}: {exc}") from None
                    await asyncio.sleep(0.05)
            self.listener = asyncio.create_task(self._listen(self.reader))
            return self.writer

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                head = await reader.readexactly(HEADER.size)
                length, request_id = HEADER.unpack(head)
                payload = await reader.readexactly(length)
                future = self.pending.pop(request_id, None)
                if future is not None and not future.done():
                    future.set_result(_decode_response(payload))
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self._drop(exc)

    def _drop(self, reason: BaseException) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(PeerUnavailable(f"the link broke: {reason!r}"))

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.listener
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
