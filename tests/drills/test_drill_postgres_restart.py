"""Drill: PostgreSQL restarts under load. gunicorn serves the API with the production settings
(persistent connections, health checks) from a private PostgreSQL; client threads read it and a
teller's client records counter services without pause while the server stops for a few seconds
and starts again. Requests fail only while it is down, and from shortly after its return none
fails. Every write that answered 201 is in the database once, with its audit row; a write that
failed left nothing half-done (a service is there with its audit row, or not at all)."""

from __future__ import annotations

import sys
import threading
import time

import psycopg2
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
    teller = make_staff(Role.TELLER, unit="B01-01")
    teller_token = Token.objects.create(user=teller).key
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

    writes: list[tuple[float, str, int | None]] = []  # (sent, note, status or None)

    def writer() -> None:
        with requests.Session() as session:
            n = 0
            while not stop.is_set():
                n += 1
                note = f"drill-write-{n}"
                sent = time.monotonic() - start
                try:
                    status = session.post(
                        f"{base}/api/v1/service-interactions/",
                        json={
                            "business_type": "deposit",
                            "wait_minutes": 3,
                            "handling_minutes": 4,
                            "note": note,
                        },
                        headers={"Authorization": f"Token {teller_token}"},
                        timeout=10,
                    ).status_code
                except requests.RequestException:
                    status = None
                writes.append((sent, note, status))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    threads.append(threading.Thread(target=writer))
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

    # What the writes left in the database.
    with psycopg2.connect(private_postgres.url("coop")) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT s.note, count(*) OVER (PARTITION BY s.note),"
            "       (SELECT count(*) FROM coop_auditevent a"
            "         WHERE a.action = 'service_interaction.record'"
            "           AND a.object_id = s.id::text)"
            "  FROM customers_serviceinteraction s WHERE s.note LIKE 'drill-write-%'"
        )
        stored = {note: (copies, audits) for note, copies, audits in cursor.fetchall()}
    db.close()
    created = [note for _t, note, status in writes if status == 201]
    failed_writes = [note for _t, note, status in writes if status != 201]
    committed_unseen = [note for note in failed_writes if note in stored]
    log.measure("writes_total", len(writes))
    log.measure("writes_failed", len(failed_writes))
    log.measure("writes_committed_but_reported_failed", len(committed_unseen))
    log.measure("writes_stored", len(stored))

    assert before and all(before)
    assert after and all(after)
    assert window <= (up_at - down_at) + RECOVERY_BOUND
    assert created and failed_writes, "the writer must have run through the outage"
    assert all(note in stored for note in created), "a write answered 201 is missing"
    assert all(copies == 1 and audits == 1 for copies, audits in stored.values()), stored
    assert set(stored) <= {note for _t, note, _s in writes}
    late = [status == 201 for sent, _note, status in writes if sent >= up_at + RECOVERY_BOUND]
    assert late and all(late)
