"""The inspection list and the account manager's panel order by the status column (most urgent
first) and due date, the order the partial index ``inspection_open_order`` serves: overdue
before due, each by due date, then completed and cancelled."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from risk.inspection_selectors import inspection_list, my_inspections_panel
from risk.models import Inspection
from tests.risk.test_inspection_factories import (
    loan_for,
    open_inspection,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)


def _arrange(org, staff) -> dict[str, Inspection]:
    # Statuses and dates set on the rows directly: the order is under test, not the sweeps.
    plan = {
        "due_late": ("due", date(2025, 3, 20)),
        "overdue_late": ("overdue", date(2025, 2, 20)),
        "due_early": ("due", date(2025, 3, 1)),
        "overdue_early": ("overdue", date(2025, 2, 1)),
        "completed": ("completed", date(2025, 1, 5)),
        "cancelled": ("cancelled", date(2025, 1, 1)),
    }
    rows = {}
    for key, (status, due_on) in plan.items():
        inspection = open_inspection(loan_for(org, staff, on=date(2025, 1, 10)))
        done = (
            {"completed_at": timezone.now(), "completed_on": due_on}
            if status == "completed"
            else {}
        )
        Inspection.objects.filter(pk=inspection.pk).update(status=status, due_on=due_on, **done)
        rows[key] = inspection.pk
    return rows


def test_open_list_all_list_and_panel_put_the_most_urgent_first(org, staff):
    rows = _arrange(org, staff)

    open_order = [i.pk for i in inspection_list(user=staff.manager)]
    every = [i.pk for i in inspection_list(user=staff.manager, status="")]
    panel = my_inspections_panel(staff.am)

    urgent = ["overdue_early", "overdue_late", "due_early", "due_late"]
    assert open_order == [rows[k] for k in urgent]
    assert every == [rows[k] for k in [*urgent, "completed", "cancelled"]]
    assert [i.pk for i in panel["inspections"]] == [rows[k] for k in urgent]
    assert (panel["due"], panel["overdue"]) == (2, 2)
