"""Field types of register declarations.

A type knows how to store itself, describe itself in JSON Schema, and turn what a
person or a file gave (JSON value or CSV text) into a checked value, with a
message a person can act on when it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date as SADate
from sqlalchemy import String
from sqlalchemy.types import TypeEngine

from dsom.kit.codes import is_valid_edrpou, is_valid_rnokpp


class Invalid(ValueError):
    """A value that does not fit its field; the message is shown to the person."""


@dataclass(frozen=True)
class FieldType:
    """Base of all field types: text in, checked value out."""

    def column_type(self) -> TypeEngine[Any]:
        """The SQL column type."""
        return String(255)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the value in the API."""
        return {"type": "string"}

    def parse(self, raw: Any) -> Any:
        """A checked value from a JSON value or CSV text; raises Invalid."""
        if not isinstance(raw, str):
            raise Invalid("must be text")
        return raw.strip()

    def dump(self, value: Any) -> Any:
        """The JSON value of a stored value."""
        return value

    def to_text(self, value: Any) -> str:
        """The CSV text of a stored value."""
        return "" if value is None else str(self.dump(value))


@dataclass(frozen=True)
class Text(FieldType):
    """Free text, stripped, with a length range and an optional pattern."""

    max_length: int = 255
    min_length: int = 1
    pattern: str | None = None
    pattern_hint: str = ""

    def column_type(self) -> TypeEngine[Any]:
        return String(self.max_length)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "string",
            "minLength": self.min_length,
            "maxLength": self.max_length,
        }
        if self.pattern:
            schema["pattern"] = self.pattern
        return schema

    def parse(self, raw: Any) -> Any:
        text = super().parse(raw)
        if len(text) < self.min_length:
            raise Invalid(f"must have at least {self.min_length} characters")
        if len(text) > self.max_length:
            raise Invalid(f"must have at most {self.max_length} characters, has {len(text)}")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise Invalid(self.pattern_hint or f"must match {self.pattern}")
        return text


@dataclass(frozen=True)
class Choice(FieldType):
    """One of a fixed list of words."""

    values: tuple[str, ...] = ()

    def column_type(self) -> TypeEngine[Any]:
        return String(max(32, *(len(v) for v in self.values)))

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}

    def parse(self, raw: Any) -> Any:
        text = super().parse(raw)
        if text not in self.values:
            raise Invalid(f"must be one of {', '.join(self.values)}; got {text!r}")
        return text


@dataclass(frozen=True)
class Edrpou(FieldType):
    """A company's EDRPOU code: 8 digits, the last a check digit."""

    def column_type(self) -> TypeEngine[Any]:
        return String(8)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[0-9]{8}$", "description": "EDRPOU code"}

    def parse(self, raw: Any) -> Any:
        text = super().parse(raw)
        if not (len(text) == 8 and text.isascii() and text.isdigit()):
            raise Invalid(f"an EDRPOU code is 8 digits; got {text!r}")
        if not is_valid_edrpou(text):
            raise Invalid(f"{text} is not a valid EDRPOU code: its check digit does not match")
        return text


@dataclass(frozen=True)
class Rnokpp(FieldType):
    """A person's taxpayer number (RNOKPP): 10 digits, the last a check digit."""

    def column_type(self) -> TypeEngine[Any]:
        return String(10)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[0-9]{10}$", "description": "RNOKPP"}

    def parse(self, raw: Any) -> Any:
        text = super().parse(raw)
        if not (len(text) == 10 and text.isascii() and text.isdigit()):
            raise Invalid(f"an RNOKPP is 10 digits; got {text!r}")
        if not is_valid_rnokpp(text):
            raise Invalid(f"{text} is not a valid RNOKPP: its check digit does not match")
        return text


@dataclass(frozen=True)
class Day(FieldType):
    """A calendar date, `YYYY-MM-DD`."""

    def column_type(self) -> TypeEngine[Any]:
        return SADate()

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}

    def parse(self, raw: Any) -> Any:
        if isinstance(raw, date):
            return raw
        text = super().parse(raw)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise Invalid(f"must be a date YYYY-MM-DD; got {text!r}") from None

    def dump(self, value: Any) -> Any:
        return None if value is None else value.isoformat()


@dataclass(frozen=True)
class Ref(FieldType):
    """A reference to an entry of another register, by its key.

    With `same_organizer`, the entry referred to must belong to the same organizer
    as the entry that refers to it (checked by the service, and by a composite
    foreign key in the database).
    """

    register: str = ""
    same_organizer: bool = True
    max_length: int = 64

    def column_type(self) -> TypeEngine[Any]:
        return String(self.max_length)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "description": f"key of an entry of the {self.register} register"}

    def parse(self, raw: Any) -> Any:
        text = super().parse(raw)
        if not text:
            raise Invalid("must not be empty")
        if len(text) > self.max_length:
            raise Invalid(f"must have at most {self.max_length} characters")
        return text


EMAIL = Text(
    max_length=254, pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+", pattern_hint="must be an e-mail address"
)
PHONE = Text(
    max_length=20,
    pattern=r"\+[0-9]{9,15}",
    pattern_hint="must be a phone number like +380441234567",
)
DOMAIN = Text(
    max_length=253,
    pattern=r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    pattern_hint="must be a lower-case domain name such as example.com.ua (no scheme, no path)",
)


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field of an entry."""

    field: str
    message: str


@dataclass(frozen=True)
class Field:
    """One field of a register: its type, labels, and how lists and edits treat it."""

    name: str
    type: FieldType
    label_uk: str
    label_en: str
    required: bool = True
    editable: bool = True
    filterable: bool = False
    searchable: bool = False
    help_en: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
