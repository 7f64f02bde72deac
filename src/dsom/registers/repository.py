"""All SQL of the registers. Organizer scoping is applied here, in `_scope`, and only here."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, and_, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from dsom.auth.principal import Principal
from dsom.kit.errors import Conflict
from dsom.registers.declare import Register
from dsom.registers.models import CURRENT, HISTORY, register_sequences

Entry = dict[str, Any]
BOOKKEEPING = ("version", "created_at", "updated_at")


@dataclass(frozen=True)
class ChangeMeta:
    """Who records a change, when, why, and how (create, update, status, import)."""

    at: datetime
    action: str
    actor: str
    decision: str | None
    reason: str | None


def _scope(
    stmt: Select[Any], reg: Register, principal: Principal | None, table: Any
) -> Select[Any]:
    """Restrict a query to the principal's organizer, when the principal acts for one."""
    if principal is not None and principal.organizer is not None:
        stmt = stmt.where(table.c[reg.organizer_field] == principal.organizer)
    return stmt


def _fields_of(reg: Register) -> list[str]:
    return [f.name for f in reg.all_fields]


def get_current(
    conn: Connection,
    reg: Register,
    key: str,
    principal: Principal | None = None,
    *,
    for_update: bool = False,
) -> Entry | None:
    """The current entry with this key, visible to `principal`, or None."""
    table = CURRENT[reg.name]
    stmt = _scope(select(table).where(table.c[reg.key] == key), reg, principal, table)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def get_many(
    conn: Connection, reg: Register, keys: Sequence[str], principal: Principal | None = None
) -> dict[str, Entry]:
    """The current entries with these keys that `principal` may see, by key."""
    if not keys:
        return {}
    table = CURRENT[reg.name]
    stmt = _scope(select(table).where(table.c[reg.key].in_(list(keys))), reg, principal, table)
    return {row[reg.key]: dict(row) for row in conn.execute(stmt).mappings()}


def _as_of_clause(table: Any, at: datetime) -> ColumnElement[bool]:
    return and_(
        table.c.recorded_at <= at, or_(table.c.superseded_at.is_(None), table.c.superseded_at > at)
    )


def get_as_of(
    conn: Connection, reg: Register, key: str, at: datetime, principal: Principal | None = None
) -> Entry | None:
    """The entry as the register recorded it at `at` (None if it did not exist yet)."""
    table = HISTORY[reg.name]
    stmt = select(table).where(table.c[reg.key] == key, _as_of_clause(table, at))
    row = conn.execute(_scope(stmt, reg, principal, table)).mappings().first()
    return dict(row) if row else None


def get_effective(conn: Connection, reg: Register, key: str, at: datetime) -> Entry | None:
    """The version in force at `at` for the rules: the first version also covers the past.

    An entry registered today with validity dates in the past governs those dates;
    a change takes effect from the moment it was recorded, never retroactively.
    """
    table = HISTORY[reg.name]
    row = (
        conn.execute(
            select(table)
            .where(table.c[reg.key] == key)
            .where(or_(table.c.recorded_at <= at, table.c.version == 1))
            .order_by(table.c.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def history(
    conn: Connection, reg: Register, key: str, principal: Principal | None = None
) -> list[Entry]:
    """Every version of an entry, oldest first."""
    table = HISTORY[reg.name]
    stmt = _scope(select(table).where(table.c[reg.key] == key), reg, principal, table)
    return [dict(r) for r in conn.execute(stmt.order_by(table.c.version)).mappings()]


def list_entries(
    conn: Connection,
    reg: Register,
    principal: Principal | None,
    *,
    filters: Mapping[str, Any],
    text: str | None,
    limit: int,
    offset: int,
    as_of: datetime | None = None,
    descending: bool = False,
) -> tuple[list[Entry], int]:
    """A page of entries matching `filters` (exact) and `text` (substring), in key order
    (`descending`: last key first), and the total."""
    table = HISTORY[reg.name] if as_of else CURRENT[reg.name]
    stmt: Select[Any] = select(table)
    if as_of:
        stmt = stmt.where(_as_of_clause(table, as_of))
    for name, value in filters.items():
        stmt = stmt.where(table.c[name] == value)
    if text:
        wanted = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern, lower = f"%{wanted}%", _lower(conn)
        stmt = stmt.where(
            or_(
                *(
                    lower(table.c[f.name]).like(pattern, escape="\\")
                    for f in reg.fields
                    if f.searchable
                )
            )
        )
    stmt = _scope(stmt, reg, principal, table)
    total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    order = table.c[reg.key].desc() if descending else table.c[reg.key]
    rows = conn.execute(stmt.order_by(order).limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows], int(total)


def _lower(conn: Connection) -> Callable[[Any], ColumnElement[Any]]:
    """SQL lower() for text search, folding every script: SQLite's own folds only ASCII."""
    if conn.dialect.name != "sqlite":
        return func.lower
    driver = cast(sqlite3.Connection, conn.connection.driver_connection)
    driver.create_function("dsom_lower", 1, _fold, deterministic=True)
    return func.dsom_lower


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def iter_all(
    conn: Connection,
    reg: Register,
    principal: Principal | None,
    as_of: datetime | None = None,
    *,
    filters: Mapping[str, Any] | None = None,
    text: str | None = None,
) -> list[Entry]:
    """Every entry visible to `principal` (now, or as of a past moment) that matches
    `filters` and `text`, in key order."""
    rows, _ = list_entries(
        conn, reg, principal, filters=filters or {}, text=text, limit=10**12, offset=0, as_of=as_of
    )
    return rows


def next_key(conn: Connection, reg: Register) -> str:
    """The next generated key of a register, `<prefix>-000001` onwards, in this transaction."""
    assert reg.key_prefix
    seq = register_sequences
    updated = conn.execute(
        update(seq)
        .where(seq.c.register == reg.name)
        .values(last_value=seq.c.last_value + 1)
        .returning(seq.c.last_value)
    ).scalar()
    if updated is None:
        conn.execute(insert(seq).values(register=reg.name, last_value=1))
        updated = 1
    return f"{reg.key_prefix}-{int(updated):06d}"


def note_key(conn: Connection, reg: Register, key: str) -> None:
    """Keep the sequence ahead of a key given in the generated form (imports keep ids)."""
    prefix = f"{reg.key_prefix}-"
    if not key.startswith(prefix) or not key[len(prefix) :].isdigit():
        return
    number = int(key[len(prefix) :])
    seq = register_sequences
    last = conn.execute(select(seq.c.last_value).where(seq.c.register == reg.name)).scalar()
    if last is None:
        conn.execute(insert(seq).values(register=reg.name, last_value=number))
    elif last < number:
        conn.execute(update(seq).where(seq.c.register == reg.name).values(last_value=number))


def _history_row(reg: Register, values: Mapping[str, Any], version: int, meta: ChangeMeta) -> Entry:
    row = {name: values.get(name) for name in _fields_of(reg)}
    row.update(
        version=version,
        recorded_at=meta.at,
        superseded_at=None,
        action=meta.action,
        actor=meta.actor,
        grounds_decision=meta.decision,
        grounds_reason=meta.reason,
    )
    return row


def insert_entries(
    conn: Connection, reg: Register, entries: Sequence[Mapping[str, Any]], meta: ChangeMeta
) -> None:
    """Record new entries (version 1) and their first history rows, in bulk."""
    if not entries:
        return
    current = [
        {
            **{n: e.get(n) for n in _fields_of(reg)},
            "version": 1,
            "created_at": meta.at,
            "updated_at": meta.at,
        }
        for e in entries
    ]
    conn.execute(insert(CURRENT[reg.name]), current)
    conn.execute(insert(HISTORY[reg.name]), [_history_row(reg, e, 1, meta) for e in entries])


def update_entry(
    conn: Connection,
    reg: Register,
    key: str,
    values: Mapping[str, Any],
    old_version: int,
    meta: ChangeMeta,
) -> int:
    """Record a new version of an entry; returns the new version number."""
    table, hist = CURRENT[reg.name], HISTORY[reg.name]
    new_version = old_version + 1
    changed = conn.execute(
        update(table)
        .where(table.c[reg.key] == key, table.c.version == old_version)
        .values(
            {
                **{n: values.get(n) for n in _fields_of(reg)},
                "version": new_version,
                "updated_at": meta.at,
            }
        )
    ).rowcount
    if changed != 1:
        raise Conflict(f"{reg.entry} {key} was changed by someone else meanwhile; try again")
    conn.execute(
        update(hist)
        .where(hist.c[reg.key] == key, hist.c.version == old_version)
        .values(superseded_at=meta.at)
    )
    conn.execute(insert(hist), [_history_row(reg, values, new_version, meta)])
    return new_version


def count_by_status(conn: Connection, reg: Register, principal: Principal | None) -> dict[str, int]:
    """How many current entries visible to `principal` a register has in each status."""
    table = CURRENT[reg.name]
    stmt = _scope(select(table.c.status, func.count()), reg, principal, table)
    return {row[0]: int(row[1]) for row in conn.execute(stmt.group_by(table.c.status))}


def count(conn: Connection, reg: Register) -> int:
    """How many entries a register has."""
    return int(conn.execute(select(func.count()).select_from(CURRENT[reg.name])).scalar_one())
