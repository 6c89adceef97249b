import pytest
from django.contrib.auth.models import Group

from coop.roles import Role, role_permissions, sync_roles
from coop.services import DomainError, org_unit_create


def test_every_role_is_a_group_with_exactly_its_permissions(db):
    sync_roles(strict=True)  # raises if a listed permission does not exist
    for role, perms in role_permissions().items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(perms)


def test_a_user_may_hold_several_roles(make_staff):
    user = make_staff(Role.LOAN_COMMITTEE, Role.MANAGEMENT, unit="HQ")
    assert user.has_perm("coop.view_org_structure")
    assert sorted(user.groups.values_list("name", flat=True)) == ["loan_committee", "management"]


def test_org_units_follow_the_hierarchy(org):
    with pytest.raises(DomainError):
        org_unit_create(code="X1", name="Outlet under head office", kind="outlet", parent=org["HQ"])
    with pytest.raises(DomainError):
        org_unit_create(code="X2", name="Second head office", kind="head_office")
    outlet = org_unit_create(code="B02-09", name="New outlet", kind="outlet", parent=org["B02"])
    assert outlet.path == f"{org['B02'].path}{outlet.pk}/"
