"""The reminders sweep: a row per unanswered invitation after N days, idempotent, set-based."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Invitation, Reminder
from surveys.services import campaign_close, reminders_sweep
from tests.surveys.conftest import HAND_RESPONSES, answers_of, make_customers, submit


@pytest.fixture
def waiting(org, sv, small_framework, make_campaign):
    make_customers(org, sv.am, 3)
    campaign = make_campaign(small_framework, reminder_after_days=7)
    invitations = list(Invitation.objects.filter(campaign=campaign).order_by("reference"))
    submit(invitations[0], answers_of(HAND_RESPONSES[0]))
    return campaign, invitations


def test_nothing_before_n_days(waiting):
    assert reminders_sweep(now=timezone.now() + timedelta(days=6)) == 0
    assert Reminder.objects.count() == 0


def test_unanswered_get_one_reminder_per_round_and_a_rerun_adds_nothing(waiting):
    _campaign, invitations = waiting
    later = timezone.now() + timedelta(days=7, minutes=1)
    assert reminders_sweep(now=later) == 2
    assert reminders_sweep(now=later) == 0
    assert reminders_sweep(now=later + timedelta(days=3)) == 0
    assert sorted(Reminder.objects.values_list("invitation_id", "number")) == [
        (invitations[1].pk, 1),
        (invitations[2].pk, 1),
    ]
    assert reminders_sweep(now=later + timedelta(days=7)) == 2
    assert reminders_sweep(now=later + timedelta(days=14)) == 2
    # At most three rounds.
    assert reminders_sweep(now=later + timedelta(days=21)) == 0
    assert Reminder.objects.filter(invitation=invitations[1]).count() == 3


def test_answered_and_closed_campaigns_get_none(waiting, sv):
    campaign, invitations = waiting
    submit(invitations[1], answers_of(HAND_RESPONSES[1]))
    assert reminders_sweep(now=timezone.now() + timedelta(days=8)) == 1
    campaign_close(actor=sv.director, campaign=campaign)
    assert reminders_sweep(now=timezone.now() + timedelta(days=30)) == 0


def test_the_task_runs_the_sweep(waiting):
    from surveys.tasks import surveys_reminders_sweep

    assert surveys_reminders_sweep.name == "surveys.reminders_sweep"
    # Sent long ago: the task (run in-process here) finds both unanswered invitations.
    Invitation.objects.update(sent_at=timezone.now() - timedelta(days=10))
    assert surveys_reminders_sweep.apply().get() == {"reminders": 2}
    assert surveys_reminders_sweep.apply().get() == {"reminders": 0}
    assert Reminder.objects.count() == 2
