"""Who is asking: one type for officials' tokens, people in offices and access keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsom.auth.permissions import Permission, Role
from dsom.kit.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; `organizer` set means every read is scoped to it."""

    kind: Literal["token", "person", "key", "system"]
    id: str
    name: str
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    organizer: str | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this caller holds `permission`."""
        return permission in self.permissions

    def require(self, *any_of: Permission) -> None:
        """Refuse with 403 unless this caller holds one of `any_of`."""
        if not any(p in self.permissions for p in any_of):
            raise Forbidden("you do not have the right to do this")

    @property
    def actor(self) -> str:
        """How history and the audit log name this caller."""
        return f"{self.kind}:{self.id} ({self.name})"


SYSTEM = Principal(
    kind="system",
    id="dsom",
    name="DSOM command line",
    roles=frozenset({Role.REGULATOR}),
    permissions=frozenset(Permission),
)
