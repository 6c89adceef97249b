"""Settings for ``scripts/bench_county.py``: the local settings on the benchmark's own database,
without debug (queries are counted explicitly), with the minimal JSON view the numbers are
compared with."""

from coop.settings.local import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "coop.scale.bench_urls"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
