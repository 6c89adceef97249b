"""Celery tasks of the customers app. Thin: they call a service and are safe to run twice."""

from __future__ import annotations

from datetime import date

from coop.monitor.runs import periodic_task
from customers.services import due_contacts, relationship


@periodic_task("customers.segments_recompute_all")
def segments_recompute_all() -> dict[str, int]:
    """Nightly: every active segment's members from today's data (ages move with the calendar,
    balances with the core banking feed). Idempotent: a second run replaces the members with the
    same set."""
    return relationship.segments_recompute_all()


@periodic_task("customers.contacts_plan")
def contacts_plan(on: str | None = None) -> dict[str, int]:
    """Nightly: close the due contacts a visit fulfilled, create the ones now due under the
    contact plans. ``on`` (ISO date) lets an operator re-run a missed night; idempotent."""
    return due_contacts.contacts_plan(on=date.fromisoformat(on) if on else None)


# Autodiscovery imports only this module; the complaint sweep lives beside its services.
from customers.tasks_service import complaints_escalate_overdue  # noqa: E402, F401
