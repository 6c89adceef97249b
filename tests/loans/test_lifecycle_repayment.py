"""Repayment allocation, with every figure worked out by hand.

The loan in most tests: 12,000 at 6% a year, equal principal over 12 months, 30/360, disbursed
2025-01-10. Each installment repays 1,000 principal; interest is 0.5% a month of the balance:
60.00, 55.00, 50.00, … 5.00. Penalty interest: 6% × 1.5 = 9% a year, actual/360, on overdue
principal — 1,000 overdue for 20 days costs 1,000 × 0.09 × 20 / 360 = 5.00.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import Installment, Loan, LoanPolicy, Repayment
from loans.services.classification import loans_classify_all
from loans.services.repayment import repayment_quote, repayment_record
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    active_loan,
    fresh,
    grant,
    make_customer,
    make_product,
)

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

D = Decimal


@pytest.fixture
def loan(org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    return active_loan(staff, line, amount="12000.00", term_months=12, method="equal_principal")


def pay(staff, loan, amount: str, paid_on: date, key: str | None = None) -> Repayment:
    return repayment_record(
        actor=staff.teller,
        loan=loan,
        amount=D(amount),
        paid_on=paid_on,
        idempotency_key=key or str(uuid.uuid4()),
    )


def rows(loan) -> list[Installment]:
    return list(Installment.objects.filter(loan=loan).order_by("number"))


def snapshot(loan) -> list[tuple]:
    return [
        (r.interest, r.paid_principal, r.paid_interest, r.paid_penalty, r.settled_on)
        for r in rows(loan)
    ]


def test_schedule_of_the_example_loan(loan):
    schedule = rows(loan)
    assert [r.principal for r in schedule] == [D("1000.00")] * 12
    assert [r.interest for r in schedule][:3] == [D("60.00"), D("55.00"), D("50.00")]
    assert schedule[-1].interest == D("5.00")


def test_partial_late_payment_goes_penalty_then_interest_then_principal(staff, loan):
    # When 500 is paid 20 days after the first due date (Feb 10 → Mar 2)
    repayment = pay(staff, loan, "500.00", date(2025, 3, 2))

    # Then 5.00 penalty, 60.00 interest, 435.00 principal
    assert (repayment.to_penalty, repayment.to_interest, repayment.to_principal) == (
        D("5.00"),
        D("60.00"),
        D("435.00"),
    )
    first = rows(loan)[0]
    assert (first.paid_penalty, first.paid_interest, first.paid_principal) == (
        D("5.00"),
        D("60.00"),
        D("435.00"),
    )
    assert first.settled_on is None
    assert fresh(loan).outstanding_principal == D("11565.00")


def test_penalty_follows_the_overdue_principal_over_time(staff, loan):
    # Given 565.00 of installment 1 still overdue after a payment on Mar 2
    pay(staff, loan, "500.00", date(2025, 3, 2))

    # When on Mar 12 the borrower pays installments 1 and 2 in full
    quote = repayment_quote(loan=fresh(loan), as_of=date(2025, 3, 12))
    # installment 1: 5.00 (20 days on 1,000) + 565 × 0.09 × 10 / 360 = 1.4125 → 6.41 - 5.00 paid
    # installment 2: 1,000 × 0.09 × 2 / 360 = 0.50
    assert [row.penalty_owed for row in quote.due] == [D("1.41"), D("0.50")]
    assert quote.due_total == D("1621.91")  # 1.41 + 565 + 0.50 + 55 + 1,000
    repayment = pay(staff, loan, "1621.91", date(2025, 3, 12))

    # Then both installments are settled
    assert (repayment.to_penalty, repayment.to_interest, repayment.to_principal) == (
        D("1.91"),
        D("55.00"),
        D("1565.00"),
    )
    first, second = rows(loan)[:2]
    assert (first.paid_penalty, first.settled_on) == (D("6.41"), date(2025, 3, 12))
    assert (second.paid_penalty, second.settled_on) == (D("0.50"), date(2025, 3, 12))
    assert fresh(loan).outstanding_principal == D("10000.00")


def test_allocation_order_is_configurable(staff, loan):
    LoanPolicy.objects.update_or_create(
        pk=LoanPolicy.objects.order_by("pk").first().pk,
        defaults={"allocation_order": ["principal", "interest", "penalty"]},
    )

    repayment = pay(staff, loan, "1030.00", date(2025, 3, 2))

    # principal 1,000 first, then 30 of the 60 interest, no penalty
    assert (repayment.to_penalty, repayment.to_interest, repayment.to_principal) == (
        D("0.00"),
        D("30.00"),
        D("1000.00"),
    )
    # the principal was repaid on Mar 2, so the 5.00 penalty accrued until then stays owed
    quote = repayment_quote(loan=fresh(loan), as_of=date(2025, 3, 20))
    assert quote.due[0].penalty_owed == D("5.00")
    assert quote.due[0].unpaid_interest == D("30.00")


def test_early_repayment_shortens_the_term_from_the_last_installment(staff, loan):
    # When on the first due date the borrower pays installment 1 (1,060) and 3,000 more
    repayment = pay(staff, loan, "4060.00", date(2025, 2, 10))

    # Then installments 12, 11 and 10 are repaid, and interest of the periods ahead falls
    assert (repayment.to_penalty, repayment.to_interest, repayment.to_principal) == (
        D("0.00"),
        D("60.00"),
        D("4000.00"),
    )
    schedule = rows(loan)
    assert [r.paid_principal for r in schedule] == [D("1000.00")] + [D("0.00")] * 8 + [
        D("1000.00")
    ] * 3
    # balance over period 2 is 8,000 (installments 2–9): 40.00, then 35.00, … 5.00, then 0
    assert [r.interest for r in schedule] == [D("60.00")] + [
        D(x) for x in ("40.00", "35.00", "30.00", "25.00", "20.00", "15.00", "10.00", "5.00")
    ] + [D("0.00")] * 3
    assert [r.settled_on for r in schedule][9:] == [date(2025, 2, 10)] * 3
    assert sum(r.principal for r in schedule) == D("12000.00")  # the schedule still reconciles
    assert fresh(loan).outstanding_principal == D("8000.00")


def test_early_repayment_mid_period_charges_that_period_in_full(staff, loan):
    # Installment 1 is 10 days late on Feb 20 (penalty 2.50); period 2 has started
    quote = repayment_quote(loan=fresh(loan), as_of=date(2025, 2, 20))
    assert (quote.due_total, quote.current_interest) == (D("1062.50"), D("55.00"))

    repayment = pay(staff, loan, "3117.50", date(2025, 2, 20))

    assert (repayment.to_penalty, repayment.to_interest, repayment.to_principal) == (
        D("2.50"),
        D("115.00"),
        D("3000.00"),
    )
    schedule = rows(loan)
    assert schedule[1].paid_interest == D("55.00")
    assert schedule[1].interest == D("55.00")
    assert schedule[2].interest == D("40.00")  # 8,000 left for installments 3–10
    assert [r.paid_principal for r in schedule][10:] == [D("1000.00")] * 2
    assert fresh(loan).outstanding_principal == D("9000.00")


def test_overpayment_is_refused_and_changes_nothing(staff, loan):
    before = snapshot(loan)

    with pytest.raises(DomainError) as error:
        pay(staff, loan, "12060.01", date(2025, 2, 10))  # payoff is 1,060 + 11,000

    assert error.value.code == "overpayment"
    assert snapshot(loan) == before
    assert Repayment.objects.count() == 0
    assert fresh(loan).outstanding_principal == D("12000.00")


def test_paying_everything_settles_the_loan(staff, loan):
    pay(staff, loan, "12060.00", date(2025, 2, 10))

    stored = fresh(loan)
    assert (stored.state, stored.outstanding_principal, stored.settled_on) == (
        Loan.State.SETTLED,
        D("0.00"),
        date(2025, 2, 10),
    )
    assert all(r.settled_on == date(2025, 2, 10) for r in rows(loan))
    assert AuditEvent.objects.filter(action="loan.settle", object_id=str(loan.pk)).count() == 1
    with pytest.raises(ConflictError):
        pay(staff, loan, "1.00", date(2025, 2, 11))


def test_paying_every_installment_on_time_settles_at_maturity(staff, loan):
    for number, row in enumerate(rows(loan), start=1):
        pay(staff, loan, str(row.principal + row.interest), row.due_date, key=f"k-{number}")

    stored = fresh(loan)
    assert stored.state == Loan.State.SETTLED
    assert Repayment.objects.filter(loan=loan).count() == 12
    totals = Repayment.objects.filter(loan=loan)
    assert sum(r.to_interest for r in totals) == D("390.00")  # 60 + 55 + … + 5
    assert sum(r.to_penalty for r in totals) == D("0.00")


def test_same_key_records_the_repayment_once(staff, loan):
    first = pay(staff, loan, "100.00", date(2025, 2, 10), key="double-click")
    second = pay(staff, loan, "100.00", date(2025, 2, 10), key="double-click")

    assert first.pk == second.pk
    assert Repayment.objects.count() == 1
    assert fresh(loan).outstanding_principal == D("11960.00")
    with pytest.raises(ConflictError):
        pay(staff, loan, "200.00", date(2025, 2, 10), key="double-click")


def test_repayment_dates_are_checked(staff, loan):
    pay(staff, loan, "100.00", date(2025, 3, 1))

    with pytest.raises(DomainError) as earlier:
        pay(staff, loan, "100.00", date(2025, 2, 28))
    with pytest.raises(DomainError) as before_disbursement:
        pay(staff, loan, "100.00", date(2025, 1, 9))
    with pytest.raises(DomainError) as bad_amount:
        pay(staff, loan, "0.001", date(2025, 3, 1))

    assert earlier.value.field == before_disbursement.value.field == "paid_on"
    assert bad_amount.value.field == "amount"
    assert Repayment.objects.count() == 1


def test_repaying_the_arrears_cures_an_overdue_loan(org, staff):
    # Given a loan disbursed a month and a few days ago, its first installment unpaid
    today = timezone.localdate()
    start = today - relativedelta(months=1) - timedelta(days=3)
    customer = make_customer(org, staff.am)
    line = grant(
        staff.manager,
        customer,
        make_product(revolving_years=0),
        valid_from=start,
        valid_to=today + timedelta(days=365),
    )
    loan = active_loan(staff, line, amount="12000.00", term_months=12, on=start)
    loans_classify_all(today=today)
    assert fresh(loan).state == Loan.State.OVERDUE

    # When the first installment is paid with its penalty
    quote = repayment_quote(loan=fresh(loan), as_of=today)
    pay(staff, loan, str(quote.due_total), today)

    # Then the loan is active again
    stored = fresh(loan)
    assert (stored.state, stored.days_past_due) == (Loan.State.ACTIVE, 0)
    assert AuditEvent.objects.filter(action="loan.cure", object_id=str(loan.pk)).count() == 1
