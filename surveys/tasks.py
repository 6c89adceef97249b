"""Periodic work of the surveys app: thin, idempotent, set-based (the service does the SQL)."""

from __future__ import annotations

from coop.monitor.runs import periodic_task
from surveys.services import reminders_sweep


@periodic_task("surveys.reminders_sweep")
def surveys_reminders_sweep() -> dict:
    """Reminder rows for invitations left unanswered after the campaign's N days."""
    return {"reminders": reminders_sweep()}
