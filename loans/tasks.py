"""Celery tasks of the loans app: thin, idempotent, calling one service each."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from coop.monitor.runs import periodic_task
from loans.services.classification import loans_classify_all


@periodic_task("loans.tasks.loans_classify_nightly")
def loans_classify_nightly(today: str | None = None) -> dict[str, int]:
    """Days past due and classification for every live loan (beat: daily 01:30 Asia/Shanghai).

    Idempotent: a second run on the same day finds nothing to change, so a redelivered message
    (acks_late) is harmless. ``today`` (ISO date) lets an operator re-run a missed night.
    """
    day = date.fromisoformat(today) if today else timezone.localdate()
    return loans_classify_all(today=day)
