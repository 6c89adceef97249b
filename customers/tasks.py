"""Celery tasks of the customers app. Thin: they call a service and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from customers.services import relationship


@shared_task(name="customers.segments_recompute_all")
def segments_recompute_all() -> dict[str, int]:
    """Nightly: every active segment's members from today's data (ages move with the calendar,
    balances with the core banking feed). Idempotent: a second run replaces the members with the
    same set."""
    return relationship.segments_recompute_all()


# Autodiscovery imports only this module; the complaint sweep lives beside its services.
from customers.tasks_service import complaints_escalate_overdue  # noqa: E402, F401
