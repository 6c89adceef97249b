"""The test suite: the same real Postgres and Redis, fast password hashing."""

import os

from coop.settings.base import *  # noqa: F403
from coop.settings.env import env, envsecret

DEBUG = False
SECRET_KEY = envsecret("SECRET_KEY", "test-only-insecure-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
COOP_DEMO_PASSWORDS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["*"]

# The tests' broker is its own Redis database, so a developer's running worker (database 0)
# never takes a test's message, and a test may flush it.
if not env("REDIS_URL"):
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL.rsplit("/", 1)[0] + "/1"  # noqa: F405

# Every test run prefixes its broker keys, so two runs sharing one Redis never take each other's
# messages. The workers a test starts inherit the prefix through the environment.
TEST_BROKER_PREFIX = os.environ.setdefault("COOP_TEST_BROKER_PREFIX", f"test{os.getpid()}:")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "global_keyprefix": TEST_BROKER_PREFIX,
}

# Each test run gets its own database, so two runs on one machine (a developer's and CI's, or
# two terminals) never drop each other's tables.
DATABASES["default"]["TEST"] = {"NAME": f"test_coop_{os.getpid()}"}  # noqa: F405

# Every URL, redirect and response body of the test run is scanned for unmasked ID and mobile
# numbers (tests/security/pdcapture.py fails the test that caused one). Outermost, so it sees
# the answer exactly as the client does.
MIDDLEWARE = ["coop.middleware.PersonalDataCaptureMiddleware", *MIDDLEWARE]  # noqa: F405
# The views whose purpose is to show one full number to a user who may see it (each view logged).
PERSONAL_DATA_REVEAL_VIEWS = frozenset({"customers:reveal", "api-customer-reveal"})
