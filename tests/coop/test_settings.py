"""Settings: the embedded default, an explicit DATABASE_URL, and production's deploy checks."""

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT

PROBE = (
    "import django, json; django.setup();"
    "from django.conf import settings; from django.db import connection;"
    "c = connection.cursor(); c.execute('select current_database()');"
    "print(json.dumps({'db': c.fetchone()[0], 'host': settings.DATABASES['default']['HOST'],"
    " 'redis': settings.REDIS_URL}))"
)


def _run(
    env_overrides: dict,
    *args: str,
    unset=("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"),
):
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_embedded_default_starts_and_uses_the_local_servers():
    # Given no DATABASE_URL/REDIS_URL, when a process loads the settings,
    # then it talks to the embedded PostgreSQL under var/ and a loopback Redis.
    result = _run({"DJANGO_SETTINGS_MODULE": "coop.settings.local"}, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip().splitlines()[-1]
    assert '"db": "coop"' in out
    assert str(ROOT / "var" / "pg") in out
    assert '"redis": "redis://127.0.0.1:' in out


def test_database_url_is_used_when_set():
    # Given DATABASE_URL naming another database on the same server, that database is used.
    from coop import embedded

    url = embedded._pg_uri("postgres")
    result = _run(
        {
            "DJANGO_SETTINGS_MODULE": "coop.settings.local",
            "DATABASE_URL": url,
            "REDIS_URL": "redis://127.0.0.1:1/0",
        },
        "-c",
        PROBE,
        unset=("DJANGO_ALLOW_ASYNC_UNSAFE",),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip().splitlines()[-1]
    assert '"db": "postgres"' in out
    assert '"redis": "redis://127.0.0.1:1/0"' in out


def test_production_refuses_to_start_without_secret_key():
    result = _run(
        {"DJANGO_SETTINGS_MODULE": "coop.settings.production", "SECRET_KEY": ""},
        "manage.py",
        "check",
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_check_deploy():
    result = _run(
        {
            "DJANGO_SETTINGS_MODULE": "coop.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "coop.example.cn",
        },
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


CELERY_PROBE = (
    "import django; django.setup(); from coop.celery import app;"
    "o = app.conf.broker_transport_options;"
    "print(app.conf.task_time_limit, o['visibility_timeout'],"
    " o.get('unacked_restore_interval'), o.get('unacked_restore_throttle'))"
)


def test_a_lost_workers_messages_return_after_the_time_limit_and_no_sooner():
    # The default: 15-minute hard limit, messages of a lost worker restored after 20 minutes.
    default = _run({"DJANGO_SETTINGS_MODULE": "coop.settings.test"}, "-c", CELERY_PROBE)
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["900", "1200", "None", "None"]

    tuned = _run(
        {
            "DJANGO_SETTINGS_MODULE": "coop.settings.test",
            "CELERY_TASK_TIME_LIMIT": "60",
            "CELERY_VISIBILITY_TIMEOUT": "90",
            "CELERY_RESTORE_EVERY": "5",
        },
        "-c",
        CELERY_PROBE,
    )
    assert tuned.stdout.split() == ["60", "90", "5", "1"], tuned.stderr

    # A timeout at or below the time limit would hand a running task to a second worker.
    refused = _run(
        {"DJANGO_SETTINGS_MODULE": "coop.settings.test", "CELERY_VISIBILITY_TIMEOUT": "900"},
        "-c",
        CELERY_PROBE,
    )
    assert refused.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT" in refused.stderr
