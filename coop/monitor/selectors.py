"""Reads for the task monitor: the beat schedule joined with the recorded runs.

The overview is three queries whatever the history size: the latest run per task, the latest
failure per task (both ``DISTINCT ON`` over the (task_name, -started_at) index) and the failures
of the last seven days grouped by task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.schedules import crontab
from celery.schedules import schedule as interval_schedule
from django.conf import settings
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import TaskRun

FAILURE_WINDOW = timedelta(days=7)
# A run may start a little after its slot (beat tick, busy worker) without being "late".
LATE_GRACE = timedelta(minutes=15)


def describe_schedule(sched) -> str:
    """Cron-style text for a crontab ("30 1 * * *"), seconds for an interval."""
    if isinstance(sched, crontab):
        parts = (
            sched._orig_minute,
            sched._orig_hour,
            sched._orig_day_of_month,
            sched._orig_month_of_year,
            sched._orig_day_of_week,
        )
        return " ".join(str(part) for part in parts)
    if isinstance(sched, interval_schedule):
        return _("every %(seconds)s s") % {"seconds": int(sched.run_every.total_seconds())}
    return str(sched)


def is_late(sched, last_started: datetime | None, now: datetime) -> bool:
    """Whether a slot of ``sched`` after the last start has passed by more than the grace.

    A task never run is not called late: the monitor cannot know since when it was expected.
    """
    if last_started is None:
        return False
    remaining = sched.remaining_estimate(timezone.localtime(last_started))
    # remaining_estimate counts from the real clock; shift it to ``now`` for a frozen clock.
    drift = timezone.now() - now
    return remaining + drift < -LATE_GRACE


@dataclass
class TaskOverview:
    key: str
    task_name: str
    schedule: str
    last_run: TaskRun | None
    last_failure: TaskRun | None
    failures_7d: int
    late: bool


def beat_entries() -> list[tuple[str, str, object]]:
    """(entry key, task name, schedule) for every entry of CELERY_BEAT_SCHEDULE, by task name."""
    entries = getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}
    rows = [(key, entry["task"], entry["schedule"]) for key, entry in entries.items()]
    return sorted(rows, key=lambda row: (row[1], row[0]))


def task_overview(*, now: datetime | None = None) -> list[TaskOverview]:
    now = now or timezone.now()
    entries = beat_entries()
    names = {name for _, name, _ in entries}
    latest = {
        run.task_name: run
        for run in TaskRun.objects.filter(task_name__in=names)
        .order_by("task_name", "-started_at", "-id")
        .distinct("task_name")
    }
    failures = {
        run.task_name: run
        for run in TaskRun.objects.filter(task_name__in=names, status=TaskRun.Status.FAILED)
        .order_by("task_name", "-started_at", "-id")
        .distinct("task_name")
    }
    failure_counts = dict(
        TaskRun.objects.filter(
            task_name__in=names,
            status=TaskRun.Status.FAILED,
            started_at__gte=now - FAILURE_WINDOW,
        )
        .order_by()
        .values("task_name")
        .annotate(n=Count("pk"))
        .values_list("task_name", "n")
    )
    rows = []
    for key, name, sched in entries:
        last = latest.get(name)
        rows.append(
            TaskOverview(
                key=key,
                task_name=name,
                schedule=describe_schedule(sched),
                last_run=last,
                last_failure=failures.get(name),
                failures_7d=failure_counts.get(name, 0),
                late=is_late(sched, last.started_at if last else None, now),
            )
        )
    return rows


def task_runs(task_name: str) -> QuerySet[TaskRun]:
    """A task's run history, newest first; 404 for a name neither scheduled nor ever run."""
    scheduled = {name for _, name, _ in beat_entries()}
    runs = TaskRun.objects.filter(task_name=task_name).order_by("-started_at", "-id")
    if task_name not in scheduled and not runs.exists():
        raise Http404
    return runs
