"""The Celery app; its configuration is the ``CELERY_*`` block of the settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings.local")

app = Celery("coop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["coop.dashboard"])  # coop's dashboard package has its own tasks module
