"""The reminders sweep on a real Celery worker and the test database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Invitation, Reminder
from tests.surveys.conftest import make_customers

pytestmark = pytest.mark.worker


def test_a_real_worker_writes_the_reminders_once(
    start_worker, celery_queue_clean, org, sv, small_framework, make_campaign
):
    from coop.models import TaskRun
    from surveys.tasks import surveys_reminders_sweep

    make_customers(org, sv.am, 3)
    campaign = make_campaign(small_framework)
    Invitation.objects.filter(campaign=campaign).update(sent_at=timezone.now() - timedelta(days=8))
    start_worker()
    assert surveys_reminders_sweep.delay().get(timeout=60) == {"reminders": 3}
    assert surveys_reminders_sweep.delay().get(timeout=60) == {"reminders": 0}
    assert Reminder.objects.filter(number=1).count() == 3
    runs = TaskRun.objects.filter(task_name="surveys.reminders_sweep").order_by("id")
    assert [r.counts for r in runs] == [{"reminders": 3}, {"reminders": 0}]
