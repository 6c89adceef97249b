"""The inspection rule on its boundaries (seed 003): ≤ ¥100,000 → within one calendar month of
disbursement, above → within a week, then every six months; month ends clamp; dates are
Asia/Shanghai dates. The first inspection is written in the disbursement's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from coop.models import AuditEvent
from coop.services import DomainError
from loans.models import DisbursementNotice, Loan
from loans.services.disbursement import loan_disburse
from risk.inspections import (
    add_months,
    first_due_on,
    inspection_complete,
    inspection_rule,
    routine_due_on,
)
from risk.models import Inspection
from tests.loans.test_lifecycle_factories import (
    draw,
    grant,
    issue,
    make_customer,
    make_product,
)
from tests.risk.test_inspection_factories import (
    NORMAL,
    D,
    fresh_inspection,
    loan_for,
    open_inspection,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("amount", "disbursed", "due"),
    [
        ("100000.00", date(2025, 3, 10), date(2025, 4, 10)),  # exactly the threshold: a month
        ("100000.01", date(2025, 3, 10), date(2025, 3, 17)),  # one fen above: a week
        ("3000.00", date(2025, 1, 31), date(2025, 2, 28)),  # month end clamps
        ("3000.00", date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        ("3000.00", date(2025, 12, 31), date(2026, 1, 31)),  # across the year
        ("500000.00", date(2025, 2, 25), date(2025, 3, 4)),  # a week across February's end
    ],
)
@pytest.mark.django_db
def test_first_due_date(amount, disbursed, due):
    rule = inspection_rule()
    assert first_due_on(rule=rule, principal=D(amount), disbursed_on=disbursed) == due


@pytest.mark.django_db
def test_routine_is_six_calendar_months_after_completion():
    rule = inspection_rule()
    assert routine_due_on(rule=rule, completed_on=date(2025, 2, 28)) == date(2025, 8, 28)
    assert routine_due_on(rule=rule, completed_on=date(2025, 8, 31)) == date(2026, 2, 28)
    assert add_months(date(2025, 3, 31), 6) == date(2025, 9, 30)


@pytest.mark.parametrize(
    ("amount", "disbursed", "due"),
    [
        ("100000.00", date(2025, 1, 31), date(2025, 2, 28)),
        ("100000.01", date(2025, 1, 31), date(2025, 2, 7)),
    ],
)
def test_disbursement_plans_the_first_inspection(org, staff, amount, disbursed, due):
    loan = loan_for(org, staff, amount=amount, on=disbursed)

    inspection = open_inspection(loan)
    assert (inspection.kind, inspection.status, inspection.due_on) == ("first", "due", due)
    assert inspection.assigned_to == staff.am
    assert inspection.branch_id == loan.branch_id
    assert inspection.customer_id == loan.customer_id
    event = AuditEvent.objects.get(action="inspection.plan", object_id=str(inspection.pk))
    assert (event.actor, event.to_state) == (staff.teller, "due")


def test_failed_disbursement_plans_nothing(org, staff):
    product = make_product(max_amount=D("1000000.00"))
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, product, limit="20000.00")
    loan = draw(staff.risk, line, amount="12000.00", on=date(2025, 1, 10))
    notice = issue(staff.risk, loan, signed_on=date(2025, 1, 10))

    with pytest.raises(DomainError):
        # Before the contract was signed: refused, so the whole transaction rolls back.
        loan_disburse(
            actor=staff.teller,
            notice=notice,
            idempotency_key=str(uuid.uuid4()),
            disbursed_on=date(2025, 1, 9),
        )

    assert Inspection.objects.filter(loan=loan).count() == 0
    assert Loan.objects.get(pk=loan.pk).state == "contracted"
    assert DisbursementNotice.objects.get(pk=notice.pk).status == "issued"


def test_repeated_disbursement_key_plans_one_inspection(org, staff):
    product = make_product(max_amount=D("1000000.00"))
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, product, limit="20000.00")
    loan = draw(staff.risk, line, amount="12000.00", on=date(2025, 1, 10))
    notice = issue(staff.risk, loan, signed_on=date(2025, 1, 10))
    key = str(uuid.uuid4())
    for _ in range(2):
        loan_disburse(
            actor=staff.teller, notice=notice, idempotency_key=key, disbursed_on=date(2025, 1, 10)
        )

    assert Inspection.objects.filter(loan=loan).count() == 1


def test_completion_plans_the_next_routine_inspection(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 31))
    first = open_inspection(loan)

    with time_machine.travel(datetime(2025, 2, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        inspection_complete(actor=staff.am, inspection=first, findings=NORMAL)

    done = fresh_inspection(first)
    assert (done.status, done.completed_on, done.on_time, done.completed_by) == (
        "completed",
        date(2025, 2, 20),
        True,
        staff.am,
    )
    routine = open_inspection(loan)
    assert (routine.kind, routine.due_on, routine.assigned_to) == (
        "routine",
        date(2025, 8, 20),
        staff.am,
    )
    # The sixth month: completing the routine one plans the next six months on, month-end
    # clamped.
    with time_machine.travel(datetime(2025, 8, 31, 9, 0, tzinfo=SHANGHAI), tick=False):
        inspection_complete(actor=staff.am, inspection=routine, findings=NORMAL)
    assert fresh_inspection(routine).on_time is False
    assert open_inspection(loan).due_on == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("moment", "completed_on", "on_time", "next_due"),
    [
        # 23:30 on the last day of February in Shanghai is 15:30 UTC the same day: on time.
        (
            datetime(2025, 2, 28, 23, 30, tzinfo=SHANGHAI),
            date(2025, 2, 28),
            True,
            date(2025, 8, 28),
        ),
        # 00:30 on 1 March in Shanghai is still 28 February in UTC: the Shanghai date counts.
        (datetime(2025, 3, 1, 0, 30, tzinfo=SHANGHAI), date(2025, 3, 1), False, date(2025, 9, 1)),
    ],
)
def test_on_time_and_next_date_use_the_shanghai_date(
    org, staff, moment, completed_on, on_time, next_due
):
    loan = loan_for(org, staff, on=date(2025, 1, 31))  # first due 2025-02-28
    first = open_inspection(loan)
    assert first.due_on == date(2025, 2, 28)

    with time_machine.travel(moment, tick=False):
        inspection_complete(actor=staff.am, inspection=first, findings=NORMAL)

    done = fresh_inspection(first)
    assert (done.completed_on, done.on_time) == (completed_on, on_time)
    assert open_inspection(loan).due_on == next_due


def test_rule_is_data(org, staff):
    rule = inspection_rule()
    rule.amount_threshold = D("50000.00")
    rule.first_days_large = 3
    rule.save()

    loan = loan_for(org, staff, amount="60000.00", on=date(2025, 5, 5))

    assert open_inspection(loan).due_on == date(2025, 5, 8)


def test_a_visit_recorded_later_counts_on_its_own_day(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 31))  # first due 2025-02-28
    first = open_inspection(loan)
    before = AuditEvent.objects.count()

    with time_machine.travel(datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        for bad in (date(2025, 3, 4), date(2025, 1, 30)):
            with pytest.raises(DomainError) as raised:
                inspection_complete(
                    actor=staff.am, inspection=first, findings=NORMAL, inspected_on=bad
                )
            assert raised.value.field == "inspected_on"
        assert AuditEvent.objects.count() == before
        inspection_complete(
            actor=staff.am, inspection=first, findings=NORMAL, inspected_on=date(2025, 2, 27)
        )

    done = fresh_inspection(first)
    assert (done.completed_on, done.on_time) == (date(2025, 2, 27), True)
    assert done.completed_at == datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)
    assert open_inspection(loan).due_on == date(2025, 8, 27)
