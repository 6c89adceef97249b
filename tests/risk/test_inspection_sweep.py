"""The beat's set-based work: planning missing inspections, marking them overdue, reminders and
escalation by days overdue (frozen clock, Asia/Shanghai dates), ad-hoc inspections for overdue
loans, cancelling those of closed loans — each idempotent."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from coop.models import AuditEvent, OrgUnit
from loans.services.classification import loan_write_off, loans_classify_all
from risk.inspections import inspection_complete, inspections_plan, inspections_sweep
from risk.models import Inspection, InspectionNotice
from risk.tasks import inspections_plan as plan_task
from risk.tasks import inspections_sweep as sweep_task
from tests.risk.test_inspection_factories import (
    NORMAL,
    fresh_inspection,
    loan_for,
    open_inspection,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTHING = {
    "cancelled": 0,
    "marked_overdue": 0,
    "notified_account_manager": 0,
    "escalated_branch_manager": 0,
    "escalated_head_office": 0,
    "ad_hoc_planned": 0,
}


def at(day: date, hour: int = 0, minute: int = 5):
    """Freeze the clock at ``day`` hh:mm in Shanghai (00:05 is still the day before in UTC)."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI), tick=False
    )


def test_sweep_marks_overdue_notifies_and_escalates_on_the_grace_days(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 10))
    inspection = open_inspection(loan)
    assert inspection.due_on == date(2025, 2, 10)

    # On the due date itself nothing happens.
    with at(date(2025, 2, 10), 23, 59):
        assert inspections_sweep() == NOTHING
    assert fresh_inspection(inspection).status == "due"

    # The next Shanghai day (still 10 February in UTC at 00:05): overdue, the manager notified.
    with at(date(2025, 2, 11)):
        assert inspections_sweep() == {
            **NOTHING,
            "marked_overdue": 1,
            "notified_account_manager": 1,
        }
    row = fresh_inspection(inspection)
    assert (row.status, row.escalation_level) == ("overdue", 1)
    notice = InspectionNotice.objects.get(inspection=inspection)
    assert (notice.level, notice.recipient, notice.org_unit_id, notice.days_overdue) == (
        1,
        staff.am,
        loan.branch_id,
        1,
    )

    # Day 6 overdue, the day before the branch grace period ends: nothing new.
    with at(date(2025, 2, 16)):
        assert inspections_sweep() == NOTHING
    # Day 7: the branch manager.
    with at(date(2025, 2, 17)):
        assert inspections_sweep() == {**NOTHING, "escalated_branch_manager": 1}
    assert fresh_inspection(inspection).escalation_level == 2
    # Day 29 nothing; day 30 head-office risk; later nothing more.
    with at(date(2025, 3, 11)):
        assert inspections_sweep() == NOTHING
    with at(date(2025, 3, 12)):
        assert inspections_sweep() == {**NOTHING, "escalated_head_office": 1}
    with at(date(2025, 4, 30)):
        assert inspections_sweep() == NOTHING
    assert fresh_inspection(inspection).escalation_level == 3
    head_office = OrgUnit.objects.get(kind=OrgUnit.Kind.HEAD_OFFICE)
    assert list(
        InspectionNotice.objects.filter(inspection=inspection)
        .order_by("level")
        .values_list("level", "org_unit_id", "days_overdue")
    ) == [(1, loan.branch_id, 1), (2, loan.branch_id, 7), (3, head_office.pk, 30)]
    assert list(
        AuditEvent.objects.filter(object_type="risk.inspection", object_id=str(inspection.pk))
        .order_by("id")
        .values_list("action", "to_state")
    ) == [
        ("inspection.plan", "due"),
        ("inspection.mark_overdue", "overdue"),
        ("inspection.escalate", "1"),
        ("inspection.escalate", "2"),
        ("inspection.escalate", "3"),
    ]


def test_a_late_sweep_catches_up_every_level_at_once(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 10))

    # The beat was down for six weeks: one run does everything that is due.
    assert inspections_sweep(today=date(2025, 3, 25)) == {
        **NOTHING,
        "marked_overdue": 1,
        "notified_account_manager": 1,
        "escalated_branch_manager": 1,
        "escalated_head_office": 1,
    }
    assert inspections_sweep(today=date(2025, 3, 25)) == NOTHING
    assert open_inspection(loan).escalation_level == 3


def test_sweep_twice_creates_nothing_twice(org, staff):
    loans = [loan_for(org, staff, on=date(2025, 1, 10)) for _ in range(3)]
    loans_classify_all(today=date(2025, 3, 20))  # 38 days past due: beyond the 30-day limit

    first = inspections_sweep(today=date(2025, 3, 20))
    events = AuditEvent.objects.count()
    second = inspections_sweep(today=date(2025, 3, 20))

    assert first == {
        **NOTHING,
        "marked_overdue": 3,
        "notified_account_manager": 3,
        "escalated_branch_manager": 3,
        "escalated_head_office": 3,
        "ad_hoc_planned": 3,
    }
    assert second == NOTHING
    assert AuditEvent.objects.count() == events
    for loan in loans:
        ad_hoc = Inspection.objects.get(loan=loan, kind="ad_hoc")
        assert (ad_hoc.reason, ad_hoc.status, ad_hoc.due_on, ad_hoc.assigned_to) == (
            "loan_overdue",
            "due",
            date(2025, 3, 27),
            staff.am,
        )


def test_one_ad_hoc_inspection_per_overdue_episode(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 10))
    loans_classify_all(today=date(2025, 3, 20))
    inspections_sweep(today=date(2025, 3, 20))
    ad_hoc = Inspection.objects.get(loan=loan, kind="ad_hoc")

    with at(date(2025, 3, 22), 10):
        inspection_complete(actor=staff.am, inspection=ad_hoc, findings=NORMAL)
    # Still the same overdue episode: completing it does not make the sweep plan another one.
    assert inspections_sweep(today=date(2025, 3, 25))["ad_hoc_planned"] == 0
    assert Inspection.objects.filter(loan=loan, kind="ad_hoc").count() == 1


def test_ad_hoc_needs_more_than_the_configured_days_past_due(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 10))  # first installment due 2025-02-10
    loans_classify_all(today=date(2025, 3, 12))  # exactly 30 days past due

    assert inspections_sweep(today=date(2025, 3, 12))["ad_hoc_planned"] == 0
    loans_classify_all(today=date(2025, 3, 13))
    assert inspections_sweep(today=date(2025, 3, 13))["ad_hoc_planned"] == 1
    assert Inspection.objects.filter(loan=loan, kind="ad_hoc").count() == 1


def test_written_off_loan_inspections_are_cancelled(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 10))
    inspection = open_inspection(loan)
    loan_write_off(actor=staff.director, loan=loan, reason="借款人死亡，无可执行财产")

    assert inspections_sweep(today=date(2025, 1, 20)) == {**NOTHING, "cancelled": 1}
    assert fresh_inspection(inspection).status == "cancelled"
    assert inspections_plan(today=date(2025, 1, 20)) == {"first": 0, "routine": 0}


def test_plan_catches_up_missing_inspections_once(org, staff):
    small = loan_for(org, staff, amount="100000.00", on=date(2025, 1, 31))
    large = loan_for(org, staff, amount="100000.01", on=date(2025, 1, 31))
    done = loan_for(org, staff, on=date(2025, 1, 10))
    with at(date(2025, 1, 31), 23, 30):
        inspection_complete(actor=staff.am, inspection=open_inspection(done), findings=NORMAL)
    # As after a data import: the planned rows are missing.
    Inspection.objects.filter(status="due").delete()

    assert inspections_plan(today=date(2025, 2, 1)) == {"first": 2, "routine": 1}
    assert inspections_plan(today=date(2025, 2, 1)) == {"first": 0, "routine": 0}
    assert open_inspection(small).due_on == date(2025, 2, 28)
    assert open_inspection(large).due_on == date(2025, 2, 7)
    routine = open_inspection(done)
    assert (routine.kind, routine.due_on, routine.assigned_to) == (
        "routine",
        date(2025, 7, 31),
        staff.am,
    )
    assert AuditEvent.objects.filter(action="inspection.plan", actor=None).count() == 3


def test_tasks_run_the_services_and_take_iso_dates(org, staff):
    loan = loan_for(org, staff, on=date(2025, 1, 10))
    Inspection.objects.filter(loan=loan).delete()

    assert plan_task.apply(kwargs={"today": "2025-01-11"}).get() == {"first": 1, "routine": 0}
    result = sweep_task.apply(kwargs={"today": "2025-02-11"}).get()
    assert result == {**NOTHING, "marked_overdue": 1, "notified_account_manager": 1}
    assert sweep_task.apply(kwargs={"today": "2025-02-11"}).get() == NOTHING
