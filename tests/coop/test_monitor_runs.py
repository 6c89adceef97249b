"""``periodic_task`` records every run as a TaskRun row: ok or failed, counts, duration, worker."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from coop.models import OrgUnit, TaskRun
from coop.monitor.runs import (
    ERROR_MAX_CHARS,
    periodic_task,
    taskruns_mark_abandoned,
    taskruns_prune,
)
from coop.tasks import taskruns_prune_nightly

SH = dt.timezone(dt.timedelta(hours=8))


@periodic_task("tests.monitor_counts")
def counting(n: int) -> dict[str, int]:
    return {"created": n, "closed": 0}


@periodic_task("tests.monitor_plain_int")
def plain_int() -> int:
    return 7


@periodic_task("tests.monitor_failing")
def failing(message: str) -> dict[str, int]:
    # A write that must be rolled back with the failed run, while the run row itself stays.
    OrgUnit.objects.filter(code="B01").update(name="changed by a failing task")
    raise RuntimeError(message)


def test_a_run_records_ok_with_its_counts_and_duration(db):
    result = counting.apply(args=[3]).get()

    assert result == {"created": 3, "closed": 0}
    run = TaskRun.objects.get(task_name="tests.monitor_counts")
    assert run.status == TaskRun.Status.OK
    assert run.counts == {"created": 3, "closed": 0}
    assert run.error == ""
    assert run.finished_at >= run.started_at
    assert run.duration_ms is not None and run.duration_ms >= 0
    assert run.worker != ""


def test_a_plain_number_is_recorded_as_count_and_returned_unchanged(db):
    assert plain_int.apply().get() == 7
    assert TaskRun.objects.get(task_name="tests.monitor_plain_int").counts == {"count": 7}


def test_a_failed_run_is_recorded_and_its_work_rolled_back(org):
    name_before = OrgUnit.objects.get(code="B01").name

    with pytest.raises(RuntimeError, match="boom"):
        failing("boom")

    run = TaskRun.objects.get(task_name="tests.monitor_failing")
    assert run.status == TaskRun.Status.FAILED
    assert run.error == "RuntimeError: boom"
    assert run.counts == {}
    assert run.finished_at is not None
    assert OrgUnit.objects.get(code="B01").name == name_before


def test_a_failed_run_in_autocommit_still_leaves_its_failure(transactional_db, org):
    with pytest.raises(RuntimeError):
        failing("x" * (ERROR_MAX_CHARS * 2))

    # No outer transaction: the run row was committed on its own, before and after the work.
    with transaction.atomic():
        run = TaskRun.objects.get(task_name="tests.monitor_failing")
    assert run.status == TaskRun.Status.FAILED
    assert len(run.error) == ERROR_MAX_CHARS
    assert run.error.startswith("RuntimeError: xxx")


def test_the_task_keeps_its_name_and_the_reliability_options():
    assert counting.name == "tests.monitor_counts"
    assert counting.acks_late is True
    assert counting.reject_on_worker_lost is True


def test_prune_keeps_the_history_bounded(db):
    now = dt.datetime(2026, 6, 30, 3, 45, tzinfo=SH)
    for days in (200, 91, 90, 1):
        TaskRun.objects.create(
            task_name="tests.old",
            started_at=now - dt.timedelta(days=days, minutes=1),
            status=TaskRun.Status.OK,
        )

    with time_machine.travel(now, tick=False):
        assert taskruns_prune(keep_days=90) == 3
        assert taskruns_prune(keep_days=90) == 0  # a second run deletes nothing more
        result = taskruns_prune_nightly.apply().get()

    assert result == {"deleted": 0, "abandoned": 0}
    assert TaskRun.objects.filter(task_name="tests.old").count() == 1
    assert TaskRun.objects.get(task_name="coop.taskruns_prune").counts == {
        "deleted": 0,
        "abandoned": 0,
    }


def test_runs_whose_worker_died_are_marked_failed(db, settings):
    settings.CELERY_TASK_TIME_LIMIT = 600
    now = dt.datetime(2026, 6, 30, 3, 45, tzinfo=SH)
    lost = TaskRun.objects.create(
        task_name="tests.lost", started_at=now - dt.timedelta(minutes=21), status="running"
    )
    recent = TaskRun.objects.create(
        task_name="tests.recent", started_at=now - dt.timedelta(minutes=19), status="running"
    )

    with time_machine.travel(now, tick=False):
        assert taskruns_mark_abandoned() == 1
        assert taskruns_mark_abandoned() == 0

    lost.refresh_from_db()
    recent.refresh_from_db()
    assert (lost.status, lost.error) == ("failed", "WorkerLost: the run never finished")
    assert recent.status == "running"


@pytest.mark.worker
def test_a_real_worker_records_ok_and_failed_runs(start_worker, celery_queue_clean):
    from loans.tasks import loans_classify_nightly

    worker = start_worker()

    assert taskruns_prune_nightly.delay().get(timeout=60) == {"deleted": 0, "abandoned": 0}
    failed = loans_classify_nightly.delay(today="not-a-date")
    with pytest.raises(ValueError):
        failed.get(timeout=60)

    ok_run = TaskRun.objects.get(task_name="coop.taskruns_prune")
    assert ok_run.status == TaskRun.Status.OK
    assert ok_run.counts == {"deleted": 0, "abandoned": 0}
    assert ok_run.worker.startswith("test-")  # the worker's node name, not this process
    assert ok_run.duration_ms is not None
    failed_run = TaskRun.objects.get(task_name="loans.tasks.loans_classify_nightly")
    assert failed_run.status == TaskRun.Status.FAILED
    assert failed_run.error.startswith("ValueError: Invalid isoformat string")
    assert failed_run.celery_task_id == failed.id
    assert worker.proc.poll() is None
