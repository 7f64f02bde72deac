"""`dsom serve`: one process, or N processes sharing the organizers (ingest/shards.py).

With `--workers N` (N > 1) this process binds the listening socket, starts N worker
processes on it, each told its shard index, and watches them: a worker that dies is
started again (its organizers' requests answer 503 `unavailable` meanwhile, and their
operations are safe to retry). SIGINT or SIGTERM stops every worker gracefully.

The workers' Prometheus metrics are kept in files (prometheus_client's multiprocess
mode, `PROMETHEUS_MULTIPROC_DIR`, a folder of this run), so `/metrics`, whichever
worker answers it, reports the sums over every worker, restarted ones included.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from datetime import timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client import multiprocess
from sqlalchemy.exc import SQLAlchemyError

from dsom.ingest.repository import recent_volumes
from dsom.ingest.shards import plan_shards, write_plan
from dsom.kit import logs
from dsom.kit.db import make_engine
from dsom.kit.settings import Settings
from dsom.kit.time import today_kyiv

log = logging.getLogger("dsom.serve")
RESTART_DELAY_S = 1.0
STOP_PATIENCE_S = 30.0
PLAN_DAYS = 7  # the days of traffic the organizers are shared out by


def _config(host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        "dsom.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
    )


def serve(host: str, port: int, workers: int, log_level: str, log_format: str) -> None:
    """Serve on host:port with `workers` processes until told to stop."""
    if workers <= 1:
        uvicorn.Server(_config(host, port, log_level)).run()
        return
    config = _config(host, port, log_level)
    sock = config.bind_socket()
    directory = Path(tempfile.mkdtemp(prefix="dsom-shards-"))
    os.chmod(directory, 0o700)
    metrics = directory / "metrics"
    metrics.mkdir()
    _share_out(directory, workers)
    # Read by prometheus_client when a worker imports it: set before any worker starts.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=_worker,
            name=f"dsom-worker-{index}",
            args=(sock, index, workers, str(directory), host, port, log_level, log_format),
        )
        process.start()
        log.info("worker started", extra={"worker": index, "pid": process.pid})
        return process

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                log.error(
                    "worker stopped; starting it again",
                    extra={"worker": index, "pid": process.pid, "exitcode": process.exitcode},
                )
                if process.pid is not None:
                    multiprocess.mark_process_dead(process.pid, str(metrics))  # type: ignore[no-untyped-call]
                time.sleep(RESTART_DELAY_S)
                processes[index] = start(index)
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_PATIENCE_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        sock.close()
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _share_out(directory: Path, workers: int) -> None:
    """Share the organizers out among the workers by their traffic of the last week
    (ingest/shards.py), once, before any worker starts: every worker, restarted ones
    too, reads the same plan. If the database cannot be read yet, each organizer goes
    by its hash (`shard_of`)."""
    settings = Settings()
    engine = make_engine(settings.database_url, sqlite_cache_mb=8)
    try:
        volumes = recent_volumes(engine, today_kyiv() - timedelta(days=PLAN_DAYS))
    except SQLAlchemyError as exc:
        log.warning("organizers shared out by their hash: %s", exc.__class__.__name__)
        return
    finally:
        engine.dispose()
    plan = plan_shards(volumes, workers)
    write_plan(directory, workers, plan)
    for index in range(workers):
        mine = [code for code, owner in plan.items() if owner == index]
        log.info(
            "organizers shared out",
            extra={
                "worker": index,
                "organizers": len(mine),
                "operations_last_week": sum(volumes[code] for code in mine),
            },
        )


def _worker(
    sock: socket.socket,
    index: int,
    count: int,
    directory: str,
    host: str,
    port: int,
    log_level: str,
    log_format: str,
) -> None:
    """One worker process: this shard's settings, then uvicorn on the shared socket."""
    os.environ["DSOM_SHARD_INDEX"] = str(index)
    os.environ["DSOM_SHARD_COUNT"] = str(count)
    os.environ["DSOM_SHARD_DIR"] = directory
    logs.configure(log_level, log_format)
    uvicorn.Server(_config(host, port, log_level)).run(sockets=[sock])
