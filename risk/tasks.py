"""Celery tasks of the risk app. Thin: they call a service and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from risk import services


@shared_task(name="risk.escalations_sweep")
def escalations_sweep() -> int:
    """Beat, every few minutes: record each case whose current stage passed its time target.
    Idempotent (one escalation per case, stage and due time), so a re-delivery adds nothing."""
    return services.escalations_sweep()
