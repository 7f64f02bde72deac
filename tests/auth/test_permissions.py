"""The role → permission map: who may read, who may write, what a head may delegate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsom.auth.permissions import (
    REPRESENTATIVE_RIGHTS,
    ROLE_PERMISSIONS,
    TOKEN_ROLES,
    Permission,
    Role,
    permissions_of,
)
from dsom.auth.principal import Principal
from dsom.kit.errors import Forbidden

P = Permission
# The permissions that only look: everything else changes something or acts for someone.
READ_ONLY = frozenset(
    {
        P.REGISTERS_READ,
        P.REGISTERS_READ_OWN,
        P.REPORTS_ALL,
        P.REPORTS_FINANCIAL,
        P.REPORTS_OWN,
        P.AUDIT_READ,
    }
)


def test_every_role_has_an_entry_in_the_map() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_tax_reads_registers_and_financial_reports_and_changes_nothing() -> None:
    tax = permissions_of(frozenset({Role.TAX}))
    assert tax == {P.REGISTERS_READ, P.REPORTS_FINANCIAL}
    assert tax <= READ_ONLY


def test_regulator_keeps_the_registers_and_steers_organizers() -> None:
    regulator = permissions_of(frozenset({Role.REGULATOR}))
    assert {P.REGISTERS_READ, P.REGISTERS_WRITE, P.ORGANIZERS_STATUS} <= regulator
    assert P.OFFICIALS_MANAGE not in regulator


def test_regulator_admin_is_a_regulator_who_also_manages_officials() -> None:
    admin = ROLE_PERMISSIONS[Role.REGULATOR_ADMIN]
    regulator = ROLE_PERMISSIONS[Role.REGULATOR]
    assert admin >= regulator
    assert admin - regulator == {P.OFFICIALS_MANAGE}


def test_organizer_roles_never_read_or_write_every_organizers_registers() -> None:
    for role in (Role.ORGANIZER_HEAD, Role.ORGANIZER_REPRESENTATIVE, Role.ORGANIZER_SYSTEM):
        held = permissions_of(frozenset({role}), frozenset(Permission))
        assert not held & {P.REGISTERS_READ, P.REGISTERS_WRITE, P.REPORTS_ALL}, role


def test_representative_without_grants_holds_nothing() -> None:
    assert permissions_of(frozenset({Role.ORGANIZER_REPRESENTATIVE})) == frozenset()


def test_representative_gets_only_granted_rights_within_representative_rights() -> None:
    granted = frozenset({P.KEYS_MANAGE, P.REGISTERS_WRITE, P.OFFICIALS_MANAGE})
    held = permissions_of(frozenset({Role.ORGANIZER_REPRESENTATIVE}), granted)
    assert held == {P.KEYS_MANAGE}


@given(st.frozensets(st.sampled_from(list(Permission))))
def test_representative_holds_exactly_the_grantable_part_of_its_grants(
    granted: frozenset[Permission],
) -> None:
    held = permissions_of(frozenset({Role.ORGANIZER_REPRESENTATIVE}), granted)
    assert held == granted & REPRESENTATIVE_RIGHTS


def test_a_head_can_grant_only_what_it_holds() -> None:
    assert ROLE_PERMISSIONS[Role.ORGANIZER_HEAD] >= REPRESENTATIVE_RIGHTS


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ORGANIZER_REPRESENTATIVE])
def test_grants_add_nothing_to_other_roles(role: Role) -> None:
    roles = frozenset({role})
    assert permissions_of(roles, frozenset(Permission)) == ROLE_PERMISSIONS[role]


def test_official_tokens_act_only_as_regulator_or_tax() -> None:
    assert set(TOKEN_ROLES) == {Role.REGULATOR, Role.TAX}


def test_principal_require_refuses_without_the_permission() -> None:
    roles = frozenset({Role.TAX})
    tax = Principal(
        kind="token", id="t", name="tax", roles=roles, permissions=permissions_of(roles)
    )
    tax.require(P.REGISTERS_READ, P.REGISTERS_READ_OWN)
    with pytest.raises(Forbidden):
        tax.require(P.REGISTERS_WRITE)
