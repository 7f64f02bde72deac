"""What can be done with a register, for the JSON API, the pages and the command line alike.

Services check permissions and rules and record history; the caller owns the
transaction (a request, an import, the seeding), so nothing here commits. Every change
a person or an official's token makes (create, update, status, import) is also written
to the audit log here, in the same transaction, so the API and the pages cannot differ.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from dsom.auth.principal import Principal
from dsom.kit.errors import DomainError, NotFound, ValidationFailed
from dsom.kit.time import isoformat_z, kyiv_midnight, parse_instant, utcnow
from dsom.people import repository as people_repo
from dsom.registers import repository as repo
from dsom.registers.declarations import LICENCES, REGISTERS
from dsom.registers.declare import Register
from dsom.registers.fields import FieldError, Invalid
from dsom.registers.models import CURRENT

Entry = dict[str, Any]
MAX_PAGE = 1000


@dataclass(frozen=True)
class Grounds:
    """Why a change is made: a decision number, a free-text reason, or both (one required)."""

    decision: str | None = None
    reason: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> Grounds:
        """Grounds from `{"decision", "reason"}`; at least one must be given."""
        if not isinstance(raw, Mapping):
            raise ValidationFailed(
                "every change needs grounds: a decision number or a reason",
                fields=[{"field": "grounds", "message": "is required"}],
            )
        decision = str(raw.get("decision") or "").strip() or None
        reason = str(raw.get("reason") or "").strip() or None
        errors = []
        if decision is None and reason is None:
            errors.append(
                {"field": "grounds", "message": "give a decision number or a reason for the change"}
            )
        if decision and len(decision) > 200:
            errors.append(
                {"field": "grounds.decision", "message": "must have at most 200 characters"}
            )
        if reason and len(reason) > 1000:
            errors.append(
                {"field": "grounds.reason", "message": "must have at most 1000 characters"}
            )
        if errors:
            raise ValidationFailed(
                "the grounds of the change are missing or too long", fields=errors
            )
        return cls(decision, reason)


class ImportFailed(DomainError):
    """A file with bad rows: each named with its line; nothing of the file is stored."""

    status_code = 422
    code = "import_failed"


def register_of(name: str) -> Register:
    """The register called `name`, or 404."""
    reg = REGISTERS.get(name)
    if reg is None:
        raise NotFound(f"there is no register {name!r}")
    return reg


# --- reading -----------------------------------------------------------------------------


def public(reg: Register, entry: Mapping[str, Any]) -> Entry:
    """An entry as the API shows it: its fields as JSON values, and its version."""
    out = {f.name: f.type.dump(entry.get(f.name)) for f in reg.all_fields}
    out["version"] = entry["version"]
    if "updated_at" in entry:
        out["updated_at"] = isoformat_z(entry["updated_at"])
    else:
        out["recorded_at"] = isoformat_z(entry["recorded_at"])
    return out


def public_version(reg: Register, version: Mapping[str, Any]) -> Entry:
    """One version of an entry's history, with who recorded it, when and why."""
    return {
        "version": version["version"],
        "recorded_at": isoformat_z(version["recorded_at"]),
        "superseded_at": isoformat_z(version["superseded_at"])
        if version["superseded_at"]
        else None,
        "action": version["action"],
        "actor": version["actor"],
        "grounds": {"decision": version["grounds_decision"], "reason": version["grounds_reason"]},
        "values": {f.name: f.type.dump(version.get(f.name)) for f in reg.all_fields},
    }


def get(
    conn: Connection, reg: Register, principal: Principal, key: str, as_of: datetime | None = None
) -> Entry:
    """One entry, now or as of a past moment; 404 if the principal may not see it."""
    principal.require(*reg.read)
    entry = (
        repo.get_as_of(conn, reg, key, as_of, principal)
        if as_of
        else repo.get_current(conn, reg, key, principal)
    )
    if entry is None:
        when = f" at {isoformat_z(as_of)}" if as_of else ""
        raise NotFound(f"no {reg.entry} {key}{when}")
    return entry


def get_many(
    conn: Connection, reg: Register, principal: Principal, keys: Iterable[str]
) -> dict[str, Entry]:
    """The current entries with these keys that the principal may see, by key (the others
    are left out, as if there were none)."""
    principal.require(*reg.read)
    return repo.get_many(conn, reg, sorted(set(keys)), principal)


def history(conn: Connection, reg: Register, principal: Principal, key: str) -> list[Entry]:
    """Every version of one entry, oldest first."""
    principal.require(*reg.read)
    versions = repo.history(conn, reg, key, principal)
    if not versions:
        raise NotFound(f"no {reg.entry} {key}")
    return versions


def parse_filters(reg: Register, raw: Mapping[str, str]) -> dict[str, Any]:
    """List filters from query parameters: only filterable fields, each checked by its type."""
    filters: dict[str, Any] = {}
    errors = []
    for f in reg.all_fields:
        if f.filterable and raw.get(f.name):
            try:
                filters[f.name] = f.type.parse(raw[f.name])
            except Invalid as exc:
                errors.append({"field": f.name, "message": str(exc)})
    if errors:
        raise ValidationFailed("a filter has a value its field cannot take", fields=errors)
    return filters


def list_entries(
    conn: Connection,
    reg: Register,
    principal: Principal,
    *,
    filters: Mapping[str, Any],
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
    as_of: datetime | None = None,
    descending: bool = False,
) -> tuple[list[Entry], int]:
    """A page of entries visible to the principal, and how many match in all."""
    principal.require(*reg.read)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"limit must be 1 to {MAX_PAGE}",
            fields=[{"field": "limit", "message": f"must be 1 to {MAX_PAGE}"}],
        )
    if offset < 0:
        raise ValidationFailed(
            "offset must not be negative",
            fields=[{"field": "offset", "message": "must not be negative"}],
        )
    return repo.list_entries(
        conn,
        reg,
        principal,
        filters=filters,
        text=text,
        limit=limit,
        offset=offset,
        as_of=as_of,
        descending=descending,
    )


# --- validation ---------------------------------------------------------------------------


@dataclass
class RefCache:
    """Entries referred to, looked up once per import or request."""

    found: dict[tuple[str, str], Entry | None] = field(default_factory=dict)

    def get(self, conn: Connection, reg: Register, key: str) -> Entry | None:
        if (reg.name, key) not in self.found:
            self.found[(reg.name, key)] = repo.get_current(conn, reg, key)
        return self.found[(reg.name, key)]


def validate(
    conn: Connection,
    reg: Register,
    raw: Mapping[str, Any],
    *,
    existing: Mapping[str, Any] | None,
    allow_status: bool = False,
    refs_cache: RefCache | None = None,
) -> Entry:
    """The entry's checked values (existing values changed by `raw`), or ValidationFailed.

    Every rule of the declaration: field types, required fields, fields that may not
    change, references that exist and belong to the same organizer, uniqueness, and
    the register's own cross-field checks. All errors are reported at once.
    """
    cache = refs_cache or RefCache()
    errors: list[FieldError] = []
    known = {f.name for f in reg.all_fields}
    errors += [
        FieldError(name, f"is not a field of the {reg.name} register")
        for name in raw
        if name not in known
    ]
    values: Entry = {f.name: None for f in reg.all_fields}
    if existing:
        values.update({f.name: existing.get(f.name) for f in reg.all_fields})
    for f in reg.all_fields:
        if f.name not in raw:
            continue
        given = raw[f.name]
        try:
            parsed = None if given is None or given == "" else f.type.parse(given)
        except Invalid as exc:
            errors.append(FieldError(f.name, str(exc)))
            continue
        if existing is not None and parsed != existing.get(f.name):
            if f.name == "status" and not allow_status:
                errors.append(
                    FieldError(f.name, "is changed by the status action, with its grounds")
                )
                continue
            if f.name == "status" and not reg.can_move(existing["status"], str(parsed)):
                errors.append(
                    FieldError(f.name, f"cannot go from {existing['status']} to {parsed}")
                )
                continue
            if not f.editable and f.name != "status":
                errors.append(FieldError(f.name, "cannot be changed once recorded"))
                continue
        values[f.name] = parsed
    if existing is None and values["status"] is None:
        values["status"] = reg.initial_status
    for f in reg.all_fields:
        generated = f.name == reg.key and reg.key_prefix and existing is None
        if (
            f.required
            and values[f.name] is None
            and not generated
            and not any(e.field == f.name for e in errors)
        ):
            errors.append(FieldError(f.name, "is required"))

    refs: dict[str, Entry | None] = {}
    for f, ref in reg.refs:
        key = values.get(f.name)
        if key is None:
            continue
        target = REGISTERS[ref.register]
        entry = cache.get(conn, target, key)
        refs[f.name] = entry
        if entry is None:
            errors.append(FieldError(f.name, f"there is no {target.entry} {key} in the register"))
        elif ref.same_organizer and entry[target.organizer_field] != values.get(
            reg.organizer_field
        ):
            errors.append(
                FieldError(
                    f.name,
                    f"{target.entry} {key} belongs to organizer "
                    f"{entry[target.organizer_field]}, not {values.get(reg.organizer_field)}",
                )
            )
    errors += _unique_errors(conn, reg, values)
    if not errors:
        for check in reg.checks:
            errors.extend(check(values, refs))
    if errors:
        raise ValidationFailed(
            f"the {reg.entry} cannot be recorded: "
            + "; ".join(f"{e.field} {e.message}" for e in errors),
            fields=[{"field": e.field, "message": e.message} for e in errors],
        )
    return values


def _unique_errors(conn: Connection, reg: Register, values: Mapping[str, Any]) -> list[FieldError]:
    table = CURRENT[reg.name]
    errors = []
    for columns in reg.unique:
        if any(values.get(c) is None for c in columns):
            continue
        stmt = select(table.c[reg.key]).where(*(table.c[c] == values[c] for c in columns))
        if values.get(reg.key) is not None:
            stmt = stmt.where(table.c[reg.key] != values[reg.key])
        other = conn.execute(stmt.limit(1)).scalar()
        if other is not None:
            what = ", ".join(f"{c} {values[c]}" for c in columns)
            errors.append(FieldError(columns[-1], f"{what} is already registered as {other}"))
    return errors


# --- changing ------------------------------------------------------------------------------


def _meta(principal: Principal, action: str, grounds: Grounds) -> repo.ChangeMeta:
    return repo.ChangeMeta(
        at=utcnow(),
        action=action,
        actor=principal.actor,
        decision=grounds.decision,
        reason=grounds.reason,
    )


def _audit(
    conn: Connection,
    principal: Principal,
    action: str,
    target: str,
    details: dict[str, Any],
    grounds: Grounds,
    *,
    ip: str | None,
    organizer: str | None,
) -> None:
    """Write a register change to the audit log, in the change's transaction: who, when,
    what (`register.<action>`, `<register>/<key>`), on what grounds, from where.

    The command line's own principal (seeding, maintenance) is not a person: its changes
    are in the registers' history only."""
    if principal.kind == "system":
        return
    details["grounds"] = {"decision": grounds.decision, "reason": grounds.reason}
    people_repo.audit(
        conn,
        principal,
        f"register.{action}",
        target,
        details,
        ip,
        at=utcnow(),
        organizer=organizer,
    )


def _dumped(reg: Register, values: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: reg.get_field(name).type.dump(values.get(name)) for name in names}


def _changes(reg: Register, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`{field: {"from", "to"}}` for every field whose value differs."""
    return {
        f.name: {"from": f.type.dump(before.get(f.name)), "to": f.type.dump(after.get(f.name))}
        for f in reg.all_fields
        if before.get(f.name) != after.get(f.name)
    }


def create(
    conn: Connection,
    reg: Register,
    principal: Principal,
    raw: Mapping[str, Any],
    grounds: Grounds,
    *,
    ip: str | None = None,
) -> Entry:
    """Record a new entry (its first version); a generated key is assigned when none is given.
    The change is in the audit log with `ip`."""
    entry = _create(conn, reg, principal, raw, grounds)
    _audit(
        conn,
        principal,
        "created",
        f"{reg.name}/{entry[reg.key]}",
        {
            "register": reg.name,
            "key": entry[reg.key],
            "version": 1,
            "values": _dumped(reg, entry, (f.name for f in reg.all_fields)),
        },
        grounds,
        ip=ip,
        organizer=entry.get(reg.organizer_field),
    )
    return entry


def _create(
    conn: Connection,
    reg: Register,
    principal: Principal,
    raw: Mapping[str, Any],
    grounds: Grounds,
    *,
    action: str = "create",
    refs_cache: RefCache | None = None,
) -> Entry:
    principal.require(reg.write)
    values = validate(conn, reg, raw, existing=None, allow_status=True, refs_cache=refs_cache)
    key = values.get(reg.key)
    if key is not None and repo.get_current(conn, reg, key) is not None:
        raise ValidationFailed(
            f"{reg.entry} {key} is already in the register",
            fields=[{"field": reg.key, "message": "is already in the register"}],
        )
    if reg.key_prefix:
        if key is None:
            values[reg.key] = repo.next_key(conn, reg)
        else:
            repo.note_key(conn, reg, key)
    meta = _meta(principal, action, grounds)
    repo.insert_entries(conn, reg, [values], meta)
    return {**values, "version": 1, "created_at": meta.at, "updated_at": meta.at}


def update(
    conn: Connection,
    reg: Register,
    principal: Principal,
    key: str,
    changes: Mapping[str, Any],
    grounds: Grounds,
    *,
    ip: str | None = None,
) -> Entry:
    """Record a new version of an entry with `changes` applied; the old one stays in history.
    A change (not a no-op) is in the audit log with `ip`."""
    before, entry = _update(conn, reg, principal, key, changes, grounds)
    if entry["version"] != before["version"]:
        _audit(
            conn,
            principal,
            "updated",
            f"{reg.name}/{key}",
            {
                "register": reg.name,
                "key": key,
                "version": entry["version"],
                "changes": _changes(reg, before, entry),
            },
            grounds,
            ip=ip,
            organizer=entry.get(reg.organizer_field),
        )
    return entry


def _update(
    conn: Connection,
    reg: Register,
    principal: Principal,
    key: str,
    changes: Mapping[str, Any],
    grounds: Grounds,
    *,
    action: str = "update",
    allow_status: bool = False,
    refs_cache: RefCache | None = None,
) -> tuple[Entry, Entry]:
    """The entry before and after the change (the same when nothing changed)."""
    principal.require(reg.write)
    existing = repo.get_current(conn, reg, key, principal, for_update=True)
    if existing is None:
        raise NotFound(f"no {reg.entry} {key}")
    values = validate(
        conn, reg, changes, existing=existing, allow_status=allow_status, refs_cache=refs_cache
    )
    if all(values[f.name] == existing[f.name] for f in reg.all_fields):
        return existing, existing
    meta = _meta(principal, action, grounds)
    version = repo.update_entry(conn, reg, key, values, existing["version"], meta)
    return existing, {
        **values,
        "version": version,
        "created_at": existing["created_at"],
        "updated_at": meta.at,
    }


def set_status(
    conn: Connection,
    reg: Register,
    principal: Principal,
    key: str,
    status: Any,
    grounds: Grounds,
    *,
    ip: str | None = None,
) -> Entry:
    """Move an entry to another status, if its register allows that step; the change is in
    the audit log with `ip`."""
    principal.require(reg.status_permission)
    existing = repo.get_current(conn, reg, key, principal, for_update=True)
    if existing is None:
        raise NotFound(f"no {reg.entry} {key}")
    try:
        new = reg.get_field("status").type.parse(status)
    except Invalid as exc:
        raise ValidationFailed(
            f"status {exc}", fields=[{"field": "status", "message": str(exc)}]
        ) from None
    if new == existing["status"]:
        return existing
    if not reg.can_move(existing["status"], new):
        allowed = ", ".join(reg.transitions.get(existing["status"], ())) or "none"
        raise ValidationFailed(
            f"a {existing['status']} {reg.entry} cannot become {new} (allowed: {allowed})",
            fields=[
                {"field": "status", "message": f"cannot go from {existing['status']} to {new}"}
            ],
        )
    meta = _meta(principal, "status", grounds)
    values = {**existing, "status": new}
    version = repo.update_entry(conn, reg, key, values, existing["version"], meta)
    _audit(
        conn,
        principal,
        "status_changed",
        f"{reg.name}/{key}",
        {
            "register": reg.name,
            "key": key,
            "version": version,
            "changes": {"status": {"from": existing["status"], "to": new}},
        },
        grounds,
        ip=ip,
        organizer=existing.get(reg.organizer_field),
    )
    return {**values, "version": version, "updated_at": meta.at}


# --- the rules' view of the past -------------------------------------------------------------


def licence_status_at(conn: Connection, number: str, at: datetime) -> str:
    """The licence's status at `at` as the ingest rules see it.

    `active` only if the version in force then says active and `at` falls within its
    validity dates (Kyiv days, `valid_to` inclusive); otherwise its recorded status,
    or `not_yet_valid` / `expired` by the dates, or `unknown` for no such licence.
    """
    version = repo.get_effective(conn, LICENCES, number, at)
    if version is None:
        return "unknown"
    return effective_licence_status(version, at)


def effective_licence_status(version: Mapping[str, Any], at: datetime) -> str:
    """The status a licence version gives at `at`, its validity dates considered."""
    if version["status"] != "active":
        return str(version["status"])
    if at < kyiv_midnight(version["valid_from"]):
        return "not_yet_valid"
    if at >= kyiv_midnight(version["valid_to"] + timedelta(days=1)):
        return "expired"
    return "active"


# --- files -----------------------------------------------------------------------------------


def export_csv(
    conn: Connection,
    reg: Register,
    principal: Principal,
    as_of: datetime | None = None,
    *,
    filters: Mapping[str, Any] | None = None,
    text: str | None = None,
) -> str:
    """The register (what the principal may see; only entries matching `filters` and `text`
    when given) as CSV with a header of field names."""
    principal.require(*reg.read)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in reg.all_fields])
    for entry in repo.iter_all(conn, reg, principal, as_of, filters=filters, text=text):
        writer.writerow([f.type.to_text(entry.get(f.name)) for f in reg.all_fields])
    return out.getvalue()


def export_json(
    conn: Connection,
    reg: Register,
    principal: Principal,
    as_of: datetime | None = None,
    *,
    filters: Mapping[str, Any] | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """The register (what the principal may see; only entries matching `filters` and `text`
    when given) as one JSON document."""
    principal.require(*reg.read)
    entries = repo.iter_all(conn, reg, principal, as_of, filters=filters, text=text)
    return {
        "register": reg.name,
        "exported_at": isoformat_z(utcnow()),
        "as_of": isoformat_z(as_of) if as_of else None,
        "entries": [public(reg, e) for e in entries],
    }


@dataclass
class ImportResult:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    start = 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if header is None:
            header = [h.strip() for h in row]
            yield line, {"__header__": "\x1f".join(header)}
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield line, {"__width__": f"has {len(row)} values, the header has {len(header)}"}
            continue
        yield line, dict(zip(header, row, strict=True))


def import_csv(
    conn: Connection,
    reg: Register,
    principal: Principal,
    text: str,
    grounds: Grounds,
    *,
    ip: str | None = None,
) -> ImportResult:
    """Load a whole register from CSV: each row creates or updates the entry of its key.

    All or nothing: every bad row is reported with its line number and reason, and
    if there is one, ImportFailed is raised and the caller's transaction rolls back.
    A stored import is one entry of the audit log (with `ip`); its rows are in the history.
    """
    principal.require(reg.write)
    result = ImportResult()
    problems: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    cache = RefCache()
    known = {f.name for f in reg.all_fields}
    header_ok = False
    for line, row in _csv_rows(text):
        if "__header__" in row:
            header = row["__header__"].split("\x1f")
            unknown = [h for h in header if h not in known]
            missing = [] if reg.key_prefix or reg.key in header else [reg.key]
            twice = sorted({h for h in header if header.count(h) > 1})
            if unknown or missing or twice:
                message = "; ".join(
                    ([f"unknown columns {', '.join(unknown)}"] if unknown else [])
                    + ([f"the key column {reg.key} is missing"] if missing else [])
                    + ([f"columns given twice {', '.join(twice)}"] if twice else [])
                )
                problems.append({"line": line, "field": None, "message": message})
                break
            header_ok = True
            continue
        if "__width__" in row:
            problems.append({"line": line, "field": None, "message": row["__width__"]})
            continue
        key = (row.get(reg.key) or "").strip()
        if key and key in seen:
            problems.append(
                {
                    "line": line,
                    "field": reg.key,
                    "message": f"{reg.key} {key} appears again (first on line {seen[key]})",
                }
            )
            continue
        if key:
            seen[key] = line
        try:
            existing = repo.get_current(conn, reg, key) if key else None
            if existing is None:
                _create(conn, reg, principal, row, grounds, action="import", refs_cache=cache)
                result.created += 1
            else:
                _, changed = _update(
                    conn,
                    reg,
                    principal,
                    key,
                    row,
                    grounds,
                    action="import",
                    allow_status=True,
                    refs_cache=cache,
                )
                if changed["version"] == existing["version"]:  # no new version recorded
                    result.unchanged += 1
                else:
                    result.updated += 1
        except ValidationFailed as exc:
            problems.extend(
                {"line": line, "field": e["field"], "message": e["message"]}
                for e in exc.details.get("fields", [])
            )
    if not header_ok and not problems:
        problems.append({"line": 1, "field": None, "message": "the file is empty: no header row"})
    if problems:
        lines = sorted({p["line"] for p in problems})
        raise ImportFailed(
            f"{len(lines)} row(s) of the file cannot be imported (first on line {lines[0]}); "
            "nothing of the file was imported",
            rows=problems,
        )
    _audit(
        conn,
        principal,
        "imported",
        reg.name,
        {
            "register": reg.name,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
        grounds,
        ip=ip,
        organizer=None,
    )
    return result


def parse_as_of(text: str | None) -> datetime | None:
    """An `as_of` query value: an RFC 3339 instant or a date (Kyiv midnight)."""
    if not text:
        return None
    try:
        return parse_instant(text)
    except (ValueError, OverflowError):  # OverflowError: a day whose midnight is not in UTC range
        raise ValidationFailed(
            f"as_of {text!r} is not a date or an RFC 3339 instant",
            fields=[{"field": "as_of", "message": "must be a date or instant"}],
        ) from None
