"""Two beats by mistake: the sweep and the planning run at the same moment in two connections,
and every inspection, notice and audit row still exists once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from coop.models import AuditEvent
from loans.services.classification import loans_classify_all
from risk.inspections import inspections_plan, inspections_sweep
from risk.models import Inspection, InspectionNotice
from tests.risk.test_inspection_factories import (
    loan_for,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)


def _together(func, **kwargs) -> list[dict]:
    barrier = threading.Barrier(2)
    results: list = []

    def run():
        try:
            barrier.wait()
            results.append(func(**kwargs))
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_and_two_plans_at_once_create_everything_once(org, staff):
    loans = [loan_for(org, staff, on=date(2025, 1, 10)) for _ in range(4)]
    Inspection.objects.filter(loan=loans[0]).delete()
    loans_classify_all(today=date(2025, 3, 20))

    plans = _together(inspections_plan, today=date(2025, 3, 20))
    sweeps = _together(inspections_sweep, today=date(2025, 3, 20))

    assert all(isinstance(r, dict) for r in plans + sweeps), plans + sweeps
    assert sorted(r["first"] for r in plans) == [0, 1]
    assert sum(r["marked_overdue"] for r in sweeps) == 4
    assert sum(r["ad_hoc_planned"] for r in sweeps) == 4
    assert sum(r["escalated_head_office"] for r in sweeps) == 4
    assert Inspection.objects.filter(kind="first").count() == 4
    assert Inspection.objects.filter(kind="ad_hoc").count() == 4
    assert InspectionNotice.objects.count() == 12
    assert AuditEvent.objects.filter(action="inspection.mark_overdue").count() == 4
    assert AuditEvent.objects.filter(action="inspection.escalate").count() == 12
