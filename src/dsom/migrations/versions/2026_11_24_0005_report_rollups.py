# ruff: noqa: S608  (the SQL is assembled from this file's constants only)
"""report rollups: operations by Kyiv day, distinct-player counts, kept by triggers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 15:00:00

`operations_daily` is `operations_hourly` summed by Kyiv day; `operations_hours` the
(organizer, hour) pairs it has rows for; `players_daily_counts` and
`players_monthly_counts` count the rows of `players_daily` / `players_monthly`. Triggers
keep them, in the transaction of each group commit, so the ingest engine writes nothing
more. The Kyiv day of an hour: PostgreSQL asks its time-zone database; SQLite has none,
so its triggers apply Kyiv's rule (UTC+2, and UTC+3 from 01:00 UTC on the last Sunday
of March to 01:00 UTC on the last Sunday of October); tests/reports/test_dst.py holds
it against Python's zoneinfo hour by hour. If Ukraine changes its clocks, a migration
must change this expression and rebuild `operations_daily`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SUMS = ("count", "amount", "late", "income_tax", "military_levy")
KEY = "day, organizer, activity, type"


def _sqlite_day(hour: str) -> str:
    """SQLite: the Kyiv date ('YYYY-MM-DD') of the UTC epoch hour `hour`."""

    def last_sunday_1am(months: str) -> str:
        # The 25th of the month, forward to a Sunday: the last Sunday; 01:00 UTC that day.
        day = f"date({hour} * 3600, 'unixepoch', 'start of year', '{months}', '+24 days', 'weekday 0')"
        return f"(CAST(strftime('%s', {day}) AS INTEGER) / 3600 + 1)"

    summer = (
        f"({hour} >= {last_sunday_1am('+2 months')} AND {hour} < {last_sunday_1am('+9 months')})"
    )
    return f"date((({hour}) + 2 + {summer}) / 24 * 86400, 'unixepoch')"


def _pg_day(hour: str) -> str:
    return f"(to_timestamp(({hour})::bigint * 3600) AT TIME ZONE 'Europe/Kyiv')::date"


def _sqlite_add(prefix: str, sign: str = "") -> str:
    """SQLite: add the NEW (or, with sign '-', take away the OLD) hourly row to its day."""
    values = ", ".join(f"{sign}{prefix}.{c}" for c in SUMS)
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS)
    return (
        f"INSERT INTO operations_daily ({KEY}, {', '.join(SUMS)}) VALUES "
        f"({_sqlite_day(prefix + '.hour')}, {prefix}.organizer, {prefix}.activity, {prefix}.type, "
        f"{values}) ON CONFLICT ({KEY}) DO UPDATE SET {updates};"
    )


HOURS_SQLITE = (
    "INSERT INTO operations_hours (organizer, hour) VALUES (NEW.organizer, NEW.hour) "
    "ON CONFLICT (organizer, hour) DO NOTHING;"
)


def _upgrade_sqlite() -> None:
    op.execute(
        f"CREATE TRIGGER operations_daily_on_insert AFTER INSERT ON operations_hourly "
        f"BEGIN {_sqlite_add('NEW')} {HOURS_SQLITE} END"
    )
    same_key = (
        "NEW.organizer = OLD.organizer AND NEW.hour = OLD.hour "
        "AND NEW.activity = OLD.activity AND NEW.type = OLD.type"
    )
    deltas = ", ".join(f"NEW.{c} - OLD.{c}" for c in SUMS)
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS)
    # The engine's upserts: the same key, larger sums; one upsert of the difference.
    op.execute(
        f"CREATE TRIGGER operations_daily_on_update AFTER UPDATE ON operations_hourly "
        f"WHEN {same_key} BEGIN "
        f"INSERT INTO operations_daily ({KEY}, {', '.join(SUMS)}) VALUES "
        f"({_sqlite_day('NEW.hour')}, NEW.organizer, NEW.activity, NEW.type, {deltas}) "
        f"ON CONFLICT ({KEY}) DO UPDATE SET {updates}; END"
    )
    op.execute(
        f"CREATE TRIGGER operations_daily_on_rekey AFTER UPDATE ON operations_hourly "
        f"WHEN NOT ({same_key}) BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW')} "
        f"{HOURS_SQLITE} END"
    )
    for table, period in (("players_daily", "day"), ("players_monthly", "month")):
        op.execute(
            f"CREATE TRIGGER {table}_count AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {table}_counts ({period}, organizer, activity, players) "
            f"VALUES (NEW.{period}, NEW.organizer, NEW.activity, 1) "
            f"ON CONFLICT ({period}, organizer, activity) DO UPDATE SET players = players + 1; END"
        )
    _backfill(_sqlite_day("hour"))


HOURS_PG = (
    "INSERT INTO operations_hours (organizer, hour) VALUES (NEW.organizer, NEW.hour) "
    "ON CONFLICT (organizer, hour) DO NOTHING;"
)


def _upgrade_postgres() -> None:
    sums = ", ".join(SUMS)
    params = ", ".join(f"p_{c} bigint" for c in SUMS)
    updates = ", ".join(f"{c} = d.{c} + excluded.{c}" for c in SUMS)
    op.execute(
        f"CREATE FUNCTION operations_daily_add(p_hour integer, p_organizer text, "
        f"p_activity text, p_type text, {params}) RETURNS void LANGUAGE sql AS $$ "
        f"INSERT INTO operations_daily AS d ({KEY}, {sums}) VALUES ({_pg_day('p_hour')}, "
        f"p_organizer, p_activity, p_type, {', '.join(f'p_{c}' for c in SUMS)}) "
        f"ON CONFLICT ({KEY}) DO UPDATE SET {updates} $$"
    )
    new = ", ".join(f"NEW.{c}" for c in SUMS)
    old = ", ".join(f"-OLD.{c}" for c in SUMS)
    delta = ", ".join(f"NEW.{c} - OLD.{c}" for c in SUMS)
    op.execute(
        "CREATE FUNCTION operations_daily_apply() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        f"PERFORM operations_daily_add(NEW.hour, NEW.organizer, NEW.activity, NEW.type, {new}); "
        f"{HOURS_PG} "
        "ELSIF (NEW.organizer, NEW.hour, NEW.activity, NEW.type) "
        "= (OLD.organizer, OLD.hour, OLD.activity, OLD.type) THEN "
        f"PERFORM operations_daily_add(NEW.hour, NEW.organizer, NEW.activity, NEW.type, {delta}); "
        "ELSE "
        f"PERFORM operations_daily_add(OLD.hour, OLD.organizer, OLD.activity, OLD.type, {old}); "
        f"PERFORM operations_daily_add(NEW.hour, NEW.organizer, NEW.activity, NEW.type, {new}); "
        f"{HOURS_PG} "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER operations_daily_apply AFTER INSERT OR UPDATE ON operations_hourly "
        "FOR EACH ROW EXECUTE FUNCTION operations_daily_apply()"
    )
    # Players arrive by the thousand in one INSERT … SELECT: count them per statement.
    for table, period in (("players_daily", "day"), ("players_monthly", "month")):
        op.execute(
            f"CREATE FUNCTION {table}_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {table}_counts AS c ({period}, organizer, activity, players) "
            f"SELECT {period}, organizer, activity, count(*) FROM inserted GROUP BY 1, 2, 3 "
            f"ON CONFLICT ({period}, organizer, activity) "
            "DO UPDATE SET players = c.players + excluded.players; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_count AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION {table}_count()"
        )
    _backfill(_pg_day("hour"))


def _backfill(day: str) -> None:
    """What the triggers would have written for the rows already there."""
    sums = ", ".join(SUMS)
    op.execute(
        f"INSERT INTO operations_daily ({KEY}, {sums}) "
        f"SELECT {day}, organizer, activity, type, {', '.join(f'SUM({c})' for c in SUMS)} "
        "FROM operations_hourly GROUP BY 1, 2, 3, 4"
    )
    op.execute(
        "INSERT INTO operations_hours (organizer, hour) "
        "SELECT DISTINCT organizer, hour FROM operations_hourly"
    )
    for table, period in (("players_daily", "day"), ("players_monthly", "month")):
        op.execute(
            f"INSERT INTO {table}_counts ({period}, organizer, activity, players) "
            f"SELECT {period}, organizer, activity, COUNT(*) FROM {table} GROUP BY 1, 2, 3"
        )


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "operations_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("late", sa.BigInteger(), nullable=False),
        sa.Column("income_tax", sa.BigInteger(), nullable=False),
        sa.Column("military_levy", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "organizer", "activity", "type", name=op.f("pk_operations_daily")
        ),
    )
    op.create_table(
        "operations_hours",
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("organizer", "hour", name=op.f("pk_operations_hours")),
    )
    op.create_table(
        "players_daily_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("players", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "organizer", "activity", name=op.f("pk_players_daily_counts")
        ),
    )
    op.create_table(
        "players_monthly_counts",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("organizer", sa.String(length=8), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("players", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "organizer", "activity", name=op.f("pk_players_monthly_counts")
        ),
    )
    # ### end Alembic commands ###
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS operations_daily_apply ON operations_hourly")
        op.execute("DROP FUNCTION IF EXISTS operations_daily_apply()")
        op.execute("DROP FUNCTION IF EXISTS operations_daily_add")
        for table in ("players_daily", "players_monthly"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_count ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_count()")
    else:
        for trigger in (
            "operations_daily_on_insert",
            "operations_daily_on_update",
            "operations_daily_on_rekey",
            "players_daily_count",
            "players_monthly_count",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("players_monthly_counts")
    op.drop_table("players_daily_counts")
    op.drop_table("operations_hours")
    op.drop_table("operations_daily")
