"""Every permission in DSOM, and which role holds which. The one place that says so."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """What a principal may do; checked on the server for pages and JSON alike."""

    REGISTERS_READ = "registers:read"  # every organizer's entries
    REGISTERS_READ_OWN = "registers:read-own"  # the principal's own organizer's entries
    REGISTERS_WRITE = "registers:write"  # create, edit, change status, import
    ORGANIZERS_STATUS = "organizers:status"  # activate or suspend an organizer
    ORGANIZER_REGISTER = "organizer:register"  # register one's organizer with DSOM
    REPRESENTATIVES_MANAGE = "representatives:manage"
    KEYS_MANAGE = "keys:manage"
    OPERATIONS_SUBMIT = "operations:submit"
    REPORTS_ALL = "reports:all"
    REPORTS_FINANCIAL = "reports:financial"
    REPORTS_OWN = "reports:own"
    AUDIT_READ = "audit:read"
    OFFICIALS_MANAGE = "officials:manage"


class Role(StrEnum):
    """The words of interfaces.md for the people of DSOM, plus the machine principal."""

    REGULATOR = "regulator"
    REGULATOR_ADMIN = "regulator_admin"
    TAX = "tax"
    ORGANIZER_HEAD = "organizer_head"
    ORGANIZER_REPRESENTATIVE = "organizer_representative"
    ORGANIZER_SYSTEM = "organizer_system"  # an access key: an organizer's software, not a person


P = Permission

# Why each role has what it has:
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # PlayCity officials keep the registers, steer organizers and see everything.
    Role.REGULATOR: frozenset(
        {P.REGISTERS_READ, P.REGISTERS_WRITE, P.ORGANIZERS_STATUS, P.REPORTS_ALL, P.AUDIT_READ}
    ),
    # An administrator is an official who also appoints officials.
    Role.REGULATOR_ADMIN: frozenset(
        {
            P.REGISTERS_READ,
            P.REGISTERS_WRITE,
            P.ORGANIZERS_STATUS,
            P.REPORTS_ALL,
            P.AUDIT_READ,
            P.OFFICIALS_MANAGE,
        }
    ),
    # The tax service reads the registers and the financial reports; it changes nothing.
    Role.TAX: frozenset({P.REGISTERS_READ, P.REPORTS_FINANCIAL}),
    # The head answers for the organizer: everything the organizer may do, for its own data only.
    Role.ORGANIZER_HEAD: frozenset(
        {
            P.ORGANIZER_REGISTER,
            P.REGISTERS_READ_OWN,
            P.REPRESENTATIVES_MANAGE,
            P.KEYS_MANAGE,
            P.REPORTS_OWN,
        }
    ),
    # A representative holds only the rights its head granted (see REPRESENTATIVE_RIGHTS).
    Role.ORGANIZER_REPRESENTATIVE: frozenset(),
    # An access key submits and reads back operations, nothing else.
    Role.ORGANIZER_SYSTEM: frozenset({P.OPERATIONS_SUBMIT}),
}

# The rights a head may grant a representative, each a permission of its own.
REPRESENTATIVE_RIGHTS: frozenset[Permission] = frozenset(
    {P.REGISTERS_READ_OWN, P.KEYS_MANAGE, P.REPORTS_OWN}
)

# Official API tokens (`dsom tokens create --role`) act in one of these roles.
TOKEN_ROLES: tuple[Role, ...] = (Role.REGULATOR, Role.TAX)


def permissions_of(
    roles: frozenset[Role], granted: frozenset[Permission] = frozenset()
) -> frozenset[Permission]:
    """All permissions of these roles, plus rights granted to a representative."""
    held: set[Permission] = set()
    for role in roles:
        held |= ROLE_PERMISSIONS[role]
    if Role.ORGANIZER_REPRESENTATIVE in roles:
        held |= granted & REPRESENTATIVE_RIGHTS
    return frozenset(held)
