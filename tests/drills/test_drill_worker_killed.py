"""Drill: the pool process running the complaint-escalation sweep is killed (SIGKILL) while the
sweep waits on a row lock the drill holds. acks_late + reject_on_worker_lost put the message
back; another worker runs it again and every complaint is escalated exactly once."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection

from coop.celery import app
from coop.models import AuditEvent
from customers.models import Complaint
from customers.tasks_service import complaints_escalate_overdue
from tests.drills import drill_data
from tests.drills.conftest import child_pids
from tests.loans import test_lifecycle_factories as factories

pytestmark = [pytest.mark.drill, pytest.mark.worker]

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

COMPLAINTS = 3

_WAITING_SQL = """
SELECT count(*) FROM pg_stat_activity
 WHERE datname = current_database() AND wait_event_type = 'Lock'
   AND query ILIKE '%%customers_complaint%%'
"""


def wait_until(predicate, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(_WAITING_SQL)
        return cursor.fetchone()[0]


def test_worker_killed_mid_task_reruns_once(
    request, transactional_db, private_broker, drill_worker, drill_log, org, staff
):
    log = drill_log
    complaints = drill_data.overdue_complaints(staff.teller, COMPLAINTS)
    held = complaints[0]

    # The drill holds the row lock of one complaint from its own connection, so the sweep
    # blocks inside its transaction: the moment to kill it.
    holder = connection.get_new_connection(connection.get_connection_params())
    request.addfinalizer(holder.close)  # a failed drill must not leave the lock behind
    holder.autocommit = False
    with holder.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_complaint WHERE id = %s FOR UPDATE", [held.pk])
    log.say(f"holding the row lock of complaint {held.pk}")

    victim = drill_worker("victim")
    rescuer = drill_worker("rescuer", wait=False)
    result = complaints_escalate_overdue.apply_async()
    waited = wait_until(lambda: lock_waiters() == 1, 60, "the sweep to block on the lock")
    log.say(f"sweep {result.id} is running on {victim.node} and waits on the lock ({waited:.1f}s)")

    rescuer.wait_for("ready.")
    # The victim's supervisor stops taking messages, so the rerun lands on the rescuer.
    app.control.cancel_consumer("celery", destination=[victim.node], reply=True)
    [child] = child_pids(victim.pid)
    killed_at = time.monotonic()
    os.kill(child, signal.SIGKILL)
    log.say(f"SIGKILL sent to the victim's pool process {child} in the middle of the task")
    victim.wait_for("WorkerLostError", timeout=30)
    log.say("victim supervisor reported WorkerLostError and rejected the message (requeue)")

    wait_until(lambda: lock_waiters() == 2, 60, "the rerun to block on the lock too")
    log.say("the rerun started on the rescuer; releasing the row lock")
    holder.rollback()
    holder.close()

    escalated = result.get(timeout=60)
    rerun_seconds = time.monotonic() - killed_at
    log.measure("rerun_result_escalated", escalated)
    log.measure("seconds_from_kill_to_rerun_done", round(rerun_seconds, 2))

    assert escalated == COMPLAINTS
    # The pool process stores the result before its supervisor logs the success line, so the
    # line may come a moment after result.get() returns: wait for it rather than race it.
    rescuer.wait_for(f"{result.id}] succeeded", timeout=30)
    assert f"{result.id}] succeeded" not in victim.output()
    levels = list(
        Complaint.objects.filter(pk__in=[c.pk for c in complaints]).values_list(
            "escalation_level", flat=True
        )
    )
    assert levels == [1] * COMPLAINTS
    events = AuditEvent.objects.filter(action="complaint.escalate").count()
    log.measure("escalation_audit_rows", events)
    assert events == COMPLAINTS
    # The killed run's transaction was rolled back with its connection; nothing waits any more.
    wait_until(lambda: lock_waiters() == 0, 30, "no backend left waiting")
