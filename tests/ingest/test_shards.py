"""`dsom serve --workers 2`: organizers shared out between processes, on both databases.

A real `dsom serve` runs as a subprocess. Each HTTP client below keeps one connection,
so it talks to one worker process; tests send every organizer's operations through
both, so every request is judged by its owner, directly or passed over the link.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from dsom import serving
from dsom.auth.keys import create_key, deactivate_key
from dsom.ingest.shards import PLAN_FILE, Shards, plan_shards, read_plan, shard_of, write_plan
from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade
from dsom.kit.time import today_kyiv
from dsom.reports.models import operations_daily
from tests.builders import Market, make_market, win
from tests.conftest import Database, _free_port, drop_postgres, fresh_postgres

DSOM = Path(sys.executable).parent / "dsom"
OPERATIONS = "/api/v1/operations"


def test_shard_of_is_stable_and_spreads_organizers() -> None:
    codes = [f"{40000000 + i}" for i in range(200)]
    assert [shard_of(c, 2) for c in codes] == [shard_of(c, 2) for c in codes]
    for count in (2, 3, 4):
        shares = [sum(1 for c in codes if shard_of(c, count) == i) for i in range(count)]
        assert all(share > 200 / count / 2 for share in shares), shares
    assert {shard_of(c, 1) for c in codes} == {0}


def test_each_shard_owns_exactly_its_organizers(tmp_path: Path) -> None:
    shards = [Shards(i, 3, tmp_path) for i in range(3)]
    for code in (f"{40000000 + i}" for i in range(50)):
        assert [s.owns(code) for s in shards].count(True) == 1
    assert Shards().owns("anything")
    with pytest.raises(ValueError, match="not within"):
        Shards(2, 2, tmp_path)
    with pytest.raises(ValueError, match="need a directory"):
        Shards(0, 2, None)


def test_organizers_with_no_traffic_yet_are_shared_out_evenly() -> None:
    codes = [f"{40000000 + i}" for i in range(46)]
    plan = plan_shards(dict.fromkeys(codes, 0), 2)

    assert sorted(plan) == codes
    assert [list(plan.values()).count(i) for i in (0, 1)] == [23, 23]
    assert plan == plan_shards(dict.fromkeys(reversed(codes), 0), 2)  # the same every time


def test_organizers_are_shared_out_by_their_traffic() -> None:
    volumes = {"10000001": 900, "10000002": 500, "10000003": 300, "10000004": 100, "10000005": 0}
    plan = plan_shards(volumes, 2)

    loads = [sum(v for code, v in volumes.items() if plan[code] == i) for i in (0, 1)]
    assert plan["10000001"] != plan["10000002"]  # the two busiest apart
    assert sorted(loads) == [900, 900]
    three = plan_shards(volumes, 3)
    assert {three["10000001"], three["10000002"], three["10000003"]} == {0, 1, 2}


def test_every_process_owns_what_the_plan_gives_it_and_the_hash_decides_the_rest(
    tmp_path: Path,
) -> None:
    codes = [f"{40000000 + i}" for i in range(10)]
    plan = plan_shards(dict.fromkeys(codes, 0), 2)
    write_plan(tmp_path, 2, plan)
    shards = [Shards(i, 2, tmp_path) for i in (0, 1)]

    for code in codes:
        assert [s.owns(code) for s in shards] == [plan[code] == 0, plan[code] == 1]
    later = "49999999"  # registered after the plan was made
    assert [s.owns(later) for s in shards] == [shard_of(later, 2) == 0, shard_of(later, 2) == 1]
    with pytest.raises(ValueError, match="not a plan for 3 processes"):
        read_plan(tmp_path, 3)
    assert read_plan(tmp_path / "elsewhere", 2) == {}


def test_dsom_serve_shares_out_the_register_by_last_weeks_traffic(
    database: Database, db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markets = [make_market(db) for _ in range(4)]
    busy, other = markets[0].organizer, markets[1].organizer
    today = today_kyiv()
    with db.begin() as conn:
        for code, day, count in (
            (busy, today, 3_000),
            (other, today - timedelta(days=2), 1_000),
            (other, today - timedelta(days=30), 50_000),  # too long ago to count
        ):
            conn.execute(
                operations_daily.insert().values(
                    organizer=code,
                    day=day,
                    activity="online_casino",
                    type="bet",
                    count=count,
                    amount=count,
                    late=0,
                    income_tax=0,
                    military_levy=0,
                )
            )
    monkeypatch.setenv("DSOM_DATABASE_URL", database.url)

    serving._share_out(tmp_path, 2)

    plan = read_plan(tmp_path, 2)
    assert sorted(plan) == sorted(m.organizer for m in markets)
    # The busy organizer alone on one process; the three others together on the other.
    assert [c for c in plan if plan[c] == plan[busy]] == [busy]


def test_dsom_serve_goes_by_hash_when_the_database_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSOM_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    serving._share_out(tmp_path, 2)
    assert not (tmp_path / PLAN_FILE).exists()


@dataclass
class Cluster:
    """`dsom serve --workers 2` on its own database, with markets on both shards."""

    url: str
    engine: Engine
    process: subprocess.Popen[bytes]
    base_url: str
    markets: list[Market]
    log: Path
    env: dict[str, str]

    @contextmanager
    def client(self, worker: int) -> Iterator[httpx.Client]:
        """A client whose one connection is served by worker process `worker`."""
        for _ in range(200):
            with httpx.Client(
                base_url=self.base_url,
                timeout=30,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            ) as client:
                if client.get("/healthz").json()["worker"] == worker:
                    yield client
                    return
        raise AssertionError(f"no connection reached worker {worker}")

    def workers(self) -> list[int]:
        """The PIDs of the worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()]
        return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]


def _wait_for_workers(base_url: str, count: int, patience_s: float = 60) -> None:
    seen: set[int] = set()
    deadline = time.monotonic() + patience_s
    while len(seen) < count:
        assert time.monotonic() < deadline, f"workers seen: {seen}"
        try:
            with httpx.Client(base_url=base_url, timeout=2) as client:
                seen.add(client.get("/healthz").json()["worker"])
        except httpx.HTTPError:
            time.sleep(0.1)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("shards")
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{workdir}/dsom.db"
    else:
        admin = request.getfixturevalue("postgres_admin")
        url = fresh_postgres(admin)
    engine = make_engine(url)
    upgrade(engine)
    markets: list[Market] = []
    while min(sum(1 for m in markets if shard_of(m.organizer, 2) == i) for i in (0, 1)) < 2:
        markets.append(make_market(engine))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSOM_")}
    env.update(DSOM_DATABASE_URL=url, DSOM_LOG_LEVEL="warning")
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DSOM), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_workers(base_url, 2)
        yield Cluster(url, engine, process, base_url, markets, log, env)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        engine.dispose()
        if admin is not None:
            drop_postgres(admin, url)
    assert process.returncode == 0, log.read_text()


def _post(client: httpx.Client, market: Market, ops: list[dict[str, object]]) -> httpx.Response:
    return client.post(OPERATIONS, json={"operations": ops}, headers=market.headers)


def test_every_process_takes_every_organizer_and_its_owner_judges_it(cluster: Cluster) -> None:
    with cluster.client(0) as first, cluster.client(1) as second:
        for market in cluster.markets:
            bet = market.online_bet()
            # The bet through one process, the win on it through the other.
            placed = _post(first, market, [bet]).json()
            assert placed["accepted"] == 1, placed
            paid = _post(second, market, [win(on=bet)]).json()
            assert paid["accepted"] == 1, paid
            assert paid["ledger"]["seq"] == placed["ledger"]["seq"] + 1
            # The same request through either process: judged once, then duplicates.
            request = [bet, win(on=bet, operation_id=f"x-{market.organizer}")]
            answers = [_post(client, market, request).json() for client in (first, second)]
            assert [(a["accepted"], a["duplicates"]) for a in answers] == [(1, 1), (0, 2)]
            assert answers[0]["ledger"] == answers[1]["ledger"]
            assert answers[0]["errors"] == answers[1]["errors"] == []


def _accepted_total(client: httpx.Client) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('dsom_ingest_operations_total{outcome="accepted"}'):
            return float(line.split()[-1])
    return 0.0


def test_metrics_through_either_process_count_every_process(cluster: Cluster) -> None:
    with cluster.client(0) as first, cluster.client(1) as second:
        before = _accepted_total(first)
        assert _accepted_total(second) == before
        for market in cluster.markets:  # owned by both workers, sent through both
            assert _post(first, market, [market.online_bet()]).json()["accepted"] == 1
            assert _post(second, market, [market.online_bet()]).json()["accepted"] == 1
        expected = before + 2 * len(cluster.markets)
        assert _accepted_total(first) == _accepted_total(second) == expected


def test_read_back_and_ledger_are_the_same_through_either_process(cluster: Cluster) -> None:
    with cluster.client(0) as first, cluster.client(1) as second:
        for market in cluster.markets:
            bet = market.online_bet()
            assert _post(first, market, [bet]).json()["accepted"] == 1
            path = f"{OPERATIONS}/{bet['operation_id']}"
            a = first.get(path, headers=market.headers)
            b = second.get(path, headers=market.headers)
            assert a.status_code == b.status_code == 200
            assert a.json() == b.json()
            assert a.json()["amount"] == bet["amount"]
            head_a = first.get("/api/v1/ledger", headers=market.headers).json()
            head_b = second.get("/api/v1/ledger", headers=market.headers).json()
            assert head_a == head_b
            assert head_a["seq"] >= 1
            assert a.json()["seq"] == head_a["seq"]
            missing = second.get(f"{OPERATIONS}/nope", headers=market.headers)
            assert missing.status_code == 404


def test_request_errors_come_back_from_the_owner_unchanged(cluster: Cluster) -> None:
    with cluster.client(0) as first, cluster.client(1) as second:
        for market in cluster.markets[:4]:
            for client in (first, second):
                bad = client.post(
                    OPERATIONS,
                    content=b'{"operations": 5}',
                    headers={**market.headers, "Content-Type": "application/json"},
                )
                assert bad.status_code == 400
                assert bad.json()["error"]["code"] == "invalid_body"
                rejected = _post(client, market, [market.online_bet(currency="EUR")]).json()
                assert [e["code"] for e in rejected["errors"]] == ["unsupported_currency"]


def test_a_deactivated_key_is_refused_by_every_process_within_a_second(cluster: Cluster) -> None:
    market = cluster.markets[0]
    with cluster.engine.begin() as conn:
        key = create_key(conn, organizer=market.organizer, name="t", created_by="test")
    headers = {"Authorization": f"Bearer {key.secret}"}
    with cluster.client(0) as first, cluster.client(1) as second:
        for client in (first, second):
            assert client.get("/api/v1/ledger", headers=headers).status_code == 200
        with cluster.engine.begin() as conn:
            deactivate_key(conn, key.id)
        time.sleep(1.1)
        for client in (first, second):
            refused = client.get("/api/v1/ledger", headers=headers)
            assert refused.status_code == 401, refused.text


def test_a_worker_that_dies_is_started_again_and_nothing_is_lost(cluster: Cluster) -> None:
    market = cluster.markets[-1]
    bet = market.online_bet()
    with cluster.client(0) as client:
        assert _post(client, market, [bet]).json()["accepted"] == 1
    before = cluster.workers()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        after = cluster.workers()
        if len(after) == 2 and before[0] not in after:
            break
        assert time.monotonic() < deadline, "the worker was not started again"
        time.sleep(0.1)
    _wait_for_workers(cluster.base_url, 2)
    with cluster.client(0) as first, cluster.client(1) as second:
        for client in (first, second):
            again = _post(client, market, [bet]).json()
            assert again["duplicates"] == 1, again  # the restarted owner knows the bet
        paid = _post(second, market, [win(on=bet)]).json()
        assert paid["accepted"] == 1, paid
    verify = subprocess.run(
        [str(DSOM), "ledger", "verify"],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "starting it again" in cluster.log.read_text()
