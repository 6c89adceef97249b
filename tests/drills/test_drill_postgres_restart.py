"""Drill: PostgreSQL restarts under load. gunicorn serves the API with the production settings
(persistent connections, health checks) from a private PostgreSQL; client threads call it
without pause while the server stops for a few seconds and starts again. Requests fail only
while it is down, and from shortly after its return none fails."""

from __future__ import annotations

import sys
import threading
import time

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from coop import embedded
from coop.roles import Role
from tests.drills.conftest import process_env

pytestmark = [pytest.mark.drill]

CLIENTS = 4
BEFORE_SECONDS = 3
DOWN_SECONDS = 3
AFTER_SECONDS = 6
# After pg_ctl reports the server ready, requests must succeed within this many seconds.
RECOVERY_BOUND = 3.0


def test_postgres_restart_error_window_is_bounded(
    transactional_db, private_postgres, processes, drill_log, settings, make_staff
):
    log = drill_log
    manager = make_staff(Role.BRANCH_MANAGER)
    token = Token.objects.create(user=manager).key
    private_postgres.copy_database(connection.settings_dict, "coop")
    log.say(
        f"private PostgreSQL on 127.0.0.1:{private_postgres.port} holds a copy of the test data"
    )

    port = embedded._free_port()
    web = processes(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "coop.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
        ],
        process_env(
            DJANGO_SETTINGS_MODULE="coop.settings.production",
            SECRET_KEY="drill-only-secret-key-that-is-long-enough-to-pass-checks-0123456789",
            DATABASE_URL=private_postgres.url("coop"),
            REDIS_URL=settings.CELERY_BROKER_URL,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            CONN_MAX_AGE=60,
            LOG_LEVEL="CRITICAL",
        ),
    )
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/api/v1/customers/?limit=5"
    headers = {"Authorization": f"Token {token}"}
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url, headers=headers, timeout=30).status_code == 200:
                break
        except requests.RequestException:
            pass  # still booting: the first request of each worker loads the URL modules
        assert time.monotonic() < deadline, web.output()[-3000:]
        time.sleep(0.3)
    log.say(f"gunicorn (2 workers x 4 threads, production settings, CONN_MAX_AGE=60) on :{port}")

    results: list[tuple[float, bool]] = []
    outcomes: list[tuple[float, str]] = []
    stop = threading.Event()
    start = time.monotonic()

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                sent = time.monotonic() - start
                try:
                    status = session.get(url, headers=headers, timeout=10).status_code
                    outcome = str(status)
                except requests.RequestException as exc:
                    status, outcome = None, type(exc).__name__
                finished = time.monotonic() - start
                # A request sent before the stop may still fail in it: it counts as "during".
                results.append((sent if status == 200 else finished, status == 200))
                outcomes.append((finished, outcome))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(BEFORE_SECONDS)
    down_at = time.monotonic() - start
    log.say(f"stopping PostgreSQL (fast shutdown) at +{down_at:.2f}s")
    private_postgres.stop()
    log.say(f"PostgreSQL stopped at +{time.monotonic() - start:.2f}s")
    time.sleep(DOWN_SECONDS)
    private_postgres.start()
    up_at = time.monotonic() - start
    log.say(f"PostgreSQL ready again at +{up_at:.2f}s")
    time.sleep(AFTER_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    failed = [t for t, ok in results if not ok]
    before = [ok for t, ok in results if t < down_at]
    after = [ok for t, ok in results if t >= up_at + RECOVERY_BOUND]
    window = (max(failed) - min(failed)) if failed else 0.0
    last_failure_after_up = (max(failed) - up_at) if failed else None
    log.say(f"first failures: {[o for o in outcomes if o[1] != '200'][:5]}")
    log.measure("requests_total", len(results))
    log.measure("requests_failed", len(failed))
    log.measure("database_down_seconds", round(up_at - down_at, 2))
    log.measure("error_window_seconds", round(window, 2))
    log.measure(
        "last_failure_seconds_after_ready",
        None if last_failure_after_up is None else round(last_failure_after_up, 2),
    )
    log.measure("requests_after_recovery_bound", len(after))

    assert before and all(before)
    assert after and all(after)
    assert window <= (up_at - down_at) + RECOVERY_BOUND
