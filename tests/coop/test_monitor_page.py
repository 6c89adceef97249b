"""The task monitor page: sysadmin only, one row per beat entry, late and failure figures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from coop.models import TaskRun
from coop.monitor import selectors
from coop.roles import Role

SH = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=SH)


@pytest.fixture
def admin_client(client, make_staff):
    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))
    client.cookies["django_language"] = "en"
    return client


def run(name: str, started: dt.datetime, status: str = "ok", **fields) -> TaskRun:
    return TaskRun.objects.create(
        task_name=name,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=2),
        duration_ms=2000,
        status=status,
        **fields,
    )


def row_of(name: str) -> selectors.TaskOverview:
    return next(r for r in selectors.task_overview(now=NOW) if r.task_name == name)


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.SYSADMIN])
def test_the_monitor_is_refused_to_every_other_role(client, make_staff, role):
    client.force_login(make_staff(role, unit="HQ"))

    assert client.get(reverse("monitor:index")).status_code == 403
    assert client.get(reverse("monitor:task", args=["coop.taskruns_prune"])).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, db):
    response = client.get(reverse("monitor:index"))

    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/" in response["Location"]


def test_every_beat_entry_has_a_row_with_its_last_run(admin_client, settings):
    with time_machine.travel(NOW, tick=False):
        run("loans.tasks.loans_classify_nightly", NOW - dt.timedelta(hours=30), counts={"x": 1})
        run(
            "loans.tasks.loans_classify_nightly",
            NOW - dt.timedelta(hours=10, minutes=30),
            counts={"reclassified": 4},
        )
        response = admin_client.get(reverse("monitor:index"))

    assert response.status_code == 200
    rows = response.context["tasks"]
    assert [r.key for r in rows] == [r[0] for r in selectors.beat_entries()]
    assert {r.key for r in rows} == set(settings.CELERY_BEAT_SCHEDULE)
    classify = next(r for r in rows if r.key == "loans-classify-nightly")
    assert classify.schedule == "30 1 * * *"
    assert classify.last_run.counts == {"reclassified": 4}
    assert classify.late is False
    body = response.content.decode()
    assert "reclassified: 4" in body
    assert 'data-testid="status-loans-classify-nightly">OK' in body
    assert 'data-testid="never-coop-taskruns-prune"' in body


def test_failures_of_the_last_seven_days_and_the_last_failure(db):
    name = "customers.tasks_service.complaints_escalate_overdue"
    run(name, NOW - dt.timedelta(days=8), status="failed", error="Old: too old to count")
    run(name, NOW - dt.timedelta(days=6), status="failed", error="OperationalError: a")
    run(name, NOW - dt.timedelta(hours=3), status="failed", error="OperationalError: b")
    run(name, NOW - dt.timedelta(minutes=50), counts={"count": 2})

    row = row_of(name)

    assert row.failures_7d == 2
    assert row.last_failure.error == "OperationalError: b"
    assert row.last_run.status == "ok"
    assert row.last_run.counts == {"count": 2}


@pytest.mark.parametrize(
    ("last_started", "now", "late"),
    [
        # hourly at :05 — after the 11:05 run the next slot (12:05) has not come at 12:00
        (dt.datetime(2026, 3, 10, 11, 5, tzinfo=SH), NOW, False),
        # the 11:05 slot was missed 55 minutes ago, beyond the 15-minute grace
        (dt.datetime(2026, 3, 10, 10, 5, tzinfo=SH), NOW, True),
        # the 11:05 slot passed 14 minutes ago: within the grace
        (
            dt.datetime(2026, 3, 10, 10, 5, tzinfo=SH),
            dt.datetime(2026, 3, 10, 11, 19, tzinfo=SH),
            False,
        ),
        (
            dt.datetime(2026, 3, 10, 10, 5, tzinfo=SH),
            dt.datetime(2026, 3, 10, 11, 21, tzinfo=SH),
            True,
        ),
    ],
)
def test_late_relative_to_the_schedule(db, last_started, now, late):
    name = "customers.tasks_service.complaints_escalate_overdue"
    run(name, last_started)

    with time_machine.travel(now, tick=False):
        row = next(r for r in selectors.task_overview() if r.task_name == name)
    assert row.late is late


def test_nightly_task_is_late_after_a_missed_night_in_shanghai_time(db):
    name = "loans.tasks.loans_classify_nightly"
    # last ran 01:30 on the 9th (Beijing); at 12:00 on the 10th the 01:30 slot was missed
    run(name, dt.datetime(2026, 3, 9, 1, 30, tzinfo=SH))

    with time_machine.travel(NOW, tick=False):
        assert row_of(name).late is True
    with time_machine.travel(dt.datetime(2026, 3, 10, 1, 40, tzinfo=SH), tick=False):
        assert next(r for r in selectors.task_overview() if r.task_name == name).late is False


def test_a_task_history_lists_its_runs_newest_first(admin_client):
    name = "customers.segments_recompute_all"
    older = run(name, NOW - dt.timedelta(days=1), counts={"vip": 3})
    newer = run(name, NOW, status="failed", error="ValueError: bad rule")
    run("grid.followups_plan", NOW)

    response = admin_client.get(reverse("monitor:task", args=[name]))

    assert response.status_code == 200
    assert [r.pk for r in response.context["page_obj"]] == [newer.pk, older.pk]
    body = response.content.decode()
    assert "ValueError: bad rule" in body
    assert "vip: 3" in body


def test_an_unknown_task_answers_404(admin_client):
    assert admin_client.get(reverse("monitor:task", args=["no.such.task"])).status_code == 404


@pytest.mark.parametrize("runs_per_task", [1, 30])
def test_the_monitor_uses_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries, runs_per_task
):
    for name in {e[1] for e in selectors.beat_entries()}:
        for i in range(runs_per_task):
            run(name, NOW - dt.timedelta(hours=i), status="failed" if i % 3 else "ok")

    # session, user, 2 permission lookups, the role menu + 3 overview queries
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse("monitor:index")).status_code == 200
    name = "loans.tasks.loans_classify_nightly"
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse("monitor:task", args=[name])).status_code == 200
