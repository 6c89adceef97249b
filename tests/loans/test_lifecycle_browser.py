"""A teller records a disbursement from a notice in a real browser; a double click and a
resubmission of the same form disburse nothing twice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coop.models import AuditEvent
from loans.models import CreditLine, DisbursementNotice, Installment, Loan
from tests.conftest import login
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import draw, grant, issue, make_customer, make_product

pytestmark = pytest.mark.browser

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff


def test_teller_records_a_disbursement_once(page, org, staff):
    # Given a notice issued for a signed 12-month loan of 6,000
    customer = make_customer(org, staff.am, name="王大山")
    line = grant(
        staff.manager,
        customer,
        make_product(revolving_years=0),
        valid_to=timezone.localdate() + timedelta(days=365),
    )
    loan = draw(staff.risk, line, amount="6000.00", term_months=12)
    notice = issue(staff.risk, loan)

    # When the teller opens the waiting notices, the notice's form, and double-clicks confirm
    login(page, staff.teller.username)
    page.goto(page.base_url + "/loans/notices/")
    page.click(f"[data-testid=notice-row]:has-text('{notice.number}') [data-testid=disburse-link]")
    page.wait_for_selector("[data-testid=disburse-form]")
    form_url = page.url
    form_fields = {
        name: page.locator(f"[data-testid=disburse-form] [name={name}]").input_value()
        for name in ("csrfmiddlewaretoken", "idempotency_key", "disbursed_on")
    }
    page.dblclick("[data-testid=disburse-submit]")
    page.wait_for_selector("[data-testid=loan-state][data-state=active]")

    # Then the loan is active with one schedule and one disbursement audit row
    assert page.locator("[data-testid=installment-row]").count() == 12
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.ACTIVE
    assert Installment.objects.filter(loan=loan).count() == 12
    assert DisbursementNotice.objects.get(pk=notice.pk).status == "disbursed"
    disbursements = AuditEvent.objects.filter(action="loan.disburse", object_id=str(loan.pk))
    assert disbursements.count() == 1

    # When the same form is submitted once more (a retried request carrying the same key)
    resubmitted = page.request.post(form_url, form=form_fields)

    # Then it lands on the loan again and nothing happened twice
    assert resubmitted.ok and resubmitted.url.endswith(f"/loans/loan/{loan.pk}/")
    assert Installment.objects.filter(loan=loan).count() == 12
    assert disbursements.count() == 1
    assert (
        AuditEvent.objects.filter(action="notice.disburse", object_id=str(notice.pk)).count() == 1
    )

    # And the notice no longer waits in the teller's list
    page.goto(page.base_url + "/loans/notices/")
    assert page.locator(f"[data-testid=notice-row]:has-text('{notice.number}')").count() == 0


def test_branch_manager_grants_a_line_from_the_customer_file(page, org, staff):
    # Given a customer of the branch and a revolving product offered to them
    customer = make_customer(org, staff.am, name="李春华")
    product = make_product(name="丰收贷", revolving_years=2)

    # When the branch manager opens the file, follows "grant a credit line" and double-clicks
    login(page, staff.manager.username)
    page.goto(page.base_url + f"/customers/{customer.pk}/")
    page.click("[data-testid=grant-credit-line]")
    page.wait_for_selector("[data-testid=credit-line-form]")
    page.select_option("[name=product]", str(product.pk))
    page.fill("[name=limit]", "30000")
    page.check("[name=revolving]")
    page.dblclick("[data-testid=credit-line-submit]")
    page.wait_for_url("**/loans/credit-lines/*/")

    # Then one line is granted, shown with its limit, and audited once
    line = CreditLine.objects.get(customer=customer)
    assert (line.product_id, line.limit, line.revolving) == (product.pk, Decimal("30000.00"), True)
    assert "¥30,000.00" in page.content()
    assert AuditEvent.objects.filter(action="credit_line.grant").count() == 1

    # And the customer's file lists it
    page.goto(page.base_url + f"/customers/{customer.pk}/")
    assert page.locator(f"[data-testid=credit-line-row]:has-text('{line.number}')").count() == 1
