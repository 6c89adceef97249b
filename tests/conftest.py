"""Shared fixtures: real Postgres, real Redis, real Celery workers, real Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # Every run scans URLs, pages, exports and logs for unmasked ID and mobile numbers.
    from tests.security.pdcapture import PersonalDataCapture

    if not config.pluginmanager.has_plugin("coop-personal-data-capture"):
        # pytest calls the plugin's own pytest_configure (a historic hook) on registration.
        config.pluginmanager.register(PersonalDataCapture(), "coop-personal-data-capture")


def pytest_sessionfinish(session, exitstatus):
    # Stop the embedded servers only if this test session started them.
    from coop import embedded

    if "redis" in embedded.STARTED:
        embedded.stop_redis()
    if "postgres" in embedded.STARTED:
        from django.db import connections

        connections.close_all()
        embedded.stop_postgres()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and before it is dropped at the end of the run, no other
    session left on it: a connection a worker, server or thread of some test still holds would
    make the DROP fail and leave the database behind on the server."""
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            )


# --- organisation and staff --------------------------------------------------------------------


@pytest.fixture
def org(db):
    """Head office, two branches (each with an outlet)."""
    from coop.demo import seed_organisation

    return seed_organisation()


@pytest.fixture
def make_staff(db, org):
    from coop.services import staff_create

    counter = iter(range(1, 10_000))

    def make(*roles: str, unit: str = "B01", username: str | None = None, password="pw-Secret-123"):
        n = next(counter)
        return staff_create(
            username=username or f"{'_'.join(roles) or 'staff'}_{n}",
            name=f"Staff {n}",
            org_unit=org[unit],
            roles=list(roles),
            password=password,
        )

    return make


# --- Celery worker -----------------------------------------------------------------------------


def database_url_for_tests() -> str:
    """A URL for the test database (pytest-django renames it), for processes the tests start."""
    from django.db import connection

    s = connection.settings_dict
    user, password, host = s["USER"], s.get("PASSWORD") or "", s.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@/{s['NAME']}?host={host}"
    return f"postgresql://{user}:{password}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, log: Path):
        self.proc = proc
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def start_worker(transactional_db, settings, tmp_path):
    """Start real ``celery worker`` processes on the test database and the test broker."""
    workers: list[WorkerProcess] = []

    def start(*, queues: str = "celery", extra_env: dict | None = None) -> WorkerProcess:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="coop.settings.test",
            DATABASE_URL=database_url_for_tests(),
            REDIS_URL=settings.CELERY_BROKER_URL,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        log = tmp_path / f"worker-{len(workers)}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "coop",
                "worker",
                "-l",
                "info",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "-Q",
                queues,
                "-n",
                f"test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        worker = WorkerProcess(proc, log)
        workers.append(worker)
        deadline = time.monotonic() + 60
        while "ready." not in worker.output():
            if proc.poll() is not None or time.monotonic() > deadline:
                worker.stop()
                raise RuntimeError(f"celery worker did not start:\n{worker.output()}")
            time.sleep(0.2)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_queue_clean(settings):
    """No message left by an earlier test of this run is picked up (only this run's keys)."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def clean() -> None:
        keys = list(client.scan_iter(match=f"{settings.TEST_BROKER_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)

    clean()
    yield client
    clean()
    client.close()


# --- throwaway Redis servers -------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server that a test may stop and start again."""
    from coop import embedded

    class Server:
        def __init__(self):
            self.port = embedded._free_port()
            self.dir = tmp_path / "redis"
            self.proc = None

        @property
        def url(self) -> str:
            return f"redis://127.0.0.1:{self.port}/0"

        def start(self):
            self.proc = embedded.start_redis_server(self.dir, self.port)

        def stop(self):
            if self.proc and self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(timeout=10)

    server = Server()
    server.start()
    yield server
    server.stop()


# --- browser -----------------------------------------------------------------------------------


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own browser, installed by `make browser`


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_executable(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    # An English browser: the pages must still default to Chinese.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    # Every browser test also fails on a script error or a console error (a blocked script or
    # style, a failed fetch, a chart that threw): what a user would meet as a broken page.
    # A test that makes a request fail on purpose names the console line it expects.
    errors: list[str] = []
    page.expected_console_errors = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    yield page
    context.close()
    errors = [
        error
        for error in errors
        if " console error: " not in error
        or not any(expected in error for expected in page.expected_console_errors)
    ]
    assert errors == [], "the browser reported errors:\n" + "\n".join(errors)


def login(page, username: str, password: str = "pw-Secret-123") -> None:
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")
