"""Watch the garbage collector: a full collection over millions of objects stalls every
request in the process, so long ones are logged and counted."""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

log = logging.getLogger("dsom.gc")
GC_SECONDS = Histogram(
    "dsom_gc_pause_seconds",
    "Garbage collection pauses by generation",
    ["generation"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SLOW_S = 0.1
_started: list[float] = []


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
        return
    if not _started:
        return
    took = time.perf_counter() - _started.pop()
    generation = info.get("generation", -1)
    GC_SECONDS.labels(str(generation)).observe(took)
    if took >= SLOW_S:
        log.warning(
            "slow garbage collection",
            extra={
                "generation": generation,
                "seconds": round(took, 3),
                "collected": info.get("collected"),
                "tracked": len(gc.get_objects(generation)),
            },
        )


def install() -> None:
    """Start watching (once per process), and collect young objects far less often.

    The ingest engine allocates and frees millions of short-lived objects a minute and
    keeps large long-lived indexes; CPython's default thresholds (700, 10, 10) make it
    walk those indexes several times a second. Garbage here is rarely cyclic (reference
    counting frees it), so fewer, larger collections cost far less.
    """
    if _callback not in gc.callbacks:
        gc.callbacks.append(_callback)
        gc.set_threshold(100_000, 50, 100)
