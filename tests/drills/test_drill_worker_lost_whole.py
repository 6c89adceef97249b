"""Drill: a whole worker — supervisor and pool process — is killed (SIGKILL, as when its machine
is lost) while the complaint-escalation sweep it took waits on a row lock the drill holds. No
process is left to reject the message; it stays unacknowledged in Redis until the visibility
timeout, when a live worker puts it back on the queue and runs it once.

The workers run with the production rule (visibility timeout above the hard time limit) at drill
scale: a 6-second time limit, an 8-second visibility timeout, a scan for lost messages every
second. Production: 15 minutes, 20 minutes, about 100 seconds."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection

from coop.models import AuditEvent
from customers.models import Complaint
from customers.tasks_service import complaints_escalate_overdue
from tests.drills import drill_data
from tests.drills.conftest import child_pids
from tests.drills.test_drill_worker_killed import lock_waiters, wait_until
from tests.loans import test_lifecycle_factories as factories

pytestmark = [pytest.mark.drill, pytest.mark.worker]

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

COMPLAINTS = 3
SCALE = {
    "CELERY_TASK_TIME_LIMIT": "6",
    "CELERY_TASK_SOFT_TIME_LIMIT": "5",
    "CELERY_VISIBILITY_TIMEOUT": "8",
    "CELERY_RESTORE_EVERY": "1",
}


def test_worker_lost_whole_reruns_after_the_visibility_timeout(
    request, transactional_db, private_broker, drill_worker, drill_log, org, staff
):
    log = drill_log
    complaints = drill_data.overdue_complaints(staff.teller, COMPLAINTS)
    held = complaints[0]

    holder = connection.get_new_connection(connection.get_connection_params())
    request.addfinalizer(holder.close)
    holder.autocommit = False
    with holder.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_complaint WHERE id = %s FOR UPDATE", [held.pk])
    log.say(f"holding the row lock of complaint {held.pk}")

    victim = drill_worker("victim", **SCALE)
    result = complaints_escalate_overdue.apply_async()
    taken_at = time.monotonic()
    wait_until(lambda: lock_waiters() == 1, 60, "the sweep to block on the lock")
    log.say(f"sweep {result.id} runs on {victim.node} and waits on the lock")

    # The machine is lost: supervisor and pool process die together, nothing rejects the message.
    pool = child_pids(victim.pid)
    for pid in (victim.pid, *pool):
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    victim.proc.wait(timeout=10)
    log.say(f"SIGKILL sent to the victim's supervisor {victim.pid} and pool {pool}")
    assert "WorkerLostError" not in victim.output()
    # The killed run's database session may still wait on the lock (PostgreSQL notices a dead
    # client when it next talks to it); it can commit nothing without its client, and ends
    # when the lock is released.
    orphans = lock_waiters()
    log.say(f"{orphans} session of the killed run still waits on the lock")

    rescuer = drill_worker("rescuer", **SCALE)
    log.say(f"a live worker {rescuer.node} started; the message is still unacknowledged")
    wait_until(
        lambda: lock_waiters() == orphans + 1, 60, "the lost message to be restored and rerun"
    )
    restored_after = time.monotonic() - taken_at
    log.say(f"the rerun started {restored_after:.1f}s after the message was taken; releasing")
    holder.rollback()
    holder.close()

    escalated = result.get(timeout=60)
    log.measure("rerun_result_escalated", escalated)
    log.measure("seconds_from_take_to_rerun", round(restored_after, 2))
    log.measure("seconds_from_kill_to_rerun_done", round(time.monotonic() - killed_at, 2))

    # Not before the visibility timeout (the first worker could still have been running it),
    # and soon after it (one scan interval, plus a worker's start).
    assert 8 <= restored_after < 8 + 20
    assert escalated == COMPLAINTS
    rescuer.wait_for(f"{result.id}] succeeded", timeout=30)
    levels = list(
        Complaint.objects.filter(pk__in=[c.pk for c in complaints]).values_list(
            "escalation_level", flat=True
        )
    )
    assert levels == [1] * COMPLAINTS
    assert AuditEvent.objects.filter(action="complaint.escalate").count() == COMPLAINTS
    # Run once: nothing is left to restore, and no second run follows.
    time.sleep(3)
    assert rescuer.output().count(f"{result.id}] received") == 1
    assert lock_waiters() == 0
