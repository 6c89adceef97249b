"""归口管理: one owning account manager per customer; transfers follow rules, leave history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from coop.models import AuditEvent
from coop.roles import Role
from coop.services import DomainError
from customers.models import Customer, OwnershipTransfer
from customers.selectors_relationship import account_managers_for, transfers_for_customer
from customers.services.relationship import customer_transfer
from tests.customers.test_relationship_support import (
    make_customer,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def am2(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def manager(make_staff):
    return make_staff(Role.BRANCH_MANAGER, unit="B01")


@pytest.fixture
def customer(am):
    return make_customer(am)


def owners(customer) -> tuple:
    customer.refresh_from_db()
    return customer.owner_id, customer.b_manager_id


def test_transfer_changes_the_owner_and_records_history(am, am2, manager, customer, make_staff):
    b_role = make_staff(Role.ACCOUNT_MANAGER, unit="B01-01")  # an outlet of the same branch

    transfer = customer_transfer(
        actor=manager, customer=customer, to_owner=am2, to_b_manager=b_role, reason="岗位调整"
    )

    assert owners(customer) == (am2.pk, b_role.pk)
    assert (transfer.from_owner, transfer.to_owner) == (am, am2)
    assert (transfer.from_b_manager, transfer.to_b_manager) == (None, b_role)
    assert (transfer.reason, transfer.transferred_by) == ("岗位调整", manager)
    audit = AuditEvent.objects.get(action="customer.transfer")
    assert (audit.object_id, audit.from_state, audit.to_state, audit.comment) == (
        str(customer.pk),
        str(am.pk),
        str(am2.pk),
        "岗位调整",
    )


def test_history_is_newest_first(am, am2, manager, customer):
    customer_transfer(actor=manager, customer=customer, to_owner=am2, reason="一")
    customer_transfer(actor=manager, customer=customer, to_owner=am, reason="二")

    assert [t.reason for t in transfers_for_customer(customer)] == ["二", "一"]
    assert owners(customer) == (am.pk, None)


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("other_branch", "to_owner", "not_eligible"),
        ("inactive", "to_owner", "not_eligible"),
        ("teller", "to_owner", "not_eligible"),
        ("b_is_owner", "to_b_manager", "same_as_owner"),
        ("b_other_branch", "to_b_manager", "not_eligible"),
        ("same_managers", "to_owner", "same"),
        ("no_reason", "reason", "required"),
    ],
)
def test_refused_transfers_change_nothing(
    am, am2, manager, customer, make_staff, case, field, code
):
    to_owner, to_b, reason = am2, None, "调整"
    if case == "other_branch":
        to_owner = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    elif case == "inactive":
        am2.is_active = False
        am2.save(update_fields=["is_active"])
    elif case == "teller":
        to_owner = make_staff(Role.TELLER, unit="B01-01")
    elif case == "b_is_owner":
        to_b = am2
    elif case == "b_other_branch":
        to_b = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    elif case == "same_managers":
        to_owner = am
    elif case == "no_reason":
        reason = " "

    with pytest.raises(DomainError) as refused:
        customer_transfer(
            actor=manager, customer=customer, to_owner=to_owner, to_b_manager=to_b, reason=reason
        )

    assert (refused.value.field, refused.value.code) == (field, code)
    assert owners(customer) == (am.pk, None)
    assert OwnershipTransfer.objects.count() == 0
    assert not AuditEvent.objects.filter(action="customer.transfer").exists()


def test_only_holders_of_the_permission_transfer(am, am2, customer):
    with pytest.raises(PermissionDenied):
        customer_transfer(actor=am, customer=customer, to_owner=am2, reason="自己转")

    assert owners(customer) == (am.pk, None)


def test_candidates_are_the_active_account_managers_of_the_branch(org, am, am2, make_staff):
    outlet_am = make_staff(Role.ACCOUNT_MANAGER, unit="B01-02")
    make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    make_staff(Role.TELLER, unit="B01-01")
    retired = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    customer = make_customer(am)

    assert set(account_managers_for(customer)) == {am, am2, outlet_am}


def test_transfer_page(client, org, am, am2, manager, customer, make_staff):
    other_branch_customer = make_customer(make_staff(Role.ACCOUNT_MANAGER, unit="B02"))
    client.force_login(manager)

    page = client.get(f"/customers/{customer.pk}/transfer/")
    assert page.status_code == 200
    assert 'data-testid="transfer-form"' in page.content.decode()

    response = client.post(
        f"/customers/{customer.pk}/transfer/", {"to_owner": am2.pk, "reason": "岗位调整"}
    )
    assert response.status_code == 302
    assert owners(customer) == (am2.pk, None)
    assert "岗位调整" in client.get(f"/customers/{customer.pk}/transfer/").content.decode()

    # another branch's customer is not there at all
    assert client.get(f"/customers/{other_branch_customer.pk}/transfer/").status_code == 404
    blocked = client.post(
        f"/customers/{other_branch_customer.pk}/transfer/", {"to_owner": am2.pk, "reason": "x"}
    )
    assert blocked.status_code == 404
    assert Customer.objects.get(pk=other_branch_customer.pk).owner_id != am2.pk


def test_transfer_page_refuses_an_owner_from_another_branch(
    client, am, manager, customer, make_staff
):
    stranger = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    client.force_login(manager)

    response = client.post(
        f"/customers/{customer.pk}/transfer/", {"to_owner": stranger.pk, "reason": "x"}
    )

    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors["to_owner"]
    assert owners(customer) == (am.pk, None)


def test_account_managers_cannot_open_the_transfer_page(client, am, customer):
    client.force_login(am)

    assert client.get(f"/customers/{customer.pk}/transfer/").status_code == 403
