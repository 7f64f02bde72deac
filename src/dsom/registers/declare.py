"""What a register declaration is. Storage, validation, API, forms, lists, history
and export are all derived from instances of `Register` (see declarations.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsom.auth.permissions import Permission
from dsom.registers.fields import Choice, Field, FieldError, Ref

# A cross-field rule: the entry's values and the entries its references point to
# (by field name) in, the errors out.
Check = Callable[[Mapping[str, Any], Mapping[str, Mapping[str, Any] | None]], Iterable[FieldError]]


@dataclass(frozen=True)
class Register:
    """One register: its entries' fields, key, statuses, rules and who may use it."""

    name: str  # plural, the table and URL name: "licences"
    entry: str  # singular, in messages: "licence"
    title_uk: str
    title_en: str
    key: str  # the field that identifies an entry
    organizer_field: str  # the field holding the organizer's EDRPOU code: the scope
    fields: tuple[Field, ...]
    statuses: tuple[str, ...]
    initial_status: str
    transitions: Mapping[str, tuple[str, ...]]
    key_prefix: str | None = None  # generated keys "<prefix>-000001"; None: the key is given
    checks: tuple[Check, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    read: frozenset[Permission] = frozenset(
        {Permission.REGISTERS_READ, Permission.REGISTERS_READ_OWN}
    )
    write: Permission = Permission.REGISTERS_WRITE
    status_permission: Permission = Permission.REGISTERS_WRITE
    channel_kind: str | None = None  # the protocol's channel kind, for channel registers
    labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # value -> (uk, en)

    @property
    def all_fields(self) -> tuple[Field, ...]:
        """The declared fields and `status`, in the order lists and files show them."""
        status = Field(
            "status", Choice(self.statuses), "Статус", "Status", editable=False, filterable=True
        )
        return (*self.fields, status)

    def get_field(self, name: str) -> Field:
        """The field called `name`."""
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def refs(self) -> tuple[tuple[Field, Ref], ...]:
        """The fields that refer to other registers."""
        return tuple((f, f.type) for f in self.fields if isinstance(f.type, Ref))

    def can_move(self, old: str, new: str) -> bool:
        """Whether an entry may go from status `old` to `new`."""
        return new in self.transitions.get(old, ())

    def json_schema(self, *, partial: bool = False) -> dict[str, Any]:
        """The JSON Schema of an entry's values, for the OpenAPI document."""
        properties = {}
        for f in self.all_fields:
            schema = dict(f.type.json_schema())
            schema["title"] = f.label_en
            if f.help_en:
                schema["description"] = f.help_en
            properties[f.name] = schema
        required = (
            []
            if partial
            else [
                f.name
                for f in self.fields
                if f.required and not (f.name == self.key and self.key_prefix)
            ]
        )
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
