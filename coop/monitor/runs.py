"""``periodic_task``: a Celery task whose every run is recorded as a ``TaskRun`` row.

Usage::

    from coop.monitor.runs import periodic_task

    @periodic_task("risk.inspections_sweep")
    def inspections_sweep() -> dict[str, int]:
        return services.inspections_sweep()  # {"overdue": 3, "escalated": 1}

The function returns a dict of counts (an int is stored as ``{"count": n}``). The run row is
written outside the task's own work: inserted as "running" before the work starts and updated to
"ok" or "failed" afterwards, each in autocommit, so a task whose work rolls back still leaves its
failure on the monitor page, and a worker killed mid-task leaves a "running" row behind.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000
# Run history kept by the nightly prune; overridable by a ``COOP_TASKRUN_KEEP_DAYS`` setting.
DEFAULT_KEEP_DAYS = 90


def _default_options() -> dict[str, Any]:
    return {
        "acks_late": getattr(settings, "CELERY_TASK_ACKS_LATE", True),
        "reject_on_worker_lost": getattr(settings, "CELERY_TASK_REJECT_ON_WORKER_LOST", True),
        "ignore_result": False,
    }


def _normalise_counts(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, bool):
        return {"count": int(result)}
    if isinstance(result, int):
        return {"count": result}
    if isinstance(result, Mapping):
        return {str(key): value for key, value in result.items()}
    raise TypeError(f"a periodic task returns a dict of counts, not {type(result).__name__}")


def _worker_name(task) -> str:
    hostname = getattr(task.request, "hostname", None) if task is not None else None
    return (hostname or f"{socket.gethostname()}:{os.getpid()}")[:200]


def _run_start(name: str, worker: str, celery_id: str) -> int | None:
    from coop.models import TaskRun

    try:
        return TaskRun.objects.create(
            task_name=name,
            started_at=timezone.now(),
            status=TaskRun.Status.RUNNING,
            worker=worker,
            celery_task_id=celery_id[:64],
        ).pk
    except DatabaseError:
        # The monitor must never stop the work it records.
        logger.exception("could not record the start of %s", name)
        return None


def _run_finish(run_id: int | None, *, status: str, counts: dict, error: str, elapsed: float):
    from coop.models import TaskRun

    if run_id is None:
        return
    try:
        TaskRun.objects.filter(pk=run_id).update(
            finished_at=timezone.now(),
            duration_ms=max(0, round(elapsed * 1000)),
            status=status,
            counts=counts,
            error=error[:ERROR_MAX_CHARS],
        )
    except DatabaseError:
        logger.exception("could not record the end of task run %s", run_id)


def record_run(name: str, func: Callable[..., Any], args, kwargs, *, task=None) -> Any:
    """Run ``func`` and record it; re-raise its exception after recording the failure.

    Returns what ``func`` returned, unchanged (callers of the task keep their result shape).
    """
    from coop.models import TaskRun

    celery_id = (getattr(task.request, "id", None) or "") if task is not None else ""
    run_id = _run_start(name, _worker_name(task), celery_id)
    started = time.monotonic()
    try:
        if connection.in_atomic_block:
            # Called inside a caller's transaction (an operator's shell, a test): a savepoint
            # keeps the failure row writable after the work is rolled back.
            with transaction.atomic():
                result = func(*args, **kwargs)
        else:
            result = func(*args, **kwargs)
        counts = _normalise_counts(result)
    except BaseException as exc:
        _run_finish(
            run_id,
            status=TaskRun.Status.FAILED,
            counts={},
            error=f"{type(exc).__name__}: {exc}",
            elapsed=time.monotonic() - started,
        )
        raise
    _run_finish(
        run_id,
        status=TaskRun.Status.OK,
        counts=counts,
        error="",
        elapsed=time.monotonic() - started,
    )
    return result


def periodic_task(name: str, **celery_options: Any):
    """Register ``func`` as the Celery task ``name`` and record each of its runs."""

    def decorator(func: Callable[..., Any]):
        holder: dict[str, Any] = {}

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            return record_run(name, func, args, kwargs, task=holder.get("task"))

        options = {**_default_options(), **celery_options}
        task = shared_task(name=name, **options)(run)
        holder["task"] = task
        return task

    return decorator


def taskruns_prune(*, keep_days: int | None = None) -> int:
    """Delete run rows older than the kept history; one set-based DELETE."""
    from coop.models import TaskRun

    days = (
        keep_days
        if keep_days is not None
        else getattr(settings, "COOP_TASKRUN_KEEP_DAYS", DEFAULT_KEEP_DAYS)
    )
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = TaskRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted


def taskruns_mark_abandoned() -> int:
    """Runs still "running" long after the hard time limit lost their worker (killed, OOM):
    mark them failed so the monitor shows it. Compare-and-set on the status; one UPDATE."""
    from coop.models import TaskRun

    limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", 15 * 60) or 15 * 60
    cutoff = timezone.now() - timedelta(seconds=2 * limit)
    return TaskRun.objects.filter(status=TaskRun.Status.RUNNING, started_at__lt=cutoff).update(
        status=TaskRun.Status.FAILED, error="WorkerLost: the run never finished"
    )
