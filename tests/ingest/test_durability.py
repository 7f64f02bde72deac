"""When the database cannot take a commit, the answer is `503 unavailable` with
`Retry-After`, nothing of the request is stored, and the retry is judged afresh.

Each test starts its own DSOM on its own new database, with a one-second lock timeout,
and makes that database unavailable from outside: SQLite's write lock held by another
connection, PostgreSQL's operations table locked or the engine's connections killed,
or a commit that fails part-way.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from dsom.ingest import blocks
from dsom.ingest.models import (
    bet_refunds,
    large_wins,
    operation_blocks,
    operations_hourly,
    players_daily,
    players_hourly,
    players_monthly,
    rejections_hourly,
    submissions_hourly,
)
from dsom.ingest.rules import BatchView
from dsom.ingest.verify import verify
from dsom.kit.db import make_engine
from dsom.kit.migrate import upgrade
from dsom.kit.settings import Settings
from dsom.reports.models import (
    operations_daily,
    operations_hours,
    players_daily_counts,
    players_hourly_counts,
    players_monthly_counts,
    rejections_daily,
)
from tests.conftest import drop_postgres, fresh_postgres, serving
from tests.ingest.helpers import (
    LEDGER,
    Market,
    bet,
    chain_head,
    iso_z,
    new_market,
    payment,
    post,
    settlement,
)

INGEST_TABLES = (
    operation_blocks,
    bet_refunds,
    operations_hourly,
    rejections_hourly,
    submissions_hourly,
    players_hourly,
    players_daily,
    players_monthly,
    large_wins,
    operations_daily,
    operations_hours,
    rejections_daily,
    players_hourly_counts,
    players_daily_counts,
    players_monthly_counts,
)


@dataclass
class Dsom:
    """A DSOM server of this test, on a database of its own."""

    kind: str
    url: str
    engine: Engine
    app: FastAPI
    http: httpx.Client


def _serving(url: str, engine: Engine) -> AbstractContextManager[tuple[FastAPI, str]]:
    """DSOM as conftest's `server` serves it, but with a one-second lock timeout."""
    return serving(Settings(database_url=url, ingest_lock_timeout_s=1.0), engine, "critical")


@pytest.fixture(params=["sqlite", "postgres"])
def dsom(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dsom]:
    """A new migrated database of each kind, and DSOM serving it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dsom.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        url = fresh_postgres(admin)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with (
            _serving(url, engine) as (app, base_url),
            httpx.Client(base_url=base_url, timeout=30) as http,
        ):
            yield Dsom(request.param, url, engine, app, http)
    finally:
        engine.dispose()
        if request.param == "postgres":
            drop_postgres(request.getfixturevalue("postgres_admin"), url)


# --- making the database unavailable ----------------------------------------------------------


@contextmanager
def _write_locked(dsom: Dsom) -> Iterator[None]:
    """Another connection holds the database so that the engine cannot commit."""
    if dsom.kind == "sqlite":
        path = make_url(dsom.url).database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    other = make_engine(dsom.url)
    try:
        with other.connect() as conn:
            conn.exec_driver_sql("LOCK TABLE operation_blocks IN ACCESS EXCLUSIVE MODE")
            try:
                yield
            finally:
                conn.rollback()
    finally:
        other.dispose()


def _stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the engine writes."""
    with engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in conn.execute(select(table)))
            for table in INGEST_TABLES
        }


def _ledger(dsom: Dsom, market: Market) -> dict[str, Any]:
    head = dsom.http.get(LEDGER, headers=market.headers)
    assert head.status_code == 200, head.text
    return dict(head.json())


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None
    assert retry_after.isdigit()
    assert int(retry_after) >= 1


def _assert_no_id_twice(engine: Engine) -> None:
    with engine.connect() as conn:
        b = operation_blocks.c
        ids = [
            (organizer, operation_id)
            for organizer, entries in conn.execute(select(b.organizer, b.entries))
            for operation_id in blocks.decode_ids(bytes(entries))
        ]
    assert len(ids) == len(set(ids))


def _assert_chain_whole(dsom: Dsom, market: Market, accepted: list[dict[str, Any]]) -> None:
    """The head, every entry in order with no gap, and `dsom ledger verify`'s check."""
    assert _ledger(dsom, market) == chain_head(market.organizer, accepted)
    previous = chain_head(market.organizer, [])["hash"]
    for seq, op in enumerate(accepted, start=1):
        entry = dsom.http.get(f"{LEDGER}/{seq}", headers=market.headers)
        assert entry.status_code == 200, entry.text
        expected_hash = chain_head(market.organizer, accepted[:seq])["hash"]
        assert entry.json() == {
            "seq": seq,
            "operation_id": op["operation_id"],
            "prev_hash": previous,
            "hash": expected_hash,
        }
        previous = expected_hash
    assert dsom.http.get(f"{LEDGER}/{len(accepted) + 1}", headers=market.headers).status_code == 404
    assert verify(dsom.engine) == (len(accepted), None)


class Ops:
    """Operations of one market, each new one with its own id."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.casino = market.licences["online_casino"]
        self.n = 0
        self.at = iso_z(datetime.now(UTC) - timedelta(minutes=1))

    def _id(self, kind: str) -> str:
        self.n += 1
        return f"{kind}-{self.n}"

    def bet(self, amount: int = 10_000) -> dict[str, Any]:
        """A valid bet."""
        return bet(
            self._id("bet"),
            licence=self.casino.number,
            channel=self.casino.channels[0],
            game_type="online_casino",
            occurred_at=self.at,
            amount=amount,
        )

    def win(self, of: dict[str, Any], amount: int = 2_000_000) -> dict[str, Any]:
        """A win (a large one unless told) of a bet."""
        return settlement(
            "win",
            self._id("win"),
            bet_id=of["operation_id"],
            licence=self.casino.number,
            occurred_at=self.at,
            amount=amount,
        )

    def deposit(self) -> dict[str, Any]:
        """A valid deposit."""
        return payment(
            "deposit",
            self._id("dep"),
            licence=self.casino.number,
            channel=self.casino.channels[0],
            occurred_at=self.at,
        )


def _accepted(
    response: httpx.Response, accepted: int, duplicates: int = 0, rejected: int = 0
) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    counts = (answer["accepted"], answer["duplicates"], answer["rejected"])
    assert counts == (accepted, duplicates, rejected), answer
    return answer


def _retry_until_answered(send: Callable[[], httpx.Response], attempts: int) -> httpx.Response:
    """Send until the answer is not 503, waiting Retry-After in between."""
    response = send()
    for _ in range(attempts - 1):
        if response.status_code != 503:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
        response = send()
    return response


# --- the tests ---------------------------------------------------------------------------------


def test_a_request_the_database_cannot_commit_is_503_stores_nothing_and_its_retry_counts_once(
    dsom: Dsom,
) -> None:
    market = new_market(dsom.engine)
    ops = Ops(market)
    first = ops.bet()
    _accepted(post(dsom.http, market.headers, [first]), 1)
    before, head = _stored(dsom.engine), _ledger(dsom, market)
    # New operations, a win of the stored bet, a repeat of it (read back to compare), and
    # one to reject (counted in the rollups of rejections and submissions).
    second = ops.bet()
    unlicensed = {**ops.deposit(), "license": "NO-SUCH-LICENCE"}
    ops_sent = [second, ops.win(first), ops.deposit(), first, ops.win(second), unlicensed]

    with _write_locked(dsom):
        started = time.monotonic()
        refused = post(dsom.http, market.headers, ops_sent)
        waited = time.monotonic() - started
        assert _ledger(dsom, market) == head

    _assert_unavailable(refused)
    assert waited < 10  # the lock timeout (1 s) gave up, not the client
    assert _stored(dsom.engine) == before
    assert _ledger(dsom, market) == head

    # The database is back: the retry (a second one at most, after Retry-After) counts once.
    retried = _retry_until_answered(lambda: post(dsom.http, market.headers, ops_sent), 2)

    answer = _accepted(retried, 4, duplicates=1, rejected=1)
    accepted = [first, *ops_sent[:3], ops_sent[4]]
    assert answer["ledger"] == chain_head(market.organizer, accepted)
    _assert_no_id_twice(dsom.engine)
    again = _accepted(post(dsom.http, market.headers, ops_sent), 0, duplicates=5, rejected=1)
    assert again["ledger"] == answer["ledger"]

    later = [ops.bet(), ops.deposit()]
    _accepted(post(dsom.http, market.headers, later), 2)
    _assert_chain_whole(dsom, market, [*accepted, *later])


def test_a_request_of_new_operations_only_is_503_while_locked_and_accepted_after(
    dsom: Dsom,
) -> None:
    # Nothing to read back: the engine meets the lock only when it commits.
    market = new_market(dsom.engine)
    ops = Ops(market)
    sent = [ops.bet(), ops.deposit()]
    before = _stored(dsom.engine)

    with _write_locked(dsom):
        refused = post(dsom.http, market.headers, sent)

    _assert_unavailable(refused)
    assert _stored(dsom.engine) == before
    assert _ledger(dsom, market) == chain_head(market.organizer, [])
    _accepted(post(dsom.http, market.headers, sent), 2)
    _assert_chain_whole(dsom, market, sent)


@pytest.mark.parametrize("dsom", ["sqlite"], indirect=True)  # PostgreSQL: no one write lock
def test_on_sqlite_a_commit_that_cannot_have_the_writers_turn_is_503_and_accepted_after(
    dsom: Dsom,
) -> None:
    """Server processes take turns at SQLite's write lock through a lock file beside the
    database; one that holds its turn past the lock timeout makes the others answer 503."""
    market = new_market(dsom.engine)
    ops = Ops(market)
    sent = [ops.bet(), ops.deposit()]
    path = make_url(dsom.url).database
    descriptor = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # another process's turn, never ending
        started = time.monotonic()
        refused = post(dsom.http, market.headers, sent)
        waited = time.monotonic() - started
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)

    _assert_unavailable(refused)
    assert waited >= 1.0  # the lock timeout of this server, not sooner
    assert _ledger(dsom, market) == chain_head(market.organizer, [])
    _accepted(post(dsom.http, market.headers, sent), 2)
    _assert_chain_whole(dsom, market, sent)


def _batches_committed() -> float:
    return REGISTRY.get_sample_value("dsom_ingest_batch_operations_count") or 0.0


def test_requests_arriving_while_a_commit_waits_are_judged_into_one_next_batch(
    dsom: Dsom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While batch N waits for the database, each request that arrives is judged at once
    into batch N+1, on top of N and of the requests before it in N+1; both commit."""
    extended: list[int] = []
    extend = BatchView.extend

    def counted(view: BatchView, *args: Any) -> None:
        extended.append(1)
        extend(view, *args)

    monkeypatch.setattr(BatchView, "extend", counted)
    market = new_market(dsom.engine)
    ops = Ops(market)
    bets = [ops.bet() for _ in range(5)]
    sent = [[bets[0]]] + [[ops.win(bets[i - 1]), bets[i]] for i in range(1, len(bets))]
    sent.append([bets[2], ops.win(bets[4]), ops.deposit()])  # a repeat, and new operations
    batches = _batches_committed()

    with ThreadPoolExecutor(len(sent)) as pool:
        with _write_locked(dsom):
            answers = []
            for ops_ in sent:  # one at a time: each request its own turn of the engine
                answers.append(pool.submit(post, dsom.http, market.headers, ops_))
                time.sleep(0.05)
            time.sleep(0.2)
        responses = [answer.result() for answer in answers]

    for response, ops_ in zip(responses[:-1], sent[:-1], strict=True):
        _accepted(response, len(ops_))
    _accepted(responses[-1], 2, duplicates=1)
    # The first request's batch, then one batch of all the others (not one per request,
    # nor a third for those that arrived after the second was judged).
    assert _batches_committed() - batches == 2
    assert extended, "no request was judged into a batch that had been judged before"
    _assert_chain_whole(dsom, market, _unique(sent))


def _unique(sent: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The operations sent, each once, in the order first sent."""
    seen: dict[str, dict[str, Any]] = {}
    for ops_ in sent:
        for op in ops_:
            seen.setdefault(op["operation_id"], op)
    return list(seen.values())


def test_requests_judged_while_a_failing_commit_was_under_way_are_not_stored_either(
    dsom: Dsom,
) -> None:
    market = new_market(dsom.engine)
    ops = Ops(market)
    bets = [ops.bet() for _ in range(8)]
    # Each request but the first wins on the bet of the one before: judged on top of it
    # when it lands in the next batch while that one is still committing.
    sent = [[bets[0]]] + [[ops.win(bets[i - 1]), bets[i]] for i in range(1, len(bets))]
    before = _stored(dsom.engine)

    with _write_locked(dsom), ThreadPoolExecutor(len(sent)) as pool:
        refused = list(pool.map(lambda ops_: post(dsom.http, market.headers, ops_), sent))

    for response in refused:
        _assert_unavailable(response)
    assert _stored(dsom.engine) == before
    assert _ledger(dsom, market) == chain_head(market.organizer, [])
    accepted: list[dict[str, Any]] = []
    for ops_ in sent:
        _accepted(post(dsom.http, market.headers, ops_), len(ops_))
        accepted += ops_
    _assert_chain_whole(dsom, market, accepted)


def test_a_commit_that_fails_part_way_stores_nothing(dsom: Dsom) -> None:
    market = new_market(dsom.engine)
    ops = Ops(market)
    first = ops.bet()
    _accepted(post(dsom.http, market.headers, [first]), 1)
    # large_wins is written last: a trigger there fails the commit after everything else.
    with dsom.engine.begin() as conn:
        if dsom.kind == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER full_disk BEFORE INSERT ON large_wins "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER full_disk BEFORE INSERT ON large_wins "
                "FOR EACH ROW EXECUTE FUNCTION full_disk()"
            )
    before, head = _stored(dsom.engine), _ledger(dsom, market)
    sent = [ops.bet(), ops.deposit(), ops.win(first), first]

    refused = post(dsom.http, market.headers, sent)

    _assert_unavailable(refused)
    assert _stored(dsom.engine) == before
    assert _ledger(dsom, market) == head
    with dsom.engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER full_disk"
            if dsom.kind == "sqlite"
            else "DROP TRIGGER full_disk ON large_wins"
        )
    _accepted(post(dsom.http, market.headers, sent), 3, duplicates=1)
    _assert_chain_whole(dsom, market, [first, *sent[:3]])


@pytest.mark.parametrize("dsom", ["postgres"], indirect=True)  # SQLite has no connections
def test_after_the_engines_connections_are_killed_a_retry_is_accepted(dsom: Dsom) -> None:
    market = new_market(dsom.engine)
    ops = Ops(market)
    first = ops.bet()
    _accepted(post(dsom.http, market.headers, [first]), 1)
    with dsom.engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert killed >= 1
    sent = [ops.bet(), ops.win(first), first]  # a repeat: read back to compare

    answered = _retry_until_answered(lambda: post(dsom.http, market.headers, sent), 4)

    _accepted(answered, 2, duplicates=1)
    _assert_no_id_twice(dsom.engine)
    _assert_chain_whole(dsom, market, [first, *sent[:2]])
