"""Reports benchmark: `python bench/reports.py [--operations 10000000] [--days 35] [...]`.

Builds a SQLite database (the embedded default) holding `--operations` accepted
operations of the demo market's 50 organizers over the last `--days` days, then times
every report over the last 31 days (`from` = 30 days before today, `to` = tomorrow,
Kyiv dates) as the regulator, and the organizer's eight as the largest organizer, and
prints p50/p95 per report. Each timing is one `service.run` plus the JSON encoding:
what `GET /api/v1/reports/{id}` does without the HTTP framing.

The market is the demo market (`dsom seed-demo`), grown until 50 organizers have an
active licence with channels (53 registered). The database is built directly, not
through HTTP (10 M operations through the API would take the better part of an hour):
the operations in blocks as the ingest engine writes them (canonical bytes, the
hash chain, seq in order of receipt), and the rollups the engine keeps computed
alongside (operations_hourly, submissions_hourly, rejections_hourly, players_hourly /
players_daily / players_monthly, large_wins); then `IngestStore.rebuild_report_rollups`
computes from those the report rollups the engine keeps at ingest (operations_daily,
operations_hours, rejections_daily, the player counts). The traffic is shaped like a
market: organizers' sizes follow a power law (the largest ~12 % of operations), a day
peaks in the evening and sleeps at 4-6 am (Kyiv), 52 % bets, 22 % wins on earlier bets
(a few large ones), 1.5 % refunds, 14 % deposits, 10.5 % withdrawals; players per
organizer from 2,000 to 60,000, a few frequent ones; 1 % of operations late (by 20
minutes to 3 days); 0.4 % of received operations rejected, with codes.

`--path` keeps the database (and reuses it if it exists: `--rebuild` to build anew).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from dsom.auth.permissions import Role, permissions_of
from dsom.auth.principal import Principal
from dsom.demo import market as demo
from dsom.ingest.blocks import split
from dsom.ingest.players import packed
from dsom.ingest.repository import IngestStore
from dsom.ingest.taxes import TaxTable
from dsom.kit import gcwatch
from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade
from dsom.kit.settings import Settings
from dsom.kit.time import KYIV
from dsom.reports import service
from dsom.reports.declarations import REPORT_LIST
from dsom.reports.live import Live, Throughput

HOUR_US = 3_600_000_000
SENDERS = 50  # organizers sending operations
CODES = (
    "schema_violation",
    "unknown_license",
    "license_inactive",
    "unknown_channel",
    "unknown_bet",
    "refund_exceeds_stake",
)
DIURNAL = [0.5, 0.35, 0.25, 0.2, 0.15, 0.15, 0.25, 0.4, 0.6, 0.75, 0.85, 0.9,
           0.95, 1.0, 1.0, 1.0, 1.05, 1.15, 1.3, 1.5, 1.7, 1.8, 1.5, 0.9]  # fmt: skip
KINDS = ("bet", "win", "refund", "deposit", "withdrawal")
MIX = (0.52, 0.22, 0.015, 0.14, 0.105)
_encode = msgspec.json.Encoder().encode


def _licences(market: demo.Market) -> dict[str, list[tuple[str, str, list[dict[str, str]]]]]:
    """Each organizer's active licences with their active channels."""
    channels: dict[str, list[dict[str, str]]] = defaultdict(list)
    for name, kind in (("websites", "website"), ("mobile_apps", "mobile_app")):
        for row in market.rows[name]:
            if row["status"] == "active":
                channels[row["licence"]].append({"kind": kind, "id": row["id"]})
    est_licence = {r["id"]: r["licence"] for r in market.rows["establishments"]}
    for row in market.rows["establishments"]:
        if row["status"] == "active":
            channels[row["licence"]].append({"kind": "establishment", "id": row["id"]})
    for row in market.rows["equipment"]:
        if row["status"] == "active":
            channels[est_licence[row["establishment"]]].append(
                {"kind": "equipment", "id": row["id"]}
            )
    found: dict[str, list[tuple[str, str, list[dict[str, str]]]]] = defaultdict(list)
    active = {r["edrpou"] for r in market.rows["organizers"] if r["status"] == "active"}
    for row in market.rows["licences"]:
        if row["status"] == "active" and row["organizer"] in active and channels[row["number"]]:
            found[row["organizer"]].append(
                (row["number"], row["activity"], channels[row["number"]][:20])
            )
    return found


def _with_statuses(market: demo.Market) -> demo.Market:
    """The market with the statuses `demo.load` records after the entries applied."""
    for name, key, status in market.later_status:
        keyed = {"organizers": "edrpou", "licences": "number"}.get(name, "id")
        for row in market.rows[name]:
            if row[keyed] == key:
                row["status"] = status
    return market


def _rfc3339(us: int) -> str:
    return (
        datetime.fromtimestamp(us // 1_000_000, UTC)
        .replace(microsecond=us % 1_000_000)
        .strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    )


def build(path: Path, operations: int, days: int, seed: int) -> None:
    """A migrated SQLite database of the demo market and `operations` operations."""
    started = time.monotonic()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    today = datetime.now(UTC).astimezone(KYIV).date()
    size = 50  # the demo market leaves a few organizers pending, suspended or without channels
    while len(_licences(_with_statuses(demo.generate(size, today=today)))) < SENDERS:
        size += 1
    market = demo.generate(size, today=today)
    with engine.begin() as conn:
        demo.load(conn, market)
    engine.dispose()
    licences = _licences(market)
    orgs = sorted(licences)[:SENDERS]
    rnd = random.Random(seed)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(orgs))]
    rnd.shuffle(weights)
    total_weight = sum(weights)
    share = {org: w / total_weight for org, w in zip(orgs, weights, strict=True)}
    players = {org: int(2_000 + 58_000 * share[org] / max(share.values())) for org in orgs}
    taxes = TaxTable(Settings().tax_rates)
    floor = Settings().large_win_floor

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    for table, period in SEED_PLAYERS:  # players one by one, packed at the end
        db.execute(
            f"CREATE TEMP TABLE seed_{table} (organizer, {period}, activity, player_id, "
            f"PRIMARY KEY (organizer, {period}, activity, player_id))"
        )
    now_us = int(time.time() * 1_000_000)
    first_hour = now_us // HOUR_US - days * 24
    hours = list(range(first_hour, now_us // HOUR_US + 1))
    curve = [DIURNAL[datetime.fromtimestamp(h * 3600, UTC).astimezone(KYIV).hour] for h in hours]
    per_hour = operations / sum(curve)

    seq = dict.fromkeys(orgs, 0)
    head = {org: hashlib.sha256(f"dsom-ledger-v1:{org}".encode()).digest() for org in orgs}
    recent_bets: dict[str, list[tuple[int, str, str, str, str, int]]] = {o: [] for o in orgs}
    hourly: dict[tuple[Any, ...], list[int]] = {}
    submitted: dict[tuple[str, int], list[int]] = {}
    rejected: dict[tuple[str, int, str], int] = defaultdict(int)
    ops_rows: dict[str, tuple[int, list[Any]]] = {}  # organizer -> (first seq, entries)
    players_rows: list[tuple[str, str, str, str]] = []
    hourly_players: list[tuple[str, int, str, str]] = []
    wins_rows: list[tuple[Any, ...]] = []
    day_of: dict[int, tuple[str, str]] = {}
    written = flushed = 0
    insert_ops = (
        "INSERT INTO operation_blocks (organizer, first_seq, last_seq, entries) VALUES (?, ?, ?, ?)"
    )

    def flush() -> None:
        db.execute("BEGIN")
        db.executemany(
            insert_ops,
            [row for org, (first, run) in ops_rows.items() for row in split(org, first, run)],
        )
        db.executemany(
            "INSERT INTO seed_players_daily (organizer, day, activity, player_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            players_rows,
        )
        db.executemany(
            "INSERT INTO seed_players_hourly (organizer, hour, activity, player_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            hourly_players,
        )
        db.executemany(
            "INSERT INTO seed_players_monthly (organizer, month, activity, player_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(o, d[:8] + "01", a, p) for o, d, a, p in players_rows],
        )
        db.executemany("INSERT INTO large_wins VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", wins_rows)
        db.execute("COMMIT")
        ops_rows.clear()
        players_rows.clear()
        hourly_players.clear()
        wins_rows.clear()

    cumulative = list(MIX)
    for i in range(1, len(cumulative)):
        cumulative[i] += cumulative[i - 1]
    for hour, weight in zip(hours, curve, strict=True):
        hour_start = hour * HOUR_US
        if hour_start > now_us:
            break
        for org in orgs:
            expected = per_hour * weight * share[org]
            count = int(expected) + (rnd.random() < expected - int(expected))
            if not count:
                continue
            lics = licences[org]
            span = min(HOUR_US, now_us - hour_start)
            instants = sorted(hour_start + rnd.randrange(span) for _ in range(count))
            base = players[org]
            for received in instants:
                roll = rnd.random()
                kind = next(k for k, edge in zip(KINDS, cumulative, strict=True) if roll < edge)
                occurred = received - rnd.randrange(100_000, 2_000_000)
                late = False
                if rnd.random() < 0.01:
                    occurred = received - rnd.randrange(20 * 60_000_000, 72 * HOUR_US)
                    late = True
                occurred = max(occurred, first_hour * HOUR_US)
                bets = recent_bets[org]
                if kind in ("win", "refund") and not bets:
                    kind = "bet"
                seq[org] += 1
                n = seq[org]
                op_id = f"{org}-{n}"
                bet_seq = None
                if kind in ("win", "refund"):
                    bet_seq, licence, activity, player, bet_id, stake = rnd.choice(bets)
                    if kind == "refund":
                        amount = stake
                    else:
                        amount = int(stake * rnd.expovariate(0.6)) + 1
                        if rnd.random() < 0.002:
                            amount = rnd.randrange(floor, 20_000_000)
                    canonical = (
                        f'{{"amount":{amount},"bet_id":"{bet_id}","currency":"UAH",'
                        f'"license":"{licence}","occurred_at":"{_rfc3339(occurred)}",'
                        f'"operation_id":"{op_id}","player_id":"{player}","type":"{kind}"}}'
                    )
                else:
                    licence, activity, channels = rnd.choice(lics)
                    channel = rnd.choice(channels)
                    # a few frequent players: the top 1 % place ~16 % of the bets
                    player = f"p{int(base * rnd.random() ** 2.5) * 7919 % base}"
                    amount = (
                        int(rnd.lognormvariate(9.5, 1.3)) + 100
                        if kind == "bet"
                        else int(rnd.lognormvariate(12, 1.1)) + 1000
                    )
                    ch = json.dumps(channel, separators=(",", ":"), sort_keys=True)
                    extra = f'"game_type":"{activity}",' if kind == "bet" else ""
                    payment = '"payment_method":"card",' if kind != "bet" else ""
                    canonical = (
                        f'{{"amount":{amount},"channel":{ch},"currency":"UAH",{extra}'
                        f'"license":"{licence}","occurred_at":"{_rfc3339(occurred)}",'
                        f'"operation_id":"{op_id}",{payment}"player_id":"{player}",'
                        f'"type":"{kind}"}}'
                    )
                    if kind == "bet":
                        bets.append((n, licence, activity, player, op_id, amount))
                        if len(bets) > 200:
                            del bets[: len(bets) - 200]
                data = canonical.encode()
                digest = hashlib.sha256(head[org] + data).digest()
                head[org] = digest
                ops_rows.setdefault(org, (n, []))[1].append(
                    (op_id, kind, occurred, received, licence, activity, player, amount,
                     bet_seq, late, data, digest)
                )  # fmt: skip
                written += 1
                occurred_hour = occurred // HOUR_US
                tax = levy = 0
                if kind == "win":
                    tax, levy = taxes.on_win(amount, occurred)
                    if amount >= floor:
                        wins_rows.append(
                            (org, n, occurred, amount, op_id, licence, activity, player, bet_id)
                        )
                if kind == "bet":
                    days_ = day_of.get(occurred_hour)
                    if days_ is None:
                        local = datetime.fromtimestamp(occurred_hour * 3600, UTC).astimezone(KYIV)
                        days_ = (local.date().isoformat(), "")
                        day_of[occurred_hour] = days_
                    players_rows.append((org, days_[0], activity, player))
                    hourly_players.append((org, occurred_hour, activity, player))
                key = (org, occurred_hour, licence, activity, kind)
                rollup = hourly.get(key)
                if rollup is None:
                    hourly[key] = [1, amount, int(late), tax, levy]
                else:
                    rollup[0] += 1
                    rollup[1] += amount
                    rollup[2] += late
                    rollup[3] += tax
                    rollup[4] += levy
                sub = submitted.setdefault((org, received // HOUR_US), [0, 0, 0, 0, 0, 0])
                sub[2] += 1
                sub[5] = max(sub[5], received)
            sub = submitted[(org, instants[-1] // HOUR_US)]
            bad = sum(rnd.random() < 0.004 for _ in range(count))
            for _ in range(bad):
                rejected[(org, instants[-1] // HOUR_US, rnd.choice(CODES))] += 1
            sub[4] += bad
            sub[3] += int(count * 0.001)
            sub[0] += max(1, count // 200)
            sub[1] = sub[2] + sub[3] + sub[4]
        if written - flushed >= 200_000:
            flushed = written
            flush()
            print(
                f"\r  {written:,} operations, {time.monotonic() - started:.0f} s",
                end="",
                file=sys.stderr,
            )
    flush()
    print(f"\r  {written:,} operations, {time.monotonic() - started:.0f} s", file=sys.stderr)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO operations_hourly (organizer, hour, licence, activity, type, count, amount, "
        "late, income_tax, military_levy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*k, *v) for k, v in hourly.items()],
    )
    for (org, hour), sub in submitted.items():
        sub[1] = sub[2] + sub[3] + sub[4]
        db.execute(
            "INSERT INTO submissions_hourly VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (org, hour, *sub)
        )
    db.executemany(
        "INSERT INTO rejections_hourly VALUES (?, ?, ?, ?)",
        [(*k, v) for k, v in rejected.items()],
    )
    _pack_players(db)
    db.execute("COMMIT")
    db.close()
    engine = make_engine(url)
    store = IngestStore(engine)
    store.rebuild_report_rollups()
    store.close()
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(
        f"built {written:,} operations of {len(orgs)} organizers over {days} days "
        f"in {time.monotonic() - started:.0f} s; {path.stat().st_size / 2**30:.2f} GiB",
        file=sys.stderr,
    )


SEED_PLAYERS = (("players_hourly", "hour"), ("players_daily", "day"), ("players_monthly", "month"))


def _pack_players(db: sqlite3.Connection) -> None:
    """The seeded players, packed by the engine's own function (ingest/players.py), each
    player given a seq of its own below zero, as rows from before the engine kept them."""
    for table, period in SEED_PLAYERS:
        found = db.execute(
            f"SELECT organizer, {period}, activity, player_id FROM seed_{table}"
        ).fetchall()
        db.executemany(
            f"INSERT INTO {table} (organizer, {period}, seq, activity, players, player_ids) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            packed((*row, -n) for n, row in enumerate(found, start=1)),
        )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def measure(
    path: Path, repeat: int, only: set[str] | None = None, granularities: bool = True
) -> list[tuple[str, str, float, float, float, int]]:
    """(report, who, first, p50, p95 ms, rows) of each report over the last 31 days."""
    gcwatch.install()  # the garbage collector's thresholds of a `dsom serve` process
    logging.getLogger("dsom.gc").setLevel(logging.ERROR)  # its pauses are in the timings
    settings = Settings(database_url=f"sqlite:///{path}")
    engine = make_engine(settings.database_url, sqlite_cache_mb=settings.sqlite_cache_mb)
    today = datetime.now(UTC).astimezone(KYIV).date()
    raw_range = {
        "from": (today - timedelta(days=30)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }
    throughput = Throughput(engine)
    throughput.sample()
    live = Live(started=time.monotonic() - 3600, latencies=[0.05] * 1000, throughput=throughput)
    regulator = Principal(
        "token", "bench", "bench", frozenset({Role.REGULATOR}),
        permissions_of(frozenset({Role.REGULATOR})),
    )  # fmt: skip
    with engine.connect() as conn:
        largest = conn.exec_driver_sql(
            "SELECT organizer FROM operations_daily GROUP BY organizer ORDER BY SUM(count) DESC"
        ).scalar()
    organizer = Principal(
        "person", "bench", "bench", frozenset({Role.ORGANIZER_HEAD}),
        permissions_of(frozenset({Role.ORGANIZER_HEAD})), organizer=largest,
    )  # fmt: skip
    results = []
    for who, principal in (("regulator", regulator), ("organizer", organizer)):
        for report in REPORT_LIST:
            if not report.granted_by & principal.permissions:
                continue
            if only and report.id not in only:
                continue
            variants: list[tuple[str, dict[str, str]]] = [("", {})]
            if "granularity" in report.filters and who == "regulator" and granularities:
                today_only = {"from": today.isoformat(), "granularity": "hour"}
                variants += [
                    ("hour", {"granularity": "hour"}),
                    ("month", {"granularity": "month"}),
                    ("hour, today only", today_only),
                ]
            for variant, extra in variants:
                raw = {k: v for k, v in raw_range.items() if k in report.filters}
                raw.update(extra)
                timings = []
                rows = 0
                for _ in range(repeat + 1):
                    t0 = time.perf_counter()
                    table = service.run(
                        engine, report.id, principal, raw, settings=settings, live=live
                    )
                    _encode(table.as_json())
                    timings.append((time.perf_counter() - t0) * 1000)
                    rows = len(table.rows)
                name = f"{report.id}" + (f" ({variant})" if variant else "")
                first, rest = timings[0], timings[1:]
                results.append(
                    (name, who, first, _percentile(rest, 0.5), _percentile(rest, 0.95), rows)
                )
                print(
                    f"{name:32} {who:10} first {first:8.1f}  p50 {results[-1][3]:8.1f}  "
                    f"p95 {results[-1][4]:8.1f} ms  {rows} rows",
                    file=sys.stderr,
                )
    engine.dispose()
    return results


def main() -> None:
    """Build (or reuse) the database, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--operations", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per report")
    parser.add_argument("--path", type=Path, help="keep the database here (reused if it exists)")
    parser.add_argument("--rebuild", action="store_true", help="build anew even if it exists")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", help="comma-separated report ids (default: all)")
    parser.add_argument(
        "--no-variants", action="store_true", help="only the default granularity (day)"
    )
    args = parser.parse_args()
    folder = None
    if args.path is None:
        folder = Path(tempfile.mkdtemp(prefix="dsom-bench-reports-"))
        path = folder / "dsom.db"
    else:
        path = args.path
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            build(path, args.operations, args.days, args.seed)
        with sqlite3.connect(path) as db:
            (count,) = db.execute(
                "SELECT SUM(last_seq - first_seq + 1) FROM operation_blocks"
            ).fetchone()
        print(f"{count:,} operations stored; {path.stat().st_size / 2**30:.2f} GiB")
        only = set(args.only.split(",")) if args.only else None
        results = measure(path, args.repeat, only, granularities=not args.no_variants)
        print()
        print("| report | as | rows | first (ms) | p50 (ms) | p95 (ms) |")
        print("|---|---|---|---|---|---|")
        for name, who, first, p50, p95, rows in results:
            print(f"| `{name}` | {who} | {rows} | {first:.1f} | {p50:.1f} | **{p95:.1f}** |")
        worst = max(
            (r for r in results if "(" not in r[0]),
            key=lambda r: r[4],
        )
        print(f"\nslowest at day granularity: {worst[0]} ({worst[1]}), p95 {worst[4]:.1f} ms")
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
