"""The beat schedule: every entry names a task registered in the Celery app, and every periodic
task of the scheduling backbone records its runs for the task monitor."""

from __future__ import annotations

import pytest
from django.conf import settings

from coop.celery import app
from coop.models import TaskRun

# The sweeps owned by the scheduling backbone (risk and surveys register their own).
BACKBONE_TASKS = [
    "customers.tasks_service.complaints_escalate_overdue",
    "customers.segments_recompute_all",
    "customers.contacts_plan",
    "grid.followups_plan",
    "loans.tasks.loans_classify_nightly",
    "coop.taskruns_prune",
]


@pytest.fixture(scope="module")
def registered() -> set[str]:
    # What a worker imports at start: every installed app's tasks module.
    app.autodiscover_tasks(force=True)
    return set(app.tasks)


@pytest.mark.parametrize(
    "key", sorted(settings.CELERY_BEAT_SCHEDULE), ids=sorted(settings.CELERY_BEAT_SCHEDULE)
)
def test_every_beat_entry_names_a_registered_task(registered, key):
    entry = settings.CELERY_BEAT_SCHEDULE[key]

    assert entry["task"] in registered, f"{key}: {entry['task']} is not a registered task"


def test_the_backbone_sweeps_and_the_other_areas_sweeps_are_scheduled():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert (
        set(BACKBONE_TASKS)
        | {
            "risk.inspections_sweep",
            "risk.inspections_plan",
            "surveys.reminders_sweep",
        }
        <= scheduled
    )


@pytest.mark.parametrize("name", BACKBONE_TASKS)
def test_each_backbone_sweep_records_its_run(db, registered, name):
    result = app.tasks[name].apply()

    assert result.successful(), result.traceback
    run = TaskRun.objects.get(task_name=name)
    assert run.status == TaskRun.Status.OK
    assert run.finished_at is not None and run.duration_ms is not None
    expected = result.result if isinstance(result.result, dict) else {"count": result.result}
    assert run.counts == expected
    assert app.tasks[name].acks_late is True
