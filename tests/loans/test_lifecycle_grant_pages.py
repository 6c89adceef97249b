"""Granting a credit line and recording a maximum-amount guarantee contract in the browser's
forms: who may, in whose scope, what a refusal looks like (nothing written), and the audit row."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from coop.models import AuditEvent
from loans.models import CreditLine, GuaranteeContract
from loans.services.credit import guarantee_contract_create
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import make_customer, make_product

D = Decimal

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

GRANT = "/loans/credit-lines/new/"
GUARANTEE = "/loans/guarantee-contracts/new/"


def grant_form(product, **overrides) -> dict:
    values = {
        "idempotency_key": str(uuid.uuid4()),
        "product": product.pk,
        "limit": "30000.00",
        "valid_from": "2026-01-01",
        "valid_to": "2027-12-31",
        "revolving": "on",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def guarantee_form(**overrides) -> dict:
    values = {
        "idempotency_key": str(uuid.uuid4()),
        "guarantor_name": "颍上县农业融资担保有限公司",
        "guarantor_is_company": "on",
        "max_amount": "80000.00",
        "valid_from": "2026-01-01",
        "valid_to": "2027-12-31",
        "signed_on": "2026-01-01",
    }
    values.update(overrides)
    return values


@pytest.fixture
def customer(org, staff):
    return make_customer(org, staff.am, name="授信客户")


def test_branch_manager_grants_a_line_from_the_customer_file(client, staff, customer):
    product = make_product(name="丰收贷测试")
    client.force_login(staff.manager)

    file_page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f"{GRANT}?customer={customer.pk}" in file_page

    form_page = client.get(GRANT, {"customer": customer.pk}).content.decode()
    assert "丰收贷测试" in form_page
    assert "¥1,000.00" in form_page and "¥100,000.00" in form_page  # the range in the label

    response = client.post(f"{GRANT}?customer={customer.pk}", grant_form(product))
    line = CreditLine.objects.get(customer=customer)
    assert response.status_code == 302
    assert response["Location"] == f"/loans/credit-lines/{line.pk}/"
    assert (line.product, line.limit, line.revolving) == (product, D("30000.00"), True)
    assert (line.valid_from, line.valid_to) == (date(2026, 1, 1), date(2027, 12, 31))
    assert line.granted_by == staff.manager and line.branch == customer.branch
    event = AuditEvent.objects.get(action="credit_line.grant", object_id=str(line.pk))
    assert event.actor == staff.manager and event.data["limit"] == "30000.00"


def test_a_double_submitted_form_grants_and_records_once(client, staff, customer):
    product = make_product()
    client.force_login(staff.manager)
    form = grant_form(product)
    first = client.post(f"{GRANT}?customer={customer.pk}", form)
    second = client.post(f"{GRANT}?customer={customer.pk}", form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert CreditLine.objects.filter(customer=customer).count() == 1
    assert AuditEvent.objects.filter(action="credit_line.grant").count() == 1

    guarantee = guarantee_form()
    client.post(f"{GUARANTEE}?customer={customer.pk}", guarantee)
    client.post(f"{GUARANTEE}?customer={customer.pk}", guarantee)
    assert GuaranteeContract.objects.filter(customer=customer).count() == 1
    assert AuditEvent.objects.filter(action="guarantee_contract.create").count() == 1

    # A form's key used for one thing cannot be replayed on another form.
    reused = client.post(
        f"{GUARANTEE}?customer={customer.pk}",
        guarantee_form(idempotency_key=form["idempotency_key"]),
    )
    assert reused.status_code == 409
    assert GuaranteeContract.objects.filter(customer=customer).count() == 1


def test_a_refused_submission_leaves_its_key_free_for_the_corrected_one(client, staff, customer):
    product = make_product()
    client.force_login(staff.manager)
    form = grant_form(product, limit="500.00")
    refused = client.post(f"{GRANT}?customer={customer.pk}", form)
    assert refused.status_code == 400
    # The page re-renders the same key; the corrected form goes through with it.
    assert form["idempotency_key"] in refused.content.decode()
    corrected = client.post(f"{GRANT}?customer={customer.pk}", {**form, "limit": "5000.00"})
    assert corrected.status_code == 302
    assert CreditLine.objects.get(customer=customer).limit == D("5000.00")


def test_a_limit_outside_the_range_is_refused_and_nothing_is_written(client, staff, customer):
    product = make_product()
    client.force_login(staff.manager)
    response = client.post(
        f"{GRANT}?customer={customer.pk}", grant_form(product, limit="100000.01")
    )
    assert response.status_code == 400
    assert "¥1,000.00" in response.content.decode()
    assert "limit" in response.context["form"].errors
    assert not CreditLine.objects.filter(customer=customer).exists()
    assert not AuditEvent.objects.filter(action="credit_line.grant").exists()


def test_a_revolving_line_beyond_the_products_years_is_refused(client, staff, customer):
    product = make_product(revolving_years=2)
    client.force_login(staff.manager)
    response = client.post(
        f"{GRANT}?customer={customer.pk}", grant_form(product, valid_to="2028-01-02")
    )
    assert response.status_code == 400
    assert "valid_to" in response.context["form"].errors
    assert not CreditLine.objects.exists()


def test_a_product_not_offered_to_the_customer_cannot_be_chosen(client, staff, customer):
    offered = make_product(name="个人产品")
    corporate = make_product(name="企业产品", customer_kind="corporate")
    client.force_login(staff.manager)
    page = client.get(GRANT, {"customer": customer.pk}).content.decode()
    assert "个人产品" in page and "企业产品" not in page
    response = client.post(f"{GRANT}?customer={customer.pk}", grant_form(corporate))
    assert response.status_code == 400
    assert "product" in response.context["form"].errors
    assert offered.pk != corporate.pk and not CreditLine.objects.exists()


def test_a_guaranteed_product_needs_the_borrowers_guarantee(client, staff, customer):
    product = make_product(security="max_amount_guarantee", revolving=False, revolving_years=0)
    client.force_login(staff.manager)
    refused = client.post(f"{GRANT}?customer={customer.pk}", grant_form(product, revolving=None))
    assert refused.status_code == 400
    assert "guarantee_contract" in refused.context["form"].errors

    recorded = client.post(f"{GUARANTEE}?customer={customer.pk}", guarantee_form())
    assert recorded.status_code == 302 and recorded["Location"] == f"/customers/{customer.pk}/"
    guarantee = GuaranteeContract.objects.get(customer=customer)
    assert guarantee.max_amount == D("80000.00") and guarantee.guarantor_is_company
    assert AuditEvent.objects.filter(
        action="guarantee_contract.create", object_id=str(guarantee.pk), actor=staff.manager
    ).exists()
    assert guarantee.number in client.get(f"/customers/{customer.pk}/").content.decode()

    granted = client.post(
        f"{GRANT}?customer={customer.pk}",
        grant_form(product, revolving=None, guarantee_contract=guarantee.pk),
    )
    assert granted.status_code == 302
    assert CreditLine.objects.get(customer=customer).guarantee_contract == guarantee


def test_another_borrowers_guarantee_is_not_offered(client, org, staff, customer):
    other = make_customer(org, staff.am, name="另一借款人")
    theirs = guarantee_contract_create(
        actor=staff.manager,
        customer=other,
        guarantor_name="张三",
        max_amount=D("50000.00"),
        valid_from=date(2026, 1, 1),
        valid_to=date(2027, 12, 31),
    )
    product = make_product(security="max_amount_guarantee", revolving=False, revolving_years=0)
    client.force_login(staff.manager)
    response = client.post(
        f"{GRANT}?customer={customer.pk}",
        grant_form(product, revolving=None, guarantee_contract=theirs.pk),
    )
    assert response.status_code == 400
    assert "guarantee_contract" in response.context["form"].errors
    assert not CreditLine.objects.exists()


def test_guarantee_contract_errors_change_nothing(client, staff, customer):
    client.force_login(staff.risk)
    response = client.post(
        f"{GUARANTEE}?customer={customer.pk}",
        guarantee_form(valid_from="2027-01-01", valid_to="2026-12-31"),
    )
    assert response.status_code == 400
    assert "valid_to" in response.context["form"].errors
    blank = client.post(f"{GUARANTEE}?customer={customer.pk}", guarantee_form(guarantor_name=" "))
    assert blank.status_code == 400
    assert not GuaranteeContract.objects.exists()
    assert not AuditEvent.objects.filter(action="guarantee_contract.create").exists()


@pytest.mark.parametrize("who", ["am", "teller"])
def test_other_roles_may_not_grant_or_record(client, staff, customer, make_staff, who):
    from coop.roles import Role

    user = staff.am if who == "am" else make_staff(Role.TELLER, unit="B01")
    client.force_login(user)
    product = make_product()
    assert client.get(GRANT, {"customer": customer.pk}).status_code == 403
    assert client.post(f"{GRANT}?customer={customer.pk}", grant_form(product)).status_code == 403
    assert client.post(f"{GUARANTEE}?customer={customer.pk}", guarantee_form()).status_code == 403
    assert not CreditLine.objects.exists() and not GuaranteeContract.objects.exists()
    if who == "am":
        page = client.get(f"/customers/{customer.pk}/").content.decode()
        assert GRANT not in page and GUARANTEE not in page
    with pytest.raises(PermissionDenied):
        guarantee_contract_create(
            actor=user,
            customer=customer,
            guarantor_name="张三",
            max_amount=D("1000.00"),
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
        )


def test_another_branchs_customer_is_not_found(client, org, staff):
    stranger = make_customer(org, staff.other_am, branch="B02")
    product = make_product()
    client.force_login(staff.manager)
    assert client.get(GRANT, {"customer": stranger.pk}).status_code == 404
    assert client.post(f"{GRANT}?customer={stranger.pk}", grant_form(product)).status_code == 404
    assert client.post(f"{GUARANTEE}?customer={stranger.pk}", guarantee_form()).status_code == 404
    assert client.get(GRANT, {"customer": "not-a-number"}).status_code == 404
    assert not CreditLine.objects.exists() and not GuaranteeContract.objects.exists()


def test_without_a_customer_the_form_sends_the_user_to_the_customer_list(client, staff):
    client.force_login(staff.manager)
    response = client.get(GRANT, follow=True)
    assert response.redirect_chain[-1][0] == "/customers/"
    with translation.override("zh-hans"):
        expected = translation.gettext(
            "Open the customer's file first; the action is in its loans section."
        )
    assert expected != "Open the customer's file first; the action is in its loans section."
    assert [str(message) for message in response.context["messages"]] == [expected]
    assert client.get("/loans/credit-lines/").content.decode().count(GRANT) == 1


def test_grant_page_query_count_is_fixed(client, staff, customer, django_assert_max_num_queries):
    make_product()
    client.force_login(staff.manager)
    with django_assert_max_num_queries(10) as few:
        assert client.get(GRANT, {"customer": customer.pk}).status_code == 200
    for n in range(5):
        make_product(name=f"多{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(GRANT, {"customer": customer.pk}).status_code == 200
