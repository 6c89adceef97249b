"""The beat task of complaint escalation with a frozen wall clock (time_machine): the task takes
no time argument, so the real ``timezone.now()`` decides — one level per grace period."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from coop.models import TaskRun
from coop.roles import Role, sync_roles
from customers.models import Complaint
from customers.services.service import complaint_receive
from customers.tasks_service import complaints_escalate_overdue as escalate_task

SH = ZoneInfo("Asia/Shanghai")
RECEIVED = dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH)
DUE = dt.datetime(2026, 3, 25, 23, 59, 59, 999999, tzinfo=SH)  # normal: 15 days
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def complaint(org, make_staff):
    sync_roles()
    teller = make_staff(Role.TELLER, unit="B01-01")
    with time_machine.travel(RECEIVED, tick=False):
        return complaint_receive(
            actor=teller,
            kind="complaint",
            channel="counter",
            subject="Rude answer",
            description="The clerk did not answer my question.",
            contact_name="赵女士",
            received_at=RECEIVED,
        )


def beat_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return escalate_task.apply().get()


def level(complaint) -> int:
    return Complaint.objects.get(pk=complaint.pk).escalation_level


def test_the_hourly_beat_escalates_on_time_and_only_once(complaint, settings):
    grace = dt.timedelta(hours=settings.COMPLAINT_ESCALATION_GRACE_HOURS)

    assert beat_at(DUE - HOUR) == 0
    assert beat_at(DUE + HOUR) == 0  # overdue, but within the first grace period
    assert level(complaint) == 0
    assert beat_at(DUE + grace + HOUR) == 1
    assert beat_at(DUE + grace + 2 * HOUR) == 0  # the next hourly beat: nothing twice
    assert level(complaint) == 1
    # exactly one grace period after the first escalation is not yet beyond it
    assert beat_at(DUE + 2 * grace + HOUR) == 0
    assert beat_at(DUE + 2 * grace + 2 * HOUR) == 1
    assert level(complaint) == 2

    runs = TaskRun.objects.filter(
        task_name="customers.tasks_service.complaints_escalate_overdue"
    ).order_by("started_at")
    assert [r.counts for r in runs] == [{"count": n} for n in (0, 0, 1, 0, 0, 1)]
    assert [r.started_at for r in runs] == [
        DUE - HOUR,
        DUE + HOUR,
        DUE + grace + HOUR,
        DUE + grace + 2 * HOUR,
        DUE + 2 * grace + HOUR,
        DUE + 2 * grace + 2 * HOUR,
    ]
