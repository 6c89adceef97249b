"""Fault drills: real processes on loopback (a private Redis, a private PostgreSQL, gunicorn,
Celery workers and beat), each drill printing what it did and what it observed.

Every ``drill_log.say(...)`` line goes to stdout (visible with ``-s``) and to
``var/drills/<drill>.log``; ``drill_log.measure(name, value)`` records a figure in
``var/drills/summary.jsonl``, which ``scripts/drills.py`` turns into the summary table.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# The grid tests' world: a grid, its staff and a village, for whole-village crediting.
from tests.grid.conftest import grid_roles, world  # noqa: F401

# The approval-case builders of the risk tests (customers with A/B managers, the default
# routing rules, cases driven to a stage through the real services).
from tests.risk.conftest import (  # noqa: F401
    drive,
    make_application,
    make_customer,
    open_case,
    products,
    risk_config,
    team,
)

ROOT = Path(__file__).resolve().parent.parent.parent
DRILL_DIR = ROOT / "var" / "drills"
SUMMARY = DRILL_DIR / "summary.jsonl"
# The settings module of the processes a drill starts (short broker timeouts, fast beat).
DRILL_SETTINGS = "tests.drills.drill_settings"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "drill: a fault drill against real processes (scripts/drills.py runs them)"
    )


# --- the drill log -----------------------------------------------------------------------------


class DrillLog:
    def __init__(self, name: str):
        self.name = name
        self.started = time.monotonic()
        DRILL_DIR.mkdir(parents=True, exist_ok=True)
        self.path = DRILL_DIR / f"{name}.log"
        self.path.write_text("")
        self._lock = threading.Lock()

    def say(self, message: str) -> None:
        line = f"[{self.name} +{time.monotonic() - self.started:6.2f}s] {message}"
        with self._lock:
            print(line, flush=True)
            with self.path.open("a") as fh:
                fh.write(line + "\n")

    def measure(self, key: str, value) -> None:
        self.say(f"observed {key} = {value}")
        with self._lock, SUMMARY.open("a") as fh:
            fh.write(json.dumps({"drill": self.name, "key": key, "value": value}) + "\n")


@pytest.fixture
def drill_log(request):
    name = request.node.name.removeprefix("test_").split("[")[0]
    return DrillLog(name)


# --- the Celery app's broker -------------------------------------------------------------------


def use_broker(url: str) -> None:
    """Point this process's Celery publisher at ``url`` (dropping cached connection pools)."""
    from kombu import pools

    from coop.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url
    app.conf.result_backend = url
    # The result backend is cached per app (or per thread) on first use.
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def private_broker(settings, redis_server):
    """The app (pages, enqueue, /healthz) and the workers a drill starts use a private Redis."""
    shared = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_RESULT_BACKEND = redis_server.url
    use_broker(redis_server.url)
    yield redis_server
    # Closing pooled connections to a stopped server waits out its timeouts: bring it back first.
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    use_broker(shared)


# --- processes -----------------------------------------------------------------------------------


def child_pids(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def process_env(**extra) -> dict:
    from tests.conftest import database_url_for_tests

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=DRILL_SETTINGS,
        DATABASE_URL=database_url_for_tests(),
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Process:
    """A subprocess with its output in a file, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{text!r} never appeared:\n{self.output()[-4000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def processes(tmp_path):
    """Start processes a drill needs; all are stopped when the drill ends."""
    started: list[Process] = []

    def start(name: str, args: list[str], env: dict) -> Process:
        process = Process(args, env, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "coop", *args]


@pytest.fixture
def drill_worker(processes, settings, transactional_db):
    """A real Celery worker (prefork, one child) on the test database and the current broker."""
    import uuid

    def start(name: str = "worker", *, wait: bool = True, **env) -> Process:
        node = f"drill-{uuid.uuid4().hex[:8]}@%h"
        worker = processes(
            name,
            celery(
                "worker",
                "-l",
                "info",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "-n",
                node,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ),
            process_env(REDIS_URL=settings.CELERY_BROKER_URL, **env),
        )
        worker.node = node.replace("%h", socket.gethostname())
        if wait:
            worker.wait_for("ready.")
        return worker

    return start


# --- a private PostgreSQL ----------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL cluster of the drill's own (the pgserver binaries, data in tmp, TCP on
    loopback), so restarting it disturbs nobody; the shared embedded server is never touched."""

    def __init__(self, directory: Path):
        from coop import embedded

        embedded._pgserver()  # the runtime directory pgserver expects
        self.dir = directory
        self.port = embedded._free_port()
        # pgserver runs the server as an unprivileged user when we are root.
        self.user = "pgserver" if os.geteuid() == 0 else None

    def _run(self, command: str, args: list[str], **kwargs) -> str:
        from pgserver import _commands

        return getattr(_commands, command)(args, user=self.user, **kwargs)

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        if self.user:
            import shutil

            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.dir)
            shutil.chown(self.dir, self.user, self.user)
        self._run(
            "initdb",
            ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
            pgdata=self.dir,
        )

    def start(self) -> None:
        self._run(
            "pg_ctl",
            [
                "-w",
                "-o",
                f"-h 127.0.0.1 -p {self.port} -k {self.dir}",
                "-l",
                str(self.dir / "log"),
                "start",
            ],
            pgdata=self.dir,
            timeout=60,
        )

    def stop(self) -> None:
        self._run("pg_ctl", ["-w", "-m", "fast", "stop"], pgdata=self.dir, timeout=60)

    def running(self) -> bool:
        return (self.dir / "postmaster.pid").exists()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def copy_database(self, source: dict, database: str) -> None:
        """Dump the test database (schema and rows) into this cluster."""
        from pgserver._commands import POSTGRES_BIN_PATH

        self._run("createdb", ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database])
        dump = subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "pg_dump"),
                "-h",
                source["HOST"] or "127.0.0.1",
                "-p",
                str(source.get("PORT") or 5432),
                "-U",
                source["USER"],
                "--no-owner",
                "--format=custom",
                source["NAME"],
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "pg_restore"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "--no-owner",
                "-d",
                database,
            ],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )


@pytest.fixture
def private_postgres():
    import uuid

    # A short path: the Unix socket lives in the data directory.
    server = PrivatePostgres(Path("/tmp") / f"coop-drill-pg-{uuid.uuid4().hex[:8]}")
    server.init()
    server.start()
    yield server
    if server.running():
        server.stop()
    import shutil

    shutil.rmtree(server.dir, ignore_errors=True)
