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
