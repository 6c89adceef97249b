"""``make run``: embedded servers, migrations, demo data, then web + worker + beat together.

Ctrl-C stops every process this started, the embedded PostgreSQL and Redis included; their data
stays under ``var/`` so the next run starts where this one stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings.local")


def _run(*args: str) -> None:
    subprocess.run([sys.executable, *args], check=True)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    from coop import embedded

    # `kill` and a closing terminal stop everything just as Ctrl-C does.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    started_pg = started_redis = False
    if not os.environ.get("DATABASE_URL"):
        started_pg = embedded.ensure_postgres()
        os.environ["DATABASE_URL"] = embedded.database_url()
    if not os.environ.get("REDIS_URL"):
        started_redis = embedded.ensure_redis()
        os.environ["REDIS_URL"] = embedded.redis_url()

    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    children: list[subprocess.Popen] = []
    try:
        _run("manage.py", "compile_catalogues")
        _run("manage.py", "migrate", "--no-input")
        _run("manage.py", "seed_demo")
        children = [
            subprocess.Popen([sys.executable, "manage.py", "runserver", f"{host}:{port}"]),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "coop",
                    "worker",
                    "-l",
                    "info",
                    "--concurrency",
                    "2",
                    "-n",
                    "worker@%h",
                ]
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "coop",
                    "beat",
                    "-l",
                    "info",
                    "-s",
                    str(embedded.var_dir() / "celerybeat-schedule"),
                ]
            ),
        ]
        _banner(host, port)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a process stopped; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if started_redis:
            embedded.stop_redis()
        if started_pg:
            embedded.stop_postgres()


def _banner(host: str, port: str) -> None:
    import django

    django.setup()
    from coop.demo import DEMO_PASSWORD, demo_logins

    lines = [
        "",
        f"  coop is running at http://{host}:{port}/",
        f"  demo logins (password for all: {DEMO_PASSWORD}):",
    ]
    lines += [f"    {user:<12} {roles} · {unit}" for user, roles, unit in demo_logins()]
    lines += ["  Ctrl-C stops the web server, worker, beat, PostgreSQL and Redis.", ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
