"""Celery tasks of the grid app. Thin: they call a service and are safe to run twice."""

from __future__ import annotations

from datetime import date

from coop.monitor.runs import periodic_task
from grid.services.followups import followups_plan as plan


@periodic_task("grid.followups_plan")
def followups_plan(on: str | None = None) -> dict[str, int]:
    """Daily: the follow-up contacts due this month / quarter for every credited household
    (seed 003). ``on`` (ISO date) lets an operator re-run a missed day; idempotent."""
    return plan(on=date.fromisoformat(on) if on else None)
