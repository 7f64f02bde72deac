"""Ingest throughput benchmark: `python bench/ingest.py [--db sqlite|postgres] [...]`.

Starts a fresh DSOM server (`dsom serve`) on a fresh database, seeds the demo market,
then drives `POST /api/v1/operations` with valid mixed traffic from every active
organizer over N keep-alive connections for D seconds, and prints accepted operations
per second (overall and per 10-second window) and answer latency percentiles;
`--window S` adds both by windows of S seconds (the start of a run, the tail).

The load generator must cost little CPU, since it shares the machine with the server:
request bodies are built before the clock starts, a few templates per organizer, and
each send stamps a fresh fixed-width request token into every operation id with one
`bytes.replace`, so every request is new and its wins and refunds still refer to the
bets in the same body. Requests go out on raw asyncio sockets (HTTP/1.1 keep-alive).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TOKEN = b"QQQQQQQQ"
BIN = Path(sys.executable).parent


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    answered: list[tuple[float, float, int]] = field(default_factory=list)  # (s in, s, accepted)
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    failures: dict[int, int] = field(default_factory=dict)
    windows: dict[int, int] = field(default_factory=dict)  # 10-s window -> accepted
    elapsed: float = 0.0


Licences = list[tuple[dict[str, Any], list[dict[str, str]]]]


def _usable(keys: dict[str, Any]) -> list[tuple[str, str, Licences]]:
    organizers = []
    for org in keys["organizers"]:
        if org["status"] != "active":
            continue
        licences = []
        for lic in org["licenses"]:
            channels = [c for c in lic["channels"] if c["status"] == "active"]
            if lic["status"] == "active" and channels:
                licences.append((lic, channels))
        if licences:
            organizers.append((org["code"], org["api_key"], licences))
    return organizers


def make_template(
    rnd: random.Random, code: str, licences: list[Any], size: int, occurred_at: str
) -> bytes:
    """One request body of `size` valid operations, ids carrying the TOKEN placeholder."""
    token = TOKEN.decode()
    ops: list[dict[str, Any]] = []
    bets: list[dict[str, Any]] = []
    for i in range(size):
        lic, channels = rnd.choice(licences)
        roll = rnd.random()
        common = {
            "operation_id": f"{token}-{i}",
            "occurred_at": occurred_at,
            "license": lic["number"],
            "currency": "UAH",
        }
        if bets and roll < 0.27:
            bet = rnd.choice(bets)
            kind = "refund" if roll < 0.02 and not bet.get("_refunded") else "win"
            amount = bet["amount"] if kind == "refund" else bet["amount"] * rnd.randint(1, 5)
            if kind == "refund":
                bet["_refunded"] = True
            ops.append(
                {
                    **common,
                    "type": kind,
                    "license": bet["license"],
                    "player_id": bet["player_id"],
                    "amount": amount,
                    "bet_id": bet["operation_id"],
                }
            )
        elif roll < 0.45:
            channel = rnd.choice(channels)
            ops.append(
                {
                    **common,
                    "type": rnd.choice(("deposit", "withdrawal")),
                    "player_id": f"p{code}-{rnd.randint(1, 20000)}",
                    "amount": rnd.randint(100, 2_000_000),
                    "channel": {"kind": channel["kind"], "id": channel["id"]},
                    "payment_method": rnd.choice(("card", "bank_transfer", "e_wallet")),
                }
            )
        else:
            channel = rnd.choice(channels)
            bet = {
                **common,
                "type": "bet",
                "player_id": f"p{code}-{rnd.randint(1, 20000)}",
                "amount": rnd.randint(100, 500_000),
                "game_type": lic["activity"],
                "channel": {"kind": channel["kind"], "id": channel["id"]},
            }
            ops.append(bet)
            bets.append(bet)
    for op in ops:
        op.pop("_refunded", None)
    return json.dumps({"operations": ops}, separators=(",", ":")).encode()


async def drive(
    host: str,
    port: int,
    bodies: list[tuple[bytes, bytes]],
    connections: int,
    duration: float,
) -> Results:
    """Send the bodies round-robin on `connections` sockets for `duration` seconds."""
    results = Results()
    counter = iter(range(10**8))
    start = time.perf_counter()
    deadline = start + duration

    async def worker(w: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        i = w
        while time.perf_counter() < deadline:
            key, template = bodies[i % len(bodies)]
            i += connections
            body = template.replace(TOKEN, b"%08d" % next(counter))
            head = (
                b"POST /api/v1/operations HTTP/1.1\r\nHost: bench\r\n"
                b"Content-Type: application/json\r\nAuthorization: Bearer "
                + key
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
            )
            sent = time.perf_counter()
            writer.write(head)
            writer.write(body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            done = time.perf_counter()
            status = int(status_line.split()[1])
            results.latencies.append(done - sent)
            if status != 200:
                results.failures[status] = results.failures.get(status, 0) + 1
                continue
            parsed = json.loads(answer)
            results.accepted += parsed["accepted"]
            results.rejected += parsed["rejected"]
            results.duplicates += parsed["duplicates"]
            window = int((done - start) // 10)
            results.windows[window] = results.windows.get(window, 0) + parsed["accepted"]
            results.answered.append((done - start, done - sent, parsed["accepted"]))
            if parsed["rejected"] and results.rejected == parsed["rejected"]:
                print("first rejection:", parsed["errors"][0], file=sys.stderr)
        writer.close()

    await asyncio.gather(*(worker(w) for w in range(connections)))
    results.elapsed = time.perf_counter() - start
    return results


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc; empty elsewhere)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids.extend(int(k) for k in (task / "children").read_text().split())
    return kids


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database(kind: str, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{workdir}/bench.db", None
    import psycopg

    admin_url = os.environ.get(
        "DSOM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"dsom_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", drop


def _wait_ready(port: int, workers: int, patience_s: float = 60.0) -> None:
    """Wait until every server process has answered /healthz."""
    seen: set[int] = set()
    deadline = time.monotonic() + patience_s
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not come up: workers seen {sorted(seen)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := conn.recv(65536):
                    answer += chunk
            seen.add(int(json.loads(answer.split(b"\r\n\r\n", 1)[1])["worker"]))
        except (OSError, ValueError, KeyError, IndexError):
            time.sleep(0.1)


@contextlib.contextmanager
def dsom_serve(
    port: int, workers: int, env: dict[str, str], log: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """`dsom serve` on 127.0.0.1:`port`, its log to `log`; stopped (SIGINT) at the end."""
    server = subprocess.Popen(
        [str(BIN / "dsom"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--organizers", type=int, default=50)
    parser.add_argument("--ops-per-request", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--templates", type=int, default=8, help="bodies per organizer")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--workers", type=int, default=1, help="server processes (dsom serve)")
    parser.add_argument(
        "--window",
        type=float,
        default=0,
        help="also print ops/s and answer percentiles by windows of this many seconds",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="dsom-bench-"))
    url, drop = _database(args.db, workdir)
    env = {**os.environ, "DSOM_DATABASE_URL": url, "DSOM_LOG_LEVEL": "warning"}
    subprocess.run(
        [
            str(BIN / "dsom"),
            "seed-demo",
            "--organizers",
            str(args.organizers),
            "--keys-out",
            str(workdir / "keys.json"),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    keys = json.loads((workdir / "keys.json").read_text())
    organizers = _usable(keys)
    rnd = random.Random(7)
    occurred_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    started = time.perf_counter()
    bodies = [
        (key.encode(), make_template(rnd, code, licences, args.ops_per_request, occurred_at))
        for _ in range(args.templates)
        for code, key, licences in organizers
    ]
    rnd.shuffle(bodies)
    print(
        f"{len(organizers)} organizers, {len(bodies)} templates of {args.ops_per_request} "
        f"operations ({sum(len(b) for _, b in bodies) / len(bodies) / args.ops_per_request:.0f} "
        f"bytes an operation), built in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    port = _free_port()
    log = (workdir / "server.log").open("w")  # closed when the server has stopped
    try:
        with dsom_serve(port, args.workers, env, log) as server:
            _wait_ready(port, args.workers)
            try:
                import uvloop

                uvloop.install()
            except ImportError:
                pass
            # CPU of the server's processes and of this load generator over the drive: on a
            # shared machine µs of CPU per operation move far less than operations a second.
            server_pids = [server.pid, *_children(server.pid)]
            server_cpu, own_cpu = _cpu_seconds(server_pids), time.process_time()
            results = asyncio.run(drive("127.0.0.1", port, bodies, args.connections, args.duration))
            server_cpu = _cpu_seconds(server_pids) - server_cpu
            own_cpu = time.process_time() - own_cpu
    finally:
        log.close()
        if drop is not None:
            drop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    elapsed = results.elapsed
    lat = sorted(results.latencies)
    print(
        f"db={args.db} organizers={len(organizers)} ops/request={args.ops_per_request} "
        f"connections={args.connections} duration={elapsed:.1f}s"
    )
    print(
        f"accepted {results.accepted:,} operations: {results.accepted / elapsed:,.0f} ops/s; "
        f"rejected {results.rejected:,}, duplicates {results.duplicates:,}, "
        f"non-200 answers {results.failures or 'none'}"
    )
    print(
        f"answer latency ms: p50 {_ms_at(lat, 50):.1f}  p90 {_ms_at(lat, 90):.1f}  "
        f"p99 {_ms_at(lat, 99):.1f}  "
        f"max {lat[-1] * 1000:.1f}  (mean {statistics.fmean(lat) * 1000:.1f}, "
        f"{len(lat)} requests)"
    )
    requests = max(1, len(lat))
    print(
        f"CPU: server {server_cpu:.1f} s ({server_cpu / max(1, results.accepted) * 1e6:.1f} µs "
        f"an accepted operation, {server_cpu / requests * 1e6:.0f} µs a request), load "
        f"generator {own_cpu:.1f} s; load average at the end "
        + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    )
    windows = [results.windows.get(w, 0) / 10 for w in range(int(elapsed // 10))]
    if windows:
        print("accepted ops/s by 10-s window: " + ", ".join(f"{w:,.0f}" for w in windows))
        if len(windows) >= 2:
            print(f"last window vs first: {(windows[-1] / windows[0] - 1) * 100:+.1f} %")
    if args.window > 0:
        _print_windows(results, args.window)


def _print_windows(results: Results, size: float) -> None:
    """Accepted ops/s and answer percentiles by window of `size` seconds (by answer time)."""
    print(f"by {size:g}-s window: start s, accepted ops/s, answers, p50 / p99 / max ms")
    for w in range(int(results.elapsed // size)):
        inside = [(lat, n) for t, lat, n in results.answered if w * size <= t < (w + 1) * size]
        if not inside:
            continue
        lat = sorted(x for x, _ in inside)
        print(
            f"  {w * size:6.1f}  {sum(n for _, n in inside) / size:9,.0f}  {len(lat):6d}  "
            f"{_ms_at(lat, 50):6.1f} / {_ms_at(lat, 99):6.1f} / {lat[-1] * 1000:6.1f}"
        )


def _ms_at(lat: list[float], p: float) -> float:
    """The p-th percentile of sorted answer times in seconds, in milliseconds."""
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000


if __name__ == "__main__":
    main()
