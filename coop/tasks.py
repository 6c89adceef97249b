"""Project-wide tasks. Tasks are thin: they take ids and call a service."""

from __future__ import annotations

import logging
import os
import socket

from celery import shared_task
from django.db import transaction

logger = logging.getLogger(__name__)


@shared_task(name="coop.health_ping")
def health_ping(token: str) -> dict:
    """Proves the round trip request → Redis → worker → result."""
    return {"token": token, "worker": f"{socket.gethostname()}:{os.getpid()}"}


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send ``task`` after the current transaction commits; never fail the request over it.

    Postgres is the source of truth: whatever the task would do is also found by a periodic
    sweep, so a message lost because Redis is down only delays the work (DESIGN.md rule 2).
    """

    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs, retry=False, ignore_result=True)
        except Exception:
            logger.warning("could not enqueue %s; the next sweep will catch up", task.name)

    transaction.on_commit(send)


# Imported after the helpers above: the monitor's decorator module imports nothing from here.
from coop.monitor.runs import (  # noqa: E402
    periodic_task,
    taskruns_mark_abandoned,
    taskruns_prune,
)


@periodic_task("coop.taskruns_prune")
def taskruns_prune_nightly() -> dict[str, int]:
    """Nightly: keep the task-run history bounded (one DELETE; a re-run deletes nothing more)
    and mark runs whose worker died as failed."""
    return {"deleted": taskruns_prune(), "abandoned": taskruns_mark_abandoned()}
