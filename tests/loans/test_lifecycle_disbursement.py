"""Contracts from approved applications, notices, and the once-only disbursement."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import (
    CreditLine,
    DisbursementNotice,
    Installment,
    Loan,
    LoanApplication,
    LoanPolicy,
)
from loans.services.disbursement import (
    contract_create,
    contract_sign,
    loan_disburse,
    notice_issue,
)
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    draw,
    fresh,
    grant,
    issue,
    make_customer,
    make_product,
)

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

D = Decimal


def _approved_application(org, staff, customer, product, **overrides) -> LoanApplication:
    values = {
        "number": f"SQ-TEST-{uuid.uuid4().hex[:8]}",
        "customer": customer,
        "branch": org["B01"],
        "product": product,
        "amount": D("10000.00"),
        "approved_amount": D("8000.00"),
        "term_months": 6,
        "annual_rate": D("0.0600"),
        "repayment_method": "equal_installment",
        "purpose": "购买农机",
        "state": "approved",
        "prepared_by": staff.am,
    }
    values.update(overrides)
    return LoanApplication.objects.create(**values)


def _events(action: str, obj) -> int:
    return AuditEvent.objects.filter(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).count()


# --- contracts ----------------------------------------------------------------------------------


def test_contract_from_an_approved_application(org, staff):
    # Given an approved application (10,000 asked, 8,000 approved)
    customer = make_customer(org, staff.am)
    application = _approved_application(org, staff, customer, make_product(revolving=False))

    # When the risk officer generates the contract
    contract = contract_create(actor=staff.risk, application=application)

    # Then it carries the approved terms and a contracted loan exists for the customer's manager
    assert (contract.amount, contract.term_months, contract.annual_rate) == (
        D("8000.00"),
        6,
        D("0.0600"),
    )
    assert (contract.application, contract.credit_line, contract.signed_on) == (
        application,
        None,
        None,
    )
    loan = Loan.objects.get(contract=contract)
    assert (loan.state, loan.principal, loan.account_manager, loan.branch) == (
        Loan.State.CONTRACTED,
        D("8000.00"),
        staff.am,
        org["B01"],
    )
    assert LoanApplication.objects.get(pk=application.pk).state == "contracted"
    assert _events("application.contract", application) == 1
    assert _events("contract.create", contract) == 1


@pytest.mark.parametrize("state", ["draft", "submitted", "rejected", "contracted"])
def test_contract_needs_an_approved_application(org, staff, state):
    customer = make_customer(org, staff.am)
    application = _approved_application(
        org, staff, customer, make_product(revolving=False), state=state
    )

    with pytest.raises(ConflictError):
        contract_create(actor=staff.risk, application=application)

    assert LoanApplication.objects.get(pk=application.pk).state == state
    assert Loan.objects.count() == 0


def test_notice_needs_a_signed_contract_and_the_issuing_role(org, staff):
    customer = make_customer(org, staff.am)
    loan = draw(staff.risk, grant(staff.manager, customer, make_product()), amount="5000.00")

    with pytest.raises(ConflictError):
        notice_issue(actor=staff.risk, contract=loan.contract, account_number="6228480012345678")
    contract_sign(actor=staff.risk, contract=loan.contract, signed_on=date(2025, 1, 10))
    with pytest.raises(PermissionDenied):
        notice_issue(actor=staff.teller, contract=loan.contract, account_number="6228480012345678")
    with pytest.raises(DomainError):
        notice_issue(actor=staff.risk, contract=loan.contract, account_number="12ab")
    assert DisbursementNotice.objects.count() == 0

    notice = notice_issue(
        actor=staff.risk, contract=loan.contract, account_number="6228 4800 1234 5678"
    )

    assert (notice.amount, notice.account_number, notice.status) == (
        D("5000.00"),
        "6228480012345678",
        "issued",
    )
    with pytest.raises(ConflictError):
        notice_issue(actor=staff.risk, contract=loan.contract, account_number="6228480012345678")


# --- disbursement -------------------------------------------------------------------------------


def test_same_key_twice_disburses_once(org, staff):
    # Given an issued notice
    customer = make_customer(org, staff.am)
    loan = draw(staff.risk, grant(staff.manager, customer, make_product()), amount="12000.00")
    notice = issue(staff.risk, loan)
    key = str(uuid.uuid4())

    # When the teller's form is submitted twice with the same key
    first = loan_disburse(
        actor=staff.teller, notice=notice, idempotency_key=key, disbursed_on=date(2025, 1, 10)
    )
    second = loan_disburse(
        actor=staff.teller, notice=notice, idempotency_key=key, disbursed_on=date(2025, 1, 10)
    )

    # Then one loan, one schedule and one audit row
    assert first.pk == second.pk == loan.pk
    assert Installment.objects.filter(loan=loan).count() == 12
    assert _events("loan.disburse", loan) == 1
    assert _events("notice.disburse", notice) == 1
    stored = fresh(loan)
    assert (stored.state, stored.disbursement_key, stored.outstanding_principal) == (
        Loan.State.ACTIVE,
        key,
        D("12000.00"),
    )
    assert DisbursementNotice.objects.get(pk=notice.pk).status == "disbursed"


def test_another_key_on_a_disbursed_notice_is_a_conflict(org, staff):
    customer = make_customer(org, staff.am)
    loan = draw(staff.risk, grant(staff.manager, customer, make_product()), amount="12000.00")
    notice = issue(staff.risk, loan)
    loan_disburse(
        actor=staff.teller,
        notice=notice,
        idempotency_key=str(uuid.uuid4()),
        disbursed_on=date(2025, 1, 10),
    )
    audit_before = AuditEvent.objects.count()

    with pytest.raises(ConflictError) as error:
        loan_disburse(
            actor=staff.teller,
            notice=notice,
            idempotency_key=str(uuid.uuid4()),
            disbursed_on=date(2025, 1, 11),
        )

    assert error.value.status_code == 409
    assert Installment.objects.filter(loan=loan).count() == 12
    assert fresh(loan).disbursed_on == date(2025, 1, 10)
    assert AuditEvent.objects.count() == audit_before


def test_a_key_from_another_notice_is_a_conflict(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="50000.00")
    first_notice = issue(staff.risk, draw(staff.risk, line, amount="1000.00"))
    second_loan = draw(staff.risk, line, amount="2000.00")
    second_notice = issue(staff.risk, second_loan)
    key = str(uuid.uuid4())
    loan_disburse(
        actor=staff.teller, notice=first_notice, idempotency_key=key, disbursed_on=date(2025, 1, 10)
    )

    with pytest.raises(ConflictError):
        loan_disburse(
            actor=staff.teller,
            notice=second_notice,
            idempotency_key=key,
            disbursed_on=date(2025, 1, 10),
        )

    assert fresh(second_loan).state == Loan.State.CONTRACTED


def test_disbursement_checks_role_and_dates(org, staff):
    customer = make_customer(org, staff.am)
    loan = draw(staff.risk, grant(staff.manager, customer, make_product()), amount="1000.00")
    notice = issue(staff.risk, loan, signed_on=date(2025, 1, 10))

    with pytest.raises(PermissionDenied):
        loan_disburse(
            actor=staff.risk, notice=notice, idempotency_key="k1", disbursed_on=date(2025, 1, 10)
        )
    with pytest.raises(DomainError) as before_signing:
        loan_disburse(
            actor=staff.teller, notice=notice, idempotency_key="k2", disbursed_on=date(2025, 1, 9)
        )
    with pytest.raises(DomainError) as future:
        loan_disburse(
            actor=staff.teller, notice=notice, idempotency_key="k3", disbursed_on=date(2999, 1, 1)
        )

    assert (before_signing.value.field, future.value.field) == ("disbursed_on", "disbursed_on")
    assert fresh(loan).state == Loan.State.CONTRACTED
    assert Installment.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "amount", "term", "rate"),
    [
        ("equal_installment", "10000.00", 12, "0.0435"),
        ("equal_installment", "33333.33", 7, "0.0712"),
        ("equal_principal", "10000.00", 7, "0.0600"),
        ("interest_only", "25000.00", 12, "0.0550"),
        ("bullet", "8000.00", 9, "0.0500"),
    ],
)
def test_schedule_is_persisted_exactly(org, staff, method, amount, term, rate):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="50000.00")
    loan = draw(staff.risk, line, amount=amount, term_months=term, method=method, rate=rate)
    notice = issue(staff.risk, loan)

    loan = loan_disburse(
        actor=staff.teller,
        notice=notice,
        idempotency_key=str(uuid.uuid4()),
        disbursed_on=date(2025, 1, 31),
    )

    rows = list(Installment.objects.filter(loan=loan).order_by("number"))
    assert sum(row.principal for row in rows) == D(amount)
    assert len(rows) == (1 if method == "bullet" else term)
    assert all(row.principal >= 0 and row.interest >= 0 for row in rows)
    assert all(row.principal == row.principal.quantize(D("0.01")) for row in rows)
    assert fresh(loan).maturity_date == rows[-1].due_date
    # A month-end start stays at month end: Feb 28 for the first monthly installment
    first_due = date(2025, 10, 31) if method == "bullet" else date(2025, 2, 28)
    assert rows[0].due_date == first_due


def test_day_count_comes_from_the_policy(org, staff):
    LoanPolicy.objects.create(day_count="actual/360")
    customer = make_customer(org, staff.am)
    loan = draw(
        staff.risk,
        grant(staff.manager, customer, make_product(), limit="50000.00"),
        amount="36000.00",
        term_months=2,
        method="interest_only",
        rate="0.0600",
    )
    notice = issue(staff.risk, loan)

    loan = loan_disburse(
        actor=staff.teller,
        notice=notice,
        idempotency_key=str(uuid.uuid4()),
        disbursed_on=date(2025, 1, 10),
    )

    # 31 days (Jan 10 → Feb 10) then 28 days (→ Mar 10) at 6% actual/360 on 36,000
    interest = list(
        Installment.objects.filter(loan=loan).order_by("number").values_list("interest", flat=True)
    )
    assert interest == [D("186.00"), D("168.00")]
    assert fresh(loan).day_count == "actual/360"


def test_non_revolving_line_counts_the_disbursement(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), revolving=False)
    notice = issue(staff.risk, draw(staff.risk, line, amount="7000.00"))
    assert CreditLine.objects.get(pk=line.pk).drawn_total == D("0.00")

    loan_disburse(
        actor=staff.teller,
        notice=notice,
        idempotency_key=str(uuid.uuid4()),
        disbursed_on=date(2025, 1, 10),
    )

    assert CreditLine.objects.get(pk=line.pk).drawn_total == D("7000.00")
