"""`dsom simulate`: the real command against a real server, and the runner's retries."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select

from dsom.demo.market import generate, issue_keys, keys_file, load
from dsom.ingest.models import operation_blocks
from dsom.ingest.simulate import Options, simulate
from dsom.kit.time import today_kyiv
from tests.conftest import Server
from tests.ingest.test_traffic import market_keys

DSOM = Path(sys.executable).parent / "dsom"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`dsom ARGS` as a user runs it (no DSOM_ settings: simulate needs none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSOM_")}
    env.update(PYTHONIOENCODING="utf-8", COLUMNS="200")
    return subprocess.run(
        [str(DSOM), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def keys_path(server: Server, db: Engine, tmp_path: Path) -> Path:
    """A demo market of 8 organizers loaded into the test server's database; its keys file."""
    market = generate(8, today=today_kyiv())
    with db.begin() as conn:
        load(conn, market)
        api_keys = issue_keys(conn, market)
    server.reload()
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys_file(market, api_keys), ensure_ascii=False), encoding="utf-8")
    return path


def stored(engine: Engine) -> int:
    """Operations stored (entries of every block)."""
    b = operation_blocks.c
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(b.last_seq - b.first_seq + 1))).scalar_one()
    return int(total or 0)


def row(summary: str, name: str) -> int:
    """The number in a row of the summary table."""
    found = re.search(rf"^\s*{name}\s+([\d,]+)\s*$", summary, re.MULTILINE)
    assert found, f"no row {name!r} in\n{summary}"
    return int(found[1].replace(",", ""))


def simulate_args(keys: Path, url: str, *extra: str) -> list[str]:
    """A short, modest run."""
    return [
        "simulate",
        "--keys",
        str(keys),
        "--url",
        url,
        "--duration",
        "2",
        "--rate",
        "400",
        "--batch",
        "20",
        "--concurrency",
        "3",
        *extra,
    ]


def test_simulate_sends_traffic_the_server_accepts_and_stores(
    server: Server, db: Engine, keys_path: Path
) -> None:
    result = run(*simulate_args(keys_path, server.base_url))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "dsom simulate: summary" in result.stdout
    assert "every request answered 200, every operation accepted" in result.stdout
    for word in ("accepted/s", "p50", "p90", "p99", "max"):
        assert word in result.stdout
    accepted = row(result.stdout, "accepted")
    assert 400 <= accepted <= 1000  # 2 s at 400 operations a second
    assert row(result.stdout, "rejected") == 0
    assert stored(db) == accepted
    assert "simulating 5 of 8 organizers (skipped: 2 pending, 1 suspended)" in result.stderr
    assert "sent " in result.stderr  # the progress line


def test_simulate_json_summary_counts_what_the_server_stored(
    server: Server, db: Engine, keys_path: Path
) -> None:
    result = run(*simulate_args(keys_path, server.base_url, "--json", "--seed", "5"))

    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    assert summary["accepted"] == summary["operations"] == stored(db) > 0
    assert summary["rejected"] == summary["duplicates"] == 0
    assert summary["http_errors"] == {}
    assert summary["by_type"]["bet"] > summary["by_type"]["win"] > 0
    assert summary["by_type"]["deposit"] > 0
    assert summary["by_type"]["withdrawal"] > 0
    assert set(summary["latency_ms"]) == {"p50", "p90", "p99", "max"}


def test_a_refused_key_is_named_and_fails_the_run(
    server: Server, db: Engine, keys_path: Path
) -> None:
    keys = json.loads(keys_path.read_text(encoding="utf-8"))
    keys["organizers"][0]["api_key"] = "dsomk_not-a-key"
    keys_path.write_text(json.dumps(keys), encoding="utf-8")

    result = run(*simulate_args(keys_path, server.base_url))

    assert result.returncode == 1
    said = " ".join(result.stdout.split())
    code = keys["organizers"][0]["code"]
    assert f"organizer {code}" in said
    assert "HTTP 401 unauthorized" in said
    assert "is the keys file from the seeding of this server's database?" in said
    assert stored(db) > 0, "the other organizers went on"


def test_ctrl_c_stops_cleanly_and_still_prints_the_summary(
    server: Server, db: Engine, keys_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSOM_")}
    env.update(PYTHONIOENCODING="utf-8", COLUMNS="200")
    args = simulate_args(keys_path, server.base_url)
    args[args.index("--duration") + 1] = "60"
    with subprocess.Popen(
        [str(DSOM), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as process:
        assert process.stderr is not None
        assert "simulating" in process.stderr.readline()  # it has started
        try:
            process.wait(1.5)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)

    assert process.returncode == 0, out
    assert "(interrupted by Ctrl-C)" in out
    accepted = row(out, "accepted")
    assert stored(db) == accepted > 0


def test_a_server_that_is_down_is_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens here once it is closed
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(market_keys(5)), encoding="utf-8")

    result = run(*simulate_args(keys, f"http://127.0.0.1:{port}"))

    assert result.returncode == 1
    said = " ".join(result.stdout.split())
    assert f"cannot reach DSOM at http://127.0.0.1:{port} (connection refused)" in said
    assert "dsom serve" in said


def test_a_missing_keys_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("simulate", "--keys", str(tmp_path / "none.json"))

    assert result.returncode == 2
    assert "no keys file" in result.stderr
    assert "dsom seed-demo --keys-out" in " ".join(result.stderr.split())


# --- the runner against a stand-in server -------------------------------------------------


class StandIn:
    """A server that answers as DSOM does, 503 now and then, and checks the bets' order."""

    def __init__(self, unavailable_every: int = 0) -> None:
        self.unavailable_every = unavailable_every
        self.posts = 0
        self.bets: dict[str, set[str]] = {}
        self.stored: dict[str, set[str]] = {}
        self.out_of_order: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """One request."""
        organizer = request.headers["authorization"].removeprefix("Bearer key-")
        if request.method == "GET":
            return httpx.Response(200, json={"seq": 0, "hash": "0" * 64})
        self.posts += 1
        if self.unavailable_every and self.posts % self.unavailable_every == 0:
            return httpx.Response(
                503,
                json={"error": {"code": "unavailable", "message": "the database is down"}},
                headers={"Retry-After": "0"},
            )
        ops: list[dict[str, Any]] = json.loads(request.content)["operations"]
        bets = self.bets.setdefault(organizer, set())
        ids = self.stored.setdefault(organizer, set())
        accepted = duplicates = 0
        errors = []
        for index, op in enumerate(ops):
            if op["operation_id"] in ids:
                duplicates += 1
                continue
            if "bet_id" in op and op["bet_id"] not in bets:
                self.out_of_order.append(op["operation_id"])
                errors.append({"index": index, "code": "unknown_bet", "message": "no such bet"})
                continue
            if op["type"] == "bet":
                bets.add(op["operation_id"])
            ids.add(op["operation_id"])
            accepted += 1
        answer = {
            "received": len(ops),
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": len(errors),
            "errors": errors,
        }
        return httpx.Response(200, json=answer)


def simulate_against(stand_in: StandIn, **options: Any) -> tuple[int, dict[str, Any], str]:
    """Run the runner against the stand-in; its exit code, JSON summary and live lines."""
    out, live = StringIO(), StringIO()
    code = simulate(
        market_keys(6),
        Options(url="http://dsom.test", **options),
        console=Console(file=live, width=200),
        out=Console(file=out, width=200),
        as_json=True,
        transport=httpx.MockTransport(stand_in),
    )
    return code, json.loads(out.getvalue()), live.getvalue()


def test_wins_never_overtake_their_bets_however_many_requests_are_under_way() -> None:
    stand_in = StandIn()

    code, summary, live = simulate_against(
        stand_in, rate=20_000, duration=1, batch=10, concurrency=16
    )

    assert code == 0, summary
    assert stand_in.out_of_order == []
    assert summary["accepted"] == summary["operations"] > 0
    assert summary["by_type"]["win"] > 0
    assert "sent" in live


def test_a_503_is_waited_out_and_the_same_request_sent_again() -> None:
    stand_in = StandIn(unavailable_every=3)

    code, summary, _ = simulate_against(stand_in, rate=5_000, duration=1, batch=20)

    assert code == 1  # not every request was answered 200 the first time
    assert summary["http_errors"]["503 unavailable"] > 0
    assert summary["rejected"] == 0  # nothing was lost: each was sent again
    assert stand_in.out_of_order == []
    assert summary["accepted"] == summary["operations"] > 0
    assert summary["problems"] == []


def test_the_rate_is_kept_to() -> None:
    stand_in = StandIn()

    code, summary, _ = simulate_against(stand_in, rate=500, duration=1, batch=10)

    assert code == 0
    assert 400 <= summary["operations"] <= 560
