"""What the system-status report needs beyond the rollups: a count finer than an hour,
and what only the running process knows.

`accepted_last_minute`: the rollups count by the hour, so each process samples the
number of operations ever accepted (DSOM-wide, from the database: `accepted_total`)
once a second, and the figure is that number now less the newest sample at least 60 s
old. Every process sees every shard's commits, so with `dsom serve --workers N` any
process answers the same (to the second). In a process's first minute, or after the
database was emptied, it counts from its first sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy import Engine

from dsom.reports import repository as repo

log = logging.getLogger("dsom.reports")
SAMPLE_EVERY_S = 1.0
WINDOW_S = 60.0


class Throughput:
    """Samples of the accepted total, once a second, for the last minute's count."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.samples: deque[tuple[float, int]] = deque(maxlen=int(2 * WINDOW_S / SAMPLE_EVERY_S))

    def total(self) -> int:
        """Operations ever accepted, now."""
        with self.engine.connect() as conn:
            return repo.accepted_total(conn)

    def sample(self, total: int | None = None, at: float | None = None) -> None:
        """Note the accepted total (read now unless given) at monotonic time `at`."""
        total = self.total() if total is None else total
        at = time.monotonic() if at is None else at
        if self.samples and total < self.samples[-1][1]:
            self.samples.clear()  # the database was emptied (tests, a restore)
        self.samples.append((at, total))

    def restart(self) -> None:
        """Forget the samples and take one now (after the database was emptied)."""
        self.samples.clear()
        self.sample()

    def last_minute(self, total: int, now: float | None = None) -> int:
        """Operations accepted in the last 60 s, given the total now."""
        now = time.monotonic() if now is None else now
        base: int | None = None
        for at, value in self.samples:
            if at > now - WINDOW_S and base is not None:
                break
            base = value
        if base is None or base > total:  # no sample yet, or emptied since the last one
            return total
        return total - base

    async def run(self) -> None:
        """Sample once a second until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.sample)
            except Exception:  # the database may be down for a while; keep trying
                log.debug("sampling the accepted total failed", exc_info=True)
            await asyncio.sleep(SAMPLE_EVERY_S)


@dataclass(frozen=True)
class Live:
    """What the running process knows: when it started, its answer times (seconds, of
    the submissions this process's ingest engine answered), its throughput sampler."""

    started: float  # time.monotonic() at start
    latencies: Sequence[float] = field(default_factory=tuple)
    throughput: Throughput | None = None


def live_of(app: FastAPI) -> Live:
    """The live figures of the application `app`."""
    state = app.state
    ingest = getattr(state, "ingest", None)
    return Live(
        started=state.started,
        # deque.copy() runs in C under the GIL: safe while the event loop appends
        latencies=ingest.latencies.copy() if ingest is not None else (),
        throughput=getattr(state, "report_throughput", None),
    )


@contextlib.asynccontextmanager
async def sampling(app: FastAPI) -> AsyncIterator[None]:
    """The reports router's lifespan: sample the accepted total while the app runs."""
    throughput = Throughput(app.state.engine)
    app.state.report_throughput = throughput
    task = asyncio.create_task(throughput.run(), name="dsom-report-throughput")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
