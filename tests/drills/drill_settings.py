"""Settings of the processes the drills start: the test settings plus, for the two-beats drill,
a beat schedule that fires every listed sweep each second."""

import os

from celery.schedules import schedule

from coop.settings.test import *  # noqa: F403

_BEAT_TASKS = [name for name in os.environ.get("COOP_DRILL_BEAT_TASKS", "").split(",") if name]
if _BEAT_TASKS:
    CELERY_BEAT_SCHEDULE = {
        f"drill-{name}": {"task": name, "schedule": schedule(run_every=1.0)} for name in _BEAT_TASKS
    }
    CELERY_BEAT_SCHEDULE_FILENAME = os.environ["COOP_DRILL_BEAT_FILE"]
