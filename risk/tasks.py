"""Celery tasks of the risk app. Thin: they call a service and are safe to run twice. Each is a
periodic task of the beat, recorded on the task monitor (``coop.monitor.runs``) with the counts
it returns."""

from __future__ import annotations

from datetime import date

from coop.monitor.runs import periodic_task
from risk import inspections, services


@periodic_task("risk.escalations_sweep")
def escalations_sweep() -> dict[str, int]:
    """Beat, every few minutes: record each case whose current stage passed its time target.
    Idempotent (one escalation per case, stage and due time), so a re-delivery adds nothing."""
    return {"escalations": services.escalations_sweep()}


def _day(today: str | None) -> date | None:
    # Dates travel as ISO strings (JSON serializer); none means today in Asia/Shanghai.
    return date.fromisoformat(today) if today else None


@periodic_task("risk.inspections_sweep")
def inspections_sweep(today: str | None = None) -> dict[str, int]:
    """Beat, hourly: overdue inspections, their reminders and escalations, ad-hoc inspections
    for overdue loans. Set-based and idempotent: a second run (or a second beat) adds nothing."""
    return inspections.inspections_sweep(today=_day(today))


@periodic_task("risk.inspections_plan")
def inspections_plan(today: str | None = None) -> dict[str, int]:
    """Beat, nightly: plan every missing scheduled inspection of every live loan (one
    INSERT … SELECT … ON CONFLICT DO NOTHING)."""
    return inspections.inspections_plan(today=_day(today))
