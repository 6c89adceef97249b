"""Credit lines and drawdowns: availability (revolving and not), validity, concurrency."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import Contract, CreditLine, Loan
from loans.selectors_lifecycle import credit_line_usage, guarantee_usage
from loans.services.credit import (
    credit_line_change_status,
    credit_line_drawdown,
    guarantee_contract_create,
)
from loans.services.repayment import repayment_record
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    active_loan,
    draw,
    grant,
    make_customer,
    make_product,
)

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

D = Decimal


def test_concurrent_drawdowns_never_exceed_the_limit(transactional_db, org, staff):
    # Given a revolving line of 20,000
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    results: list[str] = []
    barrier = threading.Barrier(10)

    def drawdown() -> None:
        try:
            barrier.wait()
            draw(staff.risk, CreditLine.objects.get(pk=line.pk), amount="3000.00")
            results.append("ok")
        except ConflictError:
            results.append("refused")
        finally:
            connection.close()

    # When ten tellers draw 3,000 each at the same moment
    threads = [threading.Thread(target=drawdown) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly six succeed and the line is not overdrawn
    assert sorted(results) == ["ok"] * 6 + ["refused"] * 4
    loans = Loan.objects.filter(credit_line=line)
    assert loans.count() == 6
    assert sum(loan.principal for loan in loans) == D("18000.00")
    assert credit_line_usage(CreditLine.objects.get(pk=line.pk)).available == D("2000.00")
    assert len({loan.number for loan in loans}) == 6


def test_concurrent_submissions_of_one_form_draw_once(transactional_db, org, staff):
    # Given a line of 20,000 and one drawdown form (its one-time key)
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    key = str(uuid.uuid4())
    loans: list[int] = []
    barrier = threading.Barrier(6)

    def submit() -> None:
        try:
            barrier.wait()
            loan = credit_line_drawdown(
                actor=staff.risk,
                credit_line=CreditLine.objects.get(pk=line.pk),
                amount=D("3000.00"),
                term_months=12,
                repayment_method="equal_principal",
                annual_rate=D("0.0600"),
                purpose="购买化肥",
                drawn_on=date(2025, 1, 10),
                request_key=key,
            )
            loans.append(loan.pk)
        finally:
            connection.close()

    # When the same form arrives six times at the same moment
    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every submission answers with the one loan drawn, and the line carries it once
    assert len(loans) == 6 and len(set(loans)) == 1
    assert Loan.objects.filter(credit_line=line).count() == 1
    assert credit_line_usage(CreditLine.objects.get(pk=line.pk)).available == D("17000.00")
    assert AuditEvent.objects.filter(action="credit_line.drawdown").count() == 1


def test_revolving_line_availability_follows_outstanding_principal(org, staff):
    # Given a revolving line of 20,000 with a disbursed 12,000 loan
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    loan = active_loan(staff, line, amount="12000.00", term_months=12)
    assert credit_line_usage(line).available == D("8000.00")

    # When the borrower repays the first installment (1,000 principal + 60 interest)
    repayment_record(
        actor=staff.teller,
        loan=loan,
        amount=D("1060.00"),
        paid_on=date(2025, 2, 10),
        idempotency_key=str(uuid.uuid4()),
    )

    # Then 1,000 of the limit is available again
    assert credit_line_usage(CreditLine.objects.get(pk=line.pk)).available == D("9000.00")


def test_contracted_drawdowns_count_before_disbursement(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")

    draw(staff.risk, line, amount="15000.00")

    usage = credit_line_usage(line)
    assert (usage.used, usage.available) == (D("15000.00"), D("5000.00"))
    with pytest.raises(ConflictError) as error:
        draw(staff.risk, line, amount="5000.01")
    assert error.value.code == "limit_exceeded"
    assert Loan.objects.filter(credit_line=line).count() == 1


def test_non_revolving_line_counts_everything_ever_drawn(org, staff):
    # Given a non-revolving line of 20,000 and a 12,000 loan repaid in full
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00", revolving=False)
    loan = active_loan(staff, line, amount="12000.00", term_months=1, method="bullet")
    assert CreditLine.objects.get(pk=line.pk).drawn_total == D("12000.00")
    repayment_record(
        actor=staff.teller,
        loan=loan,
        amount=D("12060.00"),
        paid_on=date(2025, 2, 10),
        idempotency_key=str(uuid.uuid4()),
    )
    assert Loan.objects.get(pk=loan.pk).state == Loan.State.SETTLED

    # Then repaying does not restore the limit: 8,000 is left, not 20,000
    line = CreditLine.objects.get(pk=line.pk)
    assert credit_line_usage(line).available == D("8000.00")
    with pytest.raises(ConflictError):
        draw(staff.risk, line, amount="8000.01")
    assert draw(staff.risk, line, amount="8000.00").principal == D("8000.00")


@pytest.mark.parametrize("on", [date(2023, 12, 31), date(2026, 1, 1)])
def test_drawdown_outside_the_validity_is_refused(org, staff, on):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    audit_before = AuditEvent.objects.count()

    with pytest.raises(ConflictError) as error:
        draw(staff.risk, line, amount="1000.00", on=on)

    assert error.value.code == "line_not_valid"
    assert Contract.objects.count() == 0
    assert Loan.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


def test_drawdown_on_a_frozen_line_is_refused(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    credit_line_change_status(actor=staff.manager, credit_line=line, status="frozen")

    with pytest.raises(ConflictError) as error:
        draw(staff.risk, line, amount="1000.00")

    assert error.value.code == "line_not_active"
    assert Loan.objects.count() == 0


def test_drawdown_terms_must_fit_the_product(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(max_term_months=12), limit="20000.00")

    with pytest.raises(DomainError) as term_error:
        draw(staff.risk, line, amount="1000.00", term_months=13)
    with pytest.raises(DomainError) as rate_error:
        draw(staff.risk, line, amount="1000.00", rate="0.2000")
    with pytest.raises(DomainError) as amount_error:
        draw(staff.risk, line, amount="10.005")

    assert term_error.value.field == "term_months"
    assert rate_error.value.field == "annual_rate"
    assert amount_error.value.field == "amount"
    assert Loan.objects.count() == 0


def test_drawdown_creates_contract_and_contracted_loan(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")

    loan = draw(staff.risk, line, amount="5000.00", term_months=6, rate="0.0550")

    contract = loan.contract
    assert (contract.application_id, contract.credit_line_id) == (None, line.pk)
    assert (contract.amount, contract.term_months, contract.annual_rate) == (
        D("5000.00"),
        6,
        D("0.0550"),
    )
    assert loan.state == Loan.State.CONTRACTED
    assert (loan.account_manager, loan.branch, loan.customer) == (
        staff.am,
        org["B01"],
        customer,
    )
    assert loan.outstanding_principal == D("0.00")
    assert loan.number.startswith("LN") and contract.number.startswith("CT")


def test_only_contract_makers_may_draw(org, staff):
    from django.core.exceptions import PermissionDenied

    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")

    with pytest.raises(PermissionDenied):
        credit_line_drawdown(
            actor=staff.teller,
            credit_line=line,
            amount=D("1000.00"),
            term_months=6,
            repayment_method="bullet",
            annual_rate=D("0.05"),
            purpose="x",
        )
    assert Loan.objects.count() == 0


def test_grant_checks_the_product_range_and_rating_tier(org, staff):
    customer = make_customer(org, staff.am)
    product = make_product(min_amount=D("10000.00"), max_amount=D("100000.00"))

    with pytest.raises(DomainError) as error:
        grant(staff.manager, customer, product, limit="9999.99")

    assert error.value.field == "limit"
    assert CreditLine.objects.count() == 0


def test_grant_refuses_a_revolving_period_beyond_the_product(org, staff):
    customer = make_customer(org, staff.am)
    product = make_product(revolving_years=1)

    with pytest.raises(DomainError) as error:
        grant(staff.manager, customer, product, valid_to=date(2025, 1, 2))

    assert error.value.field == "valid_to"
    assert CreditLine.objects.count() == 0


def test_maximum_amount_guarantee_covers_several_drawdowns(org, staff):
    # Given a guarantee of 15,000 behind a line of 20,000
    customer = make_customer(org, staff.am)
    product = make_product(security="max_amount_guarantee")
    guarantee = guarantee_contract_create(
        actor=staff.manager,
        customer=customer,
        guarantor_name="颍上县融资担保公司",
        guarantor_is_company=True,
        max_amount=D("15000.00"),
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 12, 31),
    )
    from loans.services.credit import credit_line_grant

    line = credit_line_grant(
        actor=staff.manager,
        customer=customer,
        product=product,
        limit=D("20000.00"),
        valid_from=date(2024, 1, 1),
        valid_to=date(2025, 12, 31),
        revolving=True,
        guarantee_contract=guarantee,
    )

    # When two drawdowns use 14,000 of it
    first = draw(staff.risk, line, amount="9000.00")
    draw(staff.risk, line, amount="5000.00")

    # Then 1,000 of the guarantee is left and a third drawdown beyond it is refused
    usage = guarantee_usage(guarantee)
    assert (usage.used, usage.available) == (D("14000.00"), D("1000.00"))
    assert first.contract.guarantee_contract == guarantee
    with pytest.raises(ConflictError) as error:
        draw(staff.risk, line, amount="1000.01")
    assert error.value.code == "guarantee_exhausted"


def test_guaranteed_product_needs_its_guarantee(org, staff):
    customer = make_customer(org, staff.am)

    with pytest.raises(DomainError) as error:
        grant(staff.manager, customer, make_product(security="max_amount_guarantee"))

    assert error.value.field == "guarantee_contract"
    assert CreditLine.objects.count() == 0
