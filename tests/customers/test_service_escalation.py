"""Escalation of overdue complaints with a frozen ``now``: one level per grace period, capped at
head office, idempotent, race-free, one audit row per step."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from coop.models import AuditEvent
from coop.roles import Role, sync_roles
from customers.models import Complaint
from customers.services.service import complaint_receive, complaints_escalate_overdue
from customers.tasks_service import complaints_escalate_overdue as escalate_task

SH = ZoneInfo("Asia/Shanghai")
RECEIVED = dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH)
DUE = dt.datetime(2026, 3, 25, 23, 59, 59, 999999, tzinfo=SH)  # normal: 15 days
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def roles_synced(db):
    # See test_service_interactions: the shared role sync misses this app's permissions.
    sync_roles()


@pytest.fixture
def teller(org, make_staff):
    return make_staff(Role.TELLER, unit="B01-01")


def receive(teller, received_at=RECEIVED, **changes):
    values = {
        "kind": "complaint",
        "channel": "counter",
        "subject": "Rude answer",
        "description": "The clerk did not answer my question.",
        "contact_name": "赵女士",
        "received_at": received_at,
    }
    values.update(changes)
    return complaint_receive(actor=teller, **values)


def escalations(complaint) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(
            object_type="customers.complaint",
            object_id=str(complaint.pk),
            action="complaint.escalate",
        )
        .order_by("id")
        .values_list("actor", "from_state", "to_state", "data")
    )


def level(complaint) -> tuple[int, dt.datetime | None]:
    row = Complaint.objects.get(pk=complaint.pk)
    return row.escalation_level, row.escalated_at


def test_escalation_steps_with_a_frozen_clock(teller):
    complaint = receive(teller)
    assert Complaint.objects.get(pk=complaint.pk).due_at == DUE

    # before the deadline: nothing
    assert complaints_escalate_overdue(now=DUE - HOUR) == 0
    # past the deadline but within the grace period: still the handling unit's turn
    assert complaints_escalate_overdue(now=DUE + HOUR) == 0
    assert level(complaint) == (0, None)

    # past the deadline and the grace period: the branch manager
    first = DUE + 25 * HOUR
    assert complaints_escalate_overdue(now=first) == 1
    assert level(complaint) == (1, first)
    # the same sweep again changes nothing
    assert complaints_escalate_overdue(now=first) == 0
    # less than a grace period later: nothing
    assert complaints_escalate_overdue(now=first + 23 * HOUR) == 0
    assert level(complaint) == (1, first)

    # a grace period after the first escalation: head office
    second = first + 25 * HOUR
    assert complaints_escalate_overdue(now=second) == 1
    assert level(complaint) == (2, second)
    # never beyond head office
    assert complaints_escalate_overdue(now=second + 1000 * HOUR) == 0
    assert level(complaint) == (2, second)

    assert escalations(complaint) == [
        (None, "received", "received", {"from_level": 0, "to_level": 1}),
        (None, "received", "received", {"from_level": 1, "to_level": 2}),
    ]


def test_one_sweep_raises_a_long_forgotten_case_by_one_level_only(teller):
    complaint = receive(teller)

    assert complaints_escalate_overdue(now=DUE + 1000 * HOUR) == 1

    assert level(complaint)[0] == 1
    assert len(escalations(complaint)) == 1


def test_grace_period_comes_from_settings(settings, teller):
    settings.COMPLAINT_ESCALATION_GRACE_HOURS = 2
    complaint = receive(teller)

    assert complaints_escalate_overdue(now=DUE + HOUR) == 0
    assert complaints_escalate_overdue(now=DUE + 3 * HOUR) == 1
    assert level(complaint)[0] == 1


def test_resolved_and_closed_cases_never_escalate(teller):
    resolved = receive(teller)
    closed = receive(teller)
    answered = receive(teller)
    Complaint.objects.filter(pk=resolved.pk).update(state="resolved")
    Complaint.objects.filter(pk=closed.pk).update(state="closed")
    Complaint.objects.filter(pk=answered.pk).update(state="responded")

    assert complaints_escalate_overdue(now=DUE + 100 * HOUR) == 1

    assert level(resolved) == (0, None)
    assert level(closed) == (0, None)
    assert level(answered)[0] == 1
    assert escalations(resolved) == []


def test_escalates_many_in_one_set_based_update_per_level(teller, django_assert_max_num_queries):
    complaints = [receive(teller) for _ in range(25)]
    now = DUE + 25 * HOUR

    # one UPDATE per level, one INSERT for the audit rows (plus savepoints)
    with django_assert_max_num_queries(5):
        assert complaints_escalate_overdue(now=now) == 25

    assert {level(c)[0] for c in complaints} == {1}
    assert AuditEvent.objects.filter(action="complaint.escalate").count() == 25


def test_two_sweeps_at_once_cannot_double_escalate(transactional_db, org, make_staff):
    sync_roles()
    teller = make_staff(Role.TELLER, unit="B01-01")
    complaints = [receive(teller) for _ in range(20)]
    now = DUE + 25 * HOUR
    barrier = threading.Barrier(2)
    counts = []

    def sweep():
        try:
            barrier.wait()
            counts.append(complaints_escalate_overdue(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(counts) == 20
    assert {level(c)[0] for c in complaints} == {1}
    assert AuditEvent.objects.filter(action="complaint.escalate").count() == 20


def test_celery_task_runs_the_sweep_now(teller):
    forgotten = receive(teller, received_at=dt.datetime(2025, 1, 1, 9, 0, tzinfo=SH))
    receive(teller, received_at=None)  # received now, not due

    result = escalate_task.apply()

    assert result.get() == 1
    assert level(forgotten)[0] == 1
    assert escalate_task.name == "customers.tasks_service.complaints_escalate_overdue"
