"""The tables of every register, derived from its declaration.

Each register has a table of its current entries and a `<name>_history` table
that keeps every version ever recorded: who made it, when, and on what grounds.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Constraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from dsom.kit.db import UTCDateTime, metadata
from dsom.registers.declarations import REGISTERS
from dsom.registers.declare import Register

HISTORY_ACTIONS = ("create", "update", "status", "import")


def _current_table(reg: Register) -> Table:
    columns = [
        Column(f.name, f.type.column_type(), nullable=not (f.required or f.name == "status"))
        for f in reg.all_fields
    ]
    constraints: list[Constraint] = [PrimaryKeyConstraint(reg.key)]
    if reg.organizer_field != reg.key:
        # Lets other registers refer to (organizer, key): references stay within an organizer.
        constraints.append(UniqueConstraint(reg.organizer_field, reg.key))
        constraints.append(ForeignKeyConstraint([reg.organizer_field], ["organizers.edrpou"]))
    for f, ref in reg.refs:
        if f.name == reg.organizer_field:
            continue
        target = REGISTERS[ref.register]
        if ref.same_organizer:
            constraints.append(
                ForeignKeyConstraint(
                    [reg.organizer_field, f.name],
                    [f"{target.name}.{target.organizer_field}", f"{target.name}.{target.key}"],
                )
            )
        else:
            constraints.append(ForeignKeyConstraint([f.name], [f"{target.name}.{target.key}"]))
    constraints.extend(UniqueConstraint(*cols) for cols in reg.unique)
    return Table(
        reg.name,
        metadata,
        *columns,
        Column("version", Integer, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        *constraints,
    )


def _history_table(reg: Register) -> Table:
    columns = [
        Column(f.name, f.type.column_type(), nullable=f.name != reg.key) for f in reg.all_fields
    ]
    name = f"{reg.name}_history"
    return Table(
        name,
        metadata,
        *columns,
        Column("version", Integer, nullable=False),
        Column("recorded_at", UTCDateTime, nullable=False),
        Column("superseded_at", UTCDateTime, nullable=True),
        Column("action", String(16), nullable=False),
        Column("actor", String(300), nullable=False),
        Column("grounds_decision", String(200), nullable=True),
        Column("grounds_reason", String(1000), nullable=True),
        PrimaryKeyConstraint(reg.key, "version"),
        Index(f"ix_{name}_recorded_at", "recorded_at"),
    )


CURRENT: dict[str, Table] = {name: _current_table(reg) for name, reg in REGISTERS.items()}
HISTORY: dict[str, Table] = {name: _history_table(reg) for name, reg in REGISTERS.items()}

register_sequences = Table(
    "register_sequences",
    metadata,
    Column("register", String(64), primary_key=True),
    Column("last_value", Integer, nullable=False),
)
