"""The lifecycle pages: roles, scoping (404 across branches), forms through to the services,
printable documents, and fixed query counts."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coop.models import AuditEvent
from coop.roles import Role
from loans.models import (
    ClassificationOverride,
    Contract,
    DisbursementNotice,
    Installment,
    Loan,
    LoanApplication,
    Repayment,
)
from loans.services.classification import loans_classify_all
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    active_loan,
    draw,
    fresh,
    grant,
    issue,
    make_customer,
    make_product,
)

D = Decimal

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff


@pytest.fixture
def book(org, staff):
    """A B01 loan (active, overdue by the sweep), a B01 notice waiting, and a B02 loan."""
    product = make_product(revolving_years=0)
    # Valid from before the history the tests build until a year from now (pages draw today).
    valid_to = timezone.localdate() + timedelta(days=365)
    mine = make_customer(org, staff.am, name="本行客户")
    line = grant(staff.manager, mine, product, limit="50000.00", valid_to=valid_to)
    loan = active_loan(staff, line, amount="12000.00")
    waiting = draw(staff.risk, line, amount="3000.00")
    notice = issue(staff.risk, waiting)
    stranger = make_customer(org, staff.other_am, branch="B02", name="外行客户")
    other_line = grant(staff.other_manager, stranger, product, limit="50000.00")
    other_loan = draw(staff.other_risk, other_line, amount="4000.00")
    other_notice = issue(staff.other_risk, other_loan)
    loans_classify_all(today=date(2025, 3, 1))
    return {
        "line": line,
        "loan": loan,
        "notice": notice,
        "other_line": other_line,
        "other_loan": other_loan,
        "other_notice": other_notice,
    }


def body(response) -> str:
    return response.content.decode()


# --- workbench pages and roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "unit", "url", "expected"),
    [
        (Role.ACCOUNT_MANAGER, "B01", "/loans/list/", 200),
        (Role.BRANCH_MANAGER, "B01", "/loans/list/", 200),
        (Role.RISK_OFFICER, "HQ", "/loans/list/", 200),
        (Role.MANAGEMENT, "HQ", "/loans/list/", 200),
        (Role.TELLER, "B01-01", "/loans/notices/", 200),
        (Role.RISK_OFFICER, "HQ", "/loans/notices/", 200),
        (Role.ACCOUNT_MANAGER, "B01", "/loans/notices/", 403),
        (Role.ACCOUNT_MANAGER, "B01", "/loans/credit-lines/", 200),
        (Role.TELLER, "B01-01", "/loans/credit-lines/", 403),
        (Role.ACCOUNT_MANAGER, "B01", "/loans/contracts/new/", 403),
        (Role.RISK_OFFICER, "B01", "/loans/contracts/new/", 200),
    ],
)
def test_pages_by_role(client, lifecycle_roles, make_staff, role, unit, url, expected):
    client.force_login(make_staff(role, unit=unit))
    assert client.get(url).status_code == expected


def test_lists_show_only_what_is_in_scope(client, staff, book):
    client.force_login(staff.manager)
    loans_page = body(client.get("/loans/list/"))
    lines_page = body(client.get("/loans/credit-lines/"))
    client.force_login(staff.teller)
    notices_page = body(client.get("/loans/notices/"))

    assert book["loan"].number in loans_page
    assert book["other_loan"].number not in loans_page
    assert book["line"].number in lines_page
    assert book["other_line"].number not in lines_page
    assert book["notice"].number in notices_page
    assert book["other_notice"].number not in notices_page


def test_head_office_sees_every_branch(client, staff, book):
    client.force_login(staff.director)
    page = body(client.get("/loans/list/"))
    assert book["loan"].number in page
    assert book["other_loan"].number in page


def test_account_manager_sees_only_own_customers_loans(client, org, staff, book):
    client.force_login(staff.am2)
    assert book["loan"].number not in body(client.get("/loans/list/"))
    assert client.get(f"/loans/loan/{book['loan'].pk}/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/loans/loan/{loan}/",
        "/loans/contracts/{contract}/",
        "/loans/contracts/{contract}/pdf/",
        "/loans/credit-lines/{line}/",
        "/loans/notices/{notice}/",
        "/loans/notices/{notice}/pdf/",
    ],
)
def test_another_branchs_objects_are_404(client, staff, book, url):
    client.force_login(staff.manager)
    target = url.format(
        loan=book["other_loan"].pk,
        contract=book["other_loan"].contract_id,
        line=book["other_line"].pk,
        notice=book["other_notice"].pk,
    )
    assert client.get(target).status_code == 404


def test_teller_cannot_disburse_another_branchs_notice(client, staff, book):
    client.force_login(staff.teller)
    response = client.post(
        f"/loans/notices/{book['other_notice'].pk}/disburse/",
        {"idempotency_key": str(uuid.uuid4()), "disbursed_on": "2025-01-10"},
    )
    assert response.status_code == 404
    assert fresh(book["other_loan"]).state == Loan.State.CONTRACTED


# --- list contents ------------------------------------------------------------------------------


def test_loan_book_filters_and_totals(client, staff, book):
    client.force_login(staff.manager)

    overdue = body(client.get("/loans/list/?state=overdue"))
    contracted = body(client.get("/loans/list/?state=contracted"))

    assert book["loan"].number in overdue
    assert fresh(book["notice"].contract.loan).number not in overdue
    assert fresh(book["notice"].contract.loan).number in contracted
    totals = re.search(r'data-testid="loan-totals">(.*?)</tfoot>', overdue, re.S).group(1)
    assert "¥12,000.00" in totals
    assert "0.00%" in totals  # 19 days past due: special mention, not NPL


def test_loan_detail_shows_schedule_totals_and_day_count(client, staff, book):
    client.force_login(staff.manager)

    page = body(client.get(f"/loans/loan/{book['loan'].pk}/"))

    assert page.count('data-testid="installment-row"') == 12
    totals = re.search(r'data-testid="schedule-totals">(.*?)</tfoot>', page, re.S).group(1)
    assert "¥12,000.00" in totals  # principal column
    assert "¥390.00" in totals  # interest column: 60 + 55 + … + 5
    assert 'data-testid="day-count"' in page
    assert "30/360" in page


def test_credit_line_detail_shows_availability(client, staff, book):
    client.force_login(staff.manager)

    page = body(client.get(f"/loans/credit-lines/{book['line'].pk}/"))

    available = re.search(r'data-testid="available">([^<]*)<', page).group(1)
    assert available == "¥35,000.00"  # 50,000 − 12,000 outstanding − 3,000 contracted


# --- forms --------------------------------------------------------------------------------------


def test_drawdown_page_creates_the_contract(client, staff, book):
    client.force_login(staff.risk)
    url = f"/loans/credit-lines/{book['line'].pk}/drawdown/"
    assert client.get(url).status_code == 200

    form = {
        "idempotency_key": str(uuid.uuid4()),
        "amount": "5000.00",
        "term_months": "6",
        "repayment_method": "equal_installment",
        "annual_rate_percent": "5.5",
        "purpose": "购买种子",
    }
    before = Loan.objects.filter(credit_line=book["line"]).count()
    response = client.post(url, form)

    loan = Loan.objects.filter(credit_line=book["line"]).order_by("-id").first()
    assert response.status_code == 302
    assert response["Location"] == f"/loans/contracts/{loan.contract_id}/"
    assert (loan.principal, loan.annual_rate) == (D("5000.00"), D("0.055000"))

    # The same form submitted again (a double click) lands on the same contract, drawing once.
    again = client.post(url, form)
    assert again["Location"] == response["Location"]
    assert Loan.objects.filter(credit_line=book["line"]).count() == before + 1
    assert (
        AuditEvent.objects.filter(
            action="credit_line.drawdown", object_id=str(book["line"].pk)
        ).count()
        == before + 1
    )


def test_drawdown_page_shows_the_refusal_and_changes_nothing(client, staff, book):
    client.force_login(staff.risk)
    before = Loan.objects.count()

    response = client.post(
        f"/loans/credit-lines/{book['line'].pk}/drawdown/",
        {
            "idempotency_key": str(uuid.uuid4()),
            "amount": "40000.00",
            "term_months": "6",
            "repayment_method": "equal_installment",
            "annual_rate_percent": "5.5",
            "purpose": "建大棚",
        },
    )

    assert response.status_code == 409
    assert "¥35,000.00" in body(response)
    assert Loan.objects.count() == before


def test_contract_from_an_approved_application_page(client, org, staff):
    customer = make_customer(org, staff.am)
    application = LoanApplication.objects.create(
        number="SQ-PAGE-1",
        customer=customer,
        branch=org["B01"],
        product=make_product(revolving=False),
        amount=D("6000.00"),
        approved_amount=D("5000.00"),
        term_months=12,
        annual_rate=D("0.06"),
        repayment_method="equal_principal",
        purpose="养殖",
        state="approved",
        prepared_by=staff.am,
    )
    client.force_login(staff.risk)
    assert "SQ-PAGE-1" in body(client.get("/loans/contracts/new/"))

    response = client.post(
        f"/loans/contracts/new/?application={application.pk}", {"signed_on": "2025-01-10"}
    )

    contract = Contract.objects.get(application=application)
    assert response.status_code == 302
    assert (contract.amount, contract.signed_on) == (D("5000.00"), date(2025, 1, 10))
    assert LoanApplication.objects.get(pk=application.pk).state == "contracted"


def test_sign_issue_disburse_through_the_pages(client, staff, book):
    # Given a fresh drawdown
    loan = draw(staff.risk, book["line"], amount="2000.00")
    client.force_login(staff.risk)
    client.post(f"/loans/contracts/{loan.contract_id}/sign/", {"signed_on": "2025-01-10"})
    response = client.post(
        f"/loans/contracts/{loan.contract_id}/notice/", {"account_number": "6228480012345678"}
    )
    notice = DisbursementNotice.objects.get(contract_id=loan.contract_id)
    assert response["Location"] == f"/loans/notices/{notice.pk}/"

    # When the teller opens the form and submits it twice
    client.force_login(staff.teller)
    form = body(client.get(f"/loans/notices/{notice.pk}/disburse/"))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    first = client.post(
        f"/loans/notices/{notice.pk}/disburse/",
        {"idempotency_key": key, "disbursed_on": "2025-01-12"},
    )
    second = client.post(
        f"/loans/notices/{notice.pk}/disburse/",
        {"idempotency_key": key, "disbursed_on": "2025-01-12"},
    )

    # Then one disbursement, and both answers lead to the loan
    assert first["Location"] == second["Location"] == f"/loans/loan/{loan.pk}/"
    assert fresh(loan).state == Loan.State.ACTIVE
    assert Installment.objects.filter(loan=loan).count() == 12
    other_key = client.post(
        f"/loans/notices/{notice.pk}/disburse/",
        {"idempotency_key": str(uuid.uuid4()), "disbursed_on": "2025-01-12"},
    )
    assert other_key.status_code == 409


def test_repayment_page_records_and_allocates(client, staff, book):
    client.force_login(staff.teller)
    url = f"/loans/loan/{book['loan'].pk}/repay/"
    form = body(client.get(url))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)

    response = client.post(
        url, {"idempotency_key": key, "amount": "1060.00", "paid_on": "2025-02-10"}
    )
    again = client.post(url, {"idempotency_key": key, "amount": "1060.00", "paid_on": "2025-02-10"})

    assert response.status_code == again.status_code == 302
    repayment = Repayment.objects.get(loan=book["loan"])
    assert (repayment.to_interest, repayment.to_principal) == (D("60.00"), D("1000.00"))


def test_repayment_page_refuses_an_overpayment(client, staff, book):
    client.force_login(staff.teller)

    response = client.post(
        f"/loans/loan/{book['loan'].pk}/repay/",
        {"idempotency_key": "x-1", "amount": "999999.00", "paid_on": "2025-02-10"},
    )

    assert response.status_code == 400
    assert Repayment.objects.count() == 0


def test_override_proposed_and_approved_through_the_pages(client, staff, book):
    loan = book["loan"]
    client.force_login(staff.risk)
    client.post(f"/loans/loan/{loan.pk}/override/", {"to_class": "doubtful", "reason": "外出失联"})
    proposal = ClassificationOverride.objects.get(loan=loan)

    client.force_login(staff.manager)
    response = client.post(f"/loans/overrides/{proposal.pk}/decide/", {"decision": "approve"})

    assert response.status_code == 302
    assert (fresh(loan).classification, fresh(loan).classification_locked) == ("doubtful", True)


def test_override_without_reason_is_refused(client, staff, book):
    client.force_login(staff.risk)
    response = client.post(
        f"/loans/loan/{book['loan'].pk}/override/", {"to_class": "doubtful", "reason": ""}
    )
    assert response.status_code == 400
    assert ClassificationOverride.objects.count() == 0


# --- documents ----------------------------------------------------------------------------------


def test_contract_print_view_and_pdf(client, staff, book):
    client.force_login(staff.manager)
    contract = book["loan"].contract

    page = body(client.get(f"/loans/contracts/{contract.pk}/"))
    pdf = client.get(f"/loans/contracts/{contract.pk}/pdf/")

    assert contract.number in page
    assert "壹万贰仟元整" in page  # 12,000.00 in words
    assert "@media print" in page
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_contract_shows_the_guarantee_usage(client, org, staff):
    from loans.services.credit import credit_line_grant, guarantee_contract_create

    customer = make_customer(org, staff.am)
    guarantee = guarantee_contract_create(
        actor=staff.manager,
        customer=customer,
        guarantor_name="李四",
        max_amount=D("30000.00"),
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 12, 31),
    )
    line = credit_line_grant(
        actor=staff.manager,
        customer=customer,
        product=make_product(security="max_amount_guarantee"),
        limit=D("30000.00"),
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 12, 31),
        revolving=True,
        guarantee_contract=guarantee,
    )
    loan = draw(staff.risk, line, amount="10000.00")
    client.force_login(staff.manager)

    page = body(client.get(f"/loans/contracts/{loan.contract_id}/"))

    assert guarantee.number in page
    assert "¥30,000.00 / ¥10,000.00 / ¥20,000.00" in page


def test_notice_print_view_has_three_copies_and_a_pdf(client, staff, book):
    client.force_login(staff.teller)
    notice = book["notice"]

    page = body(client.get(f"/loans/notices/{notice.pk}/"))
    pdf = client.get(f"/loans/notices/{notice.pk}/pdf/")

    assert page.count('data-testid="notice-copy"') == 3
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


# --- query budgets ------------------------------------------------------------------------------


def _many_loans(org, staff, n: int):
    product = make_product()
    for i in range(n):
        customer = make_customer(org, staff.am, name=f"批量客户{i}")
        line = grant(staff.manager, customer, product, limit="20000.00")
        active_loan(staff, line, amount="3000.00", term_months=3)


@pytest.mark.parametrize("count", [1, 6])
def test_loan_book_query_count_is_fixed(client, org, staff, count, django_assert_max_num_queries):
    _many_loans(org, staff, count)
    client.force_login(staff.manager)
    with django_assert_max_num_queries(14):
        assert client.get("/loans/list/").status_code == 200


@pytest.mark.parametrize("count", [1, 6])
def test_credit_line_and_notice_lists_query_count_is_fixed(
    client, org, staff, count, django_assert_max_num_queries
):
    _many_loans(org, staff, count)
    client.force_login(staff.manager)
    with django_assert_max_num_queries(10):
        assert client.get("/loans/credit-lines/").status_code == 200
    client.force_login(staff.teller)
    with django_assert_max_num_queries(10):
        assert client.get("/loans/notices/?status=all").status_code == 200


def test_loan_detail_query_count_does_not_grow_with_the_schedule(
    client, org, staff, django_assert_max_num_queries
):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="50000.00")
    loan = active_loan(staff, line, amount="36000.00", term_months=36)
    for number in range(1, 4):
        row = Installment.objects.get(loan=loan, number=number)
        from loans.services.repayment import repayment_record

        repayment_record(
            actor=staff.teller,
            loan=loan,
            amount=row.principal + row.interest,
            paid_on=row.due_date,
            idempotency_key=f"budget-{number}",
        )
    client.force_login(staff.manager)
    with django_assert_max_num_queries(16):
        assert client.get(f"/loans/loan/{loan.pk}/").status_code == 200


def test_today_is_the_default_date_on_the_teller_forms(client, staff, book):
    client.force_login(staff.teller)
    page = body(client.get(f"/loans/notices/{book['notice'].pk}/disburse/"))
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in page
