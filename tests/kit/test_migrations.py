"""The migrations build the schema the models describe, and take it down again."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from dsom.ingest import ledger
from dsom.ingest.players import unpack
from dsom.ingest.repository import entries_at
from dsom.ingest.verify import verify
from dsom.kit.db import make_engine
from dsom.kit.migrate import alembic_config, current_revision, downgrade, upgrade
from dsom.models import metadata
from tests.conftest import drop_postgres, fresh_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
        yield engine
        engine.dispose()
        return
    admin = request.getfixturevalue("postgres_admin")
    url = fresh_postgres(admin)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    drop_postgres(admin, url)


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_migrations_have_a_single_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrade_from_empty_to_head_creates_every_table(empty: Engine) -> None:
    assert current_revision(empty) is None

    upgrade(empty)

    assert current_revision(empty) == _head()
    assert _tables(empty) == set(metadata.tables) | {"alembic_version"}


def test_upgrade_twice_is_harmless(empty: Engine) -> None:
    upgrade(empty)
    upgrade(empty)
    assert current_revision(empty) == _head()


def test_migrated_schema_matches_the_models(empty: Engine) -> None:
    upgrade(empty)
    # Columns, types, nullability, server defaults, indexes, unique and foreign keys:
    # any difference means a model changed without a migration (or the reverse).
    assert _differences(empty) == []


def test_downgrade_to_base_leaves_no_dsom_tables_and_upgrade_works_again(empty: Engine) -> None:
    upgrade(empty)

    downgrade(empty, "base")

    assert _tables(empty) <= {"alembic_version"}
    assert current_revision(empty) is None

    upgrade(empty)

    assert current_revision(empty) == _head()
    assert _differences(empty) == []


REPORT_ROLLUPS = (
    "operations_daily",
    "operations_hours",
    "rejections_daily",
    "players_daily_counts",
    "players_monthly_counts",
)


def _rollups(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of the report rollups, by column name (their column order changes)."""
    with engine.connect() as conn:
        return {
            table: {
                tuple(sorted(row._mapping.items()))
                for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
            }
            for table in REPORT_ROLLUPS
        }


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal UNION "
                "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            )
        return set(conn.exec_driver_sql(query).scalars())


def _keys(engine: Engine) -> dict[str, list[str]]:
    found = inspect(engine)
    return {t: found.get_pk_constraint(t)["constrained_columns"] for t in REPORT_ROLLUPS}


def _hourly_row(hour: int, count: int) -> str:
    return (
        "INSERT INTO operations_hourly (organizer, hour, licence, activity, type, count, amount, "
        f"late, income_tax, military_levy) VALUES ('12345678', {hour}, 'L', 'online_casino', "
        f"'bet', {count}, 100, 0, 0, 0)"
    )


def test_0007_rekeys_the_report_rollups_organizer_first_keeping_their_rows(empty: Engine) -> None:
    upgrade(empty, "0006")
    day_two = 494_000  # 2026-05-10 08:00 UTC; 12 hours before it is 23:00 on the 9th in Kyiv
    with empty.begin() as conn:
        for hour, count in ((day_two - 12, 1), (day_two, 2), (day_two + 1, 3)):
            conn.exec_driver_sql(_hourly_row(hour, count))
        conn.exec_driver_sql(
            f"INSERT INTO rejections_hourly VALUES ('12345678', {day_two}, 'unknown_bet', 4)"
        )
        for table, period in (("players_daily", "2026-05-10"), ("players_monthly", "2026-05-01")):
            conn.exec_driver_sql(
                f"INSERT INTO {table} VALUES ('12345678', '{period}', 'online_casino', 'p-1'), "
                f"('12345678', '{period}', 'online_casino', 'p-2')"
            )
    kept = _rollups(empty)  # as 0005's and 0006's triggers wrote them
    assert all(kept.values())
    assert _keys(empty)["operations_daily"][0] == "day"

    upgrade(empty)

    assert _rollups(empty) == kept
    assert {key[0] for key in _keys(empty).values()} == {"organizer"}
    assert _triggers(empty) == set()

    downgrade(empty, "0006")

    assert _rollups(empty) == kept
    assert _keys(empty)["operations_daily"][:2] == ["day", "organizer"]
    assert _triggers(empty)  # and they keep the rollups again:
    with empty.begin() as conn:
        conn.exec_driver_sql(_hourly_row(day_two + 2, 5))
        (count,) = conn.exec_driver_sql("SELECT SUM(count) FROM operations_daily").one()
    assert count == 11


OPERATION_COLUMNS = (
    "organizer, seq, operation_id, type, occurred_us, received_us, licence, activity, "
    "player_id, amount, bet_seq, refunded, late, canonical, hash"
)


def _operations_0007(organizer: str, count: int) -> list[tuple[Any, ...]]:
    """`count` rows of 0007's `operations` for one organizer: a chain of bets, every 7th
    operation a win on the bet before it, every 11th bet refunded in part."""
    rows: list[tuple[Any, ...]] = []
    digest = ledger.genesis(organizer)
    for seq in range(1, count + 1):
        win = seq % 7 == 0
        canonical = f'{{"operation_id":"{organizer}-{seq}","n":{seq}}}'.encode()
        digest = ledger.link(digest, canonical)
        rows.append(
            (
                organizer,
                seq,
                f"{organizer}-{seq}",
                "win" if win else "bet",
                1_780_000_000_000_000 + seq,
                1_780_000_000_500_000 + seq,
                "L-1",
                "online_casino",
                f"p-{seq % 5}",
                100 * seq,
                seq - 1 if win else None,
                0 if win or seq % 11 else 30,
                seq % 3 == 0,
                canonical,
                digest,
            )
        )
    return rows


def _stored_operations(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT {OPERATION_COLUMNS} FROM operations")
        return sorted((*row[:12], bool(row[12]), bytes(row[13]), bytes(row[14])) for row in rows)


def test_0008_stores_the_operations_in_blocks_keeping_every_entry(empty: Engine) -> None:
    upgrade(empty, "0007")
    rows = _operations_0007("12345678", 2_501) + _operations_0007("87654321", 3)
    marks = ", ".join(["%s" if empty.dialect.name == "postgresql" else "?"] * 15)
    with empty.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO operations ({OPERATION_COLUMNS}) VALUES ({marks})", rows)
        conn.exec_driver_sql(
            "INSERT INTO large_wins (organizer, seq, occurred_us, amount) "
            "VALUES ('12345678', 14, 1780000000000014, 1400)"
        )
    assert _stored_operations(empty) == sorted(rows)

    upgrade(empty)

    with empty.connect() as conn:
        spans = [
            tuple(row)
            for row in conn.exec_driver_sql(
                "SELECT organizer, first_seq, last_seq FROM operation_blocks "
                "ORDER BY organizer, first_seq"
            )
        ]
        refunds = set(conn.exec_driver_sql("SELECT organizer, seq, refunded FROM bet_refunds"))
        wins = [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM large_wins")]
    assert spans == [
        ("12345678", 1, 1000),
        ("12345678", 1001, 2000),
        ("12345678", 2001, 2501),
        ("87654321", 1, 3),
    ]
    assert refunds == {(r[0], r[1], r[11]) for r in rows if r[11]}
    assert refunds  # the example has some
    assert wins == [
        ("12345678", 14, 1780000000000014, 1400, "12345678-14", "L-1", "online_casino", "p-4",
         "12345678-13")
    ]  # fmt: skip
    stored = {}
    with empty.connect() as conn:
        for organizer in ("12345678", "87654321"):
            seqs = range(1, 2_502 if organizer == "12345678" else 4)
            for seq, e in entries_at(conn, organizer, seqs).items():
                stored[(organizer, seq)] = e
    for row in rows:
        e = stored[(row[0], row[1])]
        assert (e.operation_id, e.type, e.occurred_us, e.received_us, e.licence, e.activity,
                e.player_id, e.amount, e.bet_seq, e.late, e.canonical, e.hash) == (
            *row[2:11], row[12], row[13], row[14]
        )  # fmt: skip
    assert verify(empty) == (2_504, None)
    if empty.dialect.name == "postgresql":  # blocks compressed with LZ4, not pglz
        with empty.connect() as conn:
            method = conn.exec_driver_sql(
                "SELECT attcompression FROM pg_attribute WHERE attname = 'entries' "
                "AND attrelid = 'operation_blocks'::regclass"
            ).scalar_one()
        assert method == "l"

    downgrade(empty, "0007")

    assert _stored_operations(empty) == sorted(rows)
    with empty.connect() as conn:
        wins = [tuple(row) for row in conn.exec_driver_sql("SELECT * FROM large_wins")]
    assert wins == [("12345678", 14, 1780000000000014, 1400)]


def test_0009_counts_the_players_of_each_hour_from_the_stored_bets(empty: Engine) -> None:
    upgrade(empty, "0007")
    hour = 1_780_000_000_000_000 // 3_600_000_000
    rows = [
        (*row[:4], (hour + row[1] % 2) * 3_600_000_000 + row[1], *row[5:])  # two hours
        for row in _operations_0007("12345678", 40)
    ]
    marks = ", ".join(["%s" if empty.dialect.name == "postgresql" else "?"] * 15)
    with empty.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO operations ({OPERATION_COLUMNS}) VALUES ({marks})", rows)

    upgrade(empty, "0009")

    bets = {("12345678", r[4] // 3_600_000_000, r[7], r[8]) for r in rows if r[3] == "bet"}
    with empty.connect() as conn:
        stored = {tuple(r) for r in conn.exec_driver_sql("SELECT * FROM players_hourly")}
        counts = {tuple(r) for r in conn.exec_driver_sql("SELECT * FROM players_hourly_counts")}
    assert stored == bets
    assert counts == {
        ("12345678", h, "online_casino", sum(1 for b in bets if b[1] == h))
        for h in (hour, hour + 1)
    }

    downgrade(empty, "0008")

    assert not {"players_hourly", "players_hourly_counts"} & _tables(empty)


def test_0010_packs_the_player_rows_keeping_every_player(empty: Engine) -> None:
    upgrade(empty, "0009")
    hour = 1_780_000_000_000_000 // 3_600_000_000
    rows = {
        "players_hourly": [("12345678", hour + i % 2, "poker", f"p-{i}") for i in range(7)]
        + [("87654321", hour, "online_casino", "p-1")],
        "players_daily": [
            ("12345678", "2026-05-28", a, f"p-{i}") for i in range(3) for a in ("poker", "betting")
        ],
        "players_monthly": [
            ("12345678", "2026-05-01", "poker", "p-9"),
            ("12345678", "2026-06-01", "poker", "p-9"),
        ],
    }
    periods = {"players_hourly": "hour", "players_daily": "day", "players_monthly": "month"}
    mark = "%s" if empty.dialect.name == "postgresql" else "?"
    with empty.begin() as conn:
        for table, found in rows.items():
            conn.exec_driver_sql(
                f"INSERT INTO {table} (organizer, {periods[table]}, activity, player_id) "
                f"VALUES ({mark}, {mark}, {mark}, {mark})",
                found,
            )

    upgrade(empty, "0010")

    def flat(found: Iterable[tuple[Any, ...]]) -> list[tuple[str, str, str, str]]:
        return sorted((o, str(at), a, p) for o, at, a, p in found)

    with empty.connect() as conn:
        for table, found in rows.items():
            stored = conn.exec_driver_sql(
                f"SELECT organizer, {periods[table]}, seq, activity, players, player_ids "
                f"FROM {table}"
            ).all()
            ids = {(o, str(at), a): unpack(bytes(blob)) for o, at, _, a, _, blob in stored}
            assert flat((*key, p) for key, players in ids.items() for p in players) == flat(found)
            # one row per (organizer, period, activity), counting its ids
            assert len(stored) == len(ids)
            assert all(n == len(unpack(bytes(blob))) for *_, n, blob in stored)
            # -1, -2, ... within each organizer and period: every row keeps a key of its own
            seqs: dict[tuple[str, str], list[int]] = {}
            for o, at, seq, *_ in stored:
                seqs.setdefault((o, str(at)), []).append(seq)
            assert all(sorted(s) == list(range(-len(s), 0)) for s in seqs.values())
    assert _differences(empty) == []

    downgrade(empty, "0009")

    with empty.connect() as conn:
        for table, found in rows.items():
            stored = conn.exec_driver_sql(
                f"SELECT organizer, {periods[table]}, activity, player_id FROM {table}"
            ).all()
            assert flat(stored) == flat(found)
