"""Celery tasks of the counter service and complaints area; thin, idempotent, safe to re-run."""

from __future__ import annotations

from coop.monitor.runs import periodic_task
from customers.services.service import complaints_escalate_overdue as escalate


@periodic_task("customers.tasks_service.complaints_escalate_overdue")
def complaints_escalate_overdue() -> int:
    """The beat sweep: a compare-and-set UPDATE per level, so a re-delivery escalates nothing.
    Returns the number escalated (recorded on the monitor as ``count``)."""
    return escalate()
