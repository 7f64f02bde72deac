"""Where an operation's CPU goes, without HTTP: `python bench/engine.py [--profile]`.

Drives one in-process ingest engine (as one `dsom serve` worker owns it) on a fresh
SQLite or PostgreSQL database seeded with the demo market, with the same request bodies
as bench/ingest.py, and prints CPU microseconds per operation for decoding (envelope,
structs, instants, canonical bytes) and for the rest (judging, ledger, rollups and the
writer's statements), measured with the process's CPU clock. `--profile` adds the
functions that cost the most (cProfile, main thread only: the writer thread's SQL is
not in it). Use it to see what a change to the hot path saves; quote throughput from
bench/ingest.py, which includes HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dsom.demo import market as demo
from dsom.ingest import api
from dsom.ingest.engine import IngestEngine, decode_items, decoded_items
from dsom.ingest.schemas import decode_envelope, decode_whole
from dsom.kit import gcwatch
from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade
from dsom.kit.settings import Settings
from ingest import TOKEN, _database, _usable, make_template


def _decode(body: bytes) -> list[object]:
    ops = decode_whole(body)  # as the API decodes a body (ingest/api.py, _submit)
    return list(decoded_items(ops) if ops is not None else decode_items(decode_envelope(body)))


async def run(args: argparse.Namespace, url: str) -> None:
    gcwatch.install()  # the collector's thresholds of `dsom serve` (app.py), not CPython's
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    market = demo.generate(50, today=now.date())
    with engine.begin() as conn:
        demo.load(conn, market)
        keys = demo.keys_file(market, demo.issue_keys(conn, market))
    organizers = _usable(json.loads(json.dumps(keys)))
    rnd = random.Random(7)
    occurred_at = now.isoformat(timespec="microseconds").replace("+00:00", "Z")
    bodies = [
        (code, make_template(rnd, code, licences, args.ops_per_request, occurred_at))
        for _ in range(4)
        for code, _key, licences in organizers
    ]
    ingest = IngestEngine(engine, Settings(database_url=url))
    await ingest.start()
    writer_cpu = [0.0]
    write = ingest.store.write

    def timed_write(w: object) -> None:  # the writer thread's own CPU time
        began = time.thread_time()
        try:
            write(w)  # type: ignore[arg-type]
        finally:
            writer_cpu[0] += time.thread_time() - began

    ingest.store.write = timed_write  # type: ignore[method-assign]
    serial = iter(range(10**8))

    def stamped(i: int) -> tuple[str, bytes]:
        code, template = bodies[i % len(bodies)]
        return code, template.replace(TOKEN, b"%08d" % next(serial))

    requests = [stamped(i) for i in range(args.requests)]
    operations = args.requests * args.ops_per_request

    started = time.process_time()
    for _code, body in requests[: len(requests) // 4]:
        _decode(body)
    decode_us = (time.process_time() - started) / (operations / 4) * 1e6

    profiler = cProfile.Profile() if args.profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for start in range(0, len(requests), args.concurrency):
        chunk = requests[start : start + args.concurrency]
        received = time.time_ns() // 1000
        await asyncio.gather(*(api._submit(ingest, c, received, b) for c, b in chunk))
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await ingest.stop()
    engine.dispose()
    total_us = cpu / operations * 1e6
    writer_us = writer_cpu[0] / operations * 1e6
    print(
        f"db={args.db} operations={operations:,} in {args.requests} requests of "
        f"{args.ops_per_request}, {args.concurrency} at a time"
    )
    print(f"wall {wall:.2f} s: {operations / wall:,.0f} ops/s on one engine, no HTTP")
    print(
        f"CPU per operation: {total_us:.1f} µs in all: decoding {decode_us:.1f} µs, "
        f"the writer's statements {writer_us:.1f} µs, judging and the rest "
        f"{total_us - decode_us - writer_us:.1f} µs"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile_lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--ops-per-request", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-lines", type=int, default=25)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dsom-bench-engine-"))
    url, drop = _database(args.db, workdir)
    try:
        asyncio.run(run(args, url))
    finally:
        if drop is not None:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
