from coop.roles import Role
from coop.scoping import can_see_unit, sees_whole_bank, visible_org_units


def test_head_office_sees_every_unit(org, make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    assert sees_whole_bank(director)
    assert set(visible_org_units(director)) == set(org.values())


def test_branch_staff_see_their_branch_and_its_outlets_only(org, make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")
    assert set(visible_org_units(manager)) == {org["B01"], org["B01-01"], org["B01-02"]}
    assert not can_see_unit(manager, org["B02"])
    assert not can_see_unit(manager, org["HQ"])


def test_outlet_staff_see_their_whole_branch(org, make_staff):
    teller = make_staff(Role.TELLER, unit="B01-02")
    assert set(visible_org_units(teller)) == {org["B01"], org["B01-01"], org["B01-02"]}


def test_inactive_or_anonymous_users_see_nothing(org, make_staff):
    from django.contrib.auth.models import AnonymousUser

    staff = make_staff(Role.TELLER, unit="B02-01")
    staff.is_active = False
    assert list(visible_org_units(staff)) == []
    assert list(visible_org_units(AnonymousUser())) == []


def test_staff_list_is_scoped_to_the_branch(client, org, make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01", username="mgr_b1")
    make_staff(Role.TELLER, unit="B01-01", username="teller_b1")
    make_staff(Role.TELLER, unit="B02-01", username="teller_b2")
    client.force_login(manager)

    body = client.get("/org/staff/").content.decode()

    assert "teller_b1" in body
    assert "teller_b2" not in body


def test_pages_refuse_roles_without_the_permission(client, make_staff):
    client.force_login(make_staff(Role.TELLER, unit="B01-01"))
    assert client.get("/org/staff/").status_code == 403
    assert client.get("/org/").status_code == 403
    assert client.get("/admin/").status_code == 302  # admin sends non-staff to its login
