"""County-scale benchmark: load the county dataset into its own database and measure the app.

    .venv/bin/python scripts/bench_county.py                 # 100,000 households (make bench)
    .venv/bin/python scripts/bench_county.py --quick         # 5,000 households, 10 requests each
    .venv/bin/python scripts/bench_county.py --households 20000 --requests 50 --fresh

The dataset lives in the database ``coop_bench`` (``--database``) on the embedded PostgreSQL of
``coop.embedded`` (or on the server of ``DATABASE_URL``): never the developer's ``coop`` database
nor a test database. A database that already holds a dataset of the same size and seed is reused;
``--fresh`` drops and recreates it.

Requests go through Django's test ``Client`` in this process (the full middleware stack, sessions,
templates and the database, no network and no web server), one at a time, as three users: head
office management, a branch manager and an account manager. Each endpoint is warmed up, then
timed over ``--requests`` requests (p50, p95 and queries per request), and its throughput is
compared with a minimal ``JsonResponse({"ok": 1})`` view measured the same way in the same run.
The ten-minute dashboard rollups are refreshed first, as the beat keeps them. The nightly sweeps
are timed once each (rows per second).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = {"dashboard": 300.0, "page": 100.0, "api": 100.0, "baseline": None}


def _database_url(name: str) -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        from coop import embedded

        base = embedded.database_url()
    parts = urlsplit(base)
    if parts.path.strip("/") == name:
        return base
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connect(url: str):
    import psycopg2

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    return conn


def prepare_database(name: str, *, fresh: bool) -> str:
    if name in ("coop", "postgres") or name.startswith("test_"):
        raise SystemExit(f"refusing to use the database {name!r}: give the benchmark its own")
    url = _database_url(name)
    conn = _admin_connect(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and fresh:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cursor.execute(f'DROP DATABASE "{name}"')
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return url


@dataclass
class Result:
    group: str
    name: str
    user: str
    status: int
    p50: float
    p95: float
    mean: float
    queries: int
    requests: int

    def ratio(self, baseline: Result) -> float:
        return baseline.mean / self.mean if self.mean else 0.0


def measure(client, url: str, *, requests: int, warmup: int = 3) -> tuple[int, list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    status = 0
    for _ in range(warmup):
        status = client.get(url).status_code
    if status != 200:
        # The role has no access (403) or the page failed: reported, not timed.
        return status, [], 0
    timings = []
    queries = 0
    for i in range(requests):
        if i == 0:
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            queries = len(ctx.captured_queries)
        else:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return status, timings, queries


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def targets(users: dict) -> list[tuple[str, str, str, str]]:
    """(group, name, user key, url) for every endpoint that exists in this tree."""
    from django.urls import NoReverseMatch, reverse

    from coop.scale import bench_objects

    found: list[tuple[str, str, str, str]] = []
    for key, user in users.items():
        objects = bench_objects.sample(user)
        for group, name, url_name, arg in bench_objects.ENDPOINTS:
            kwargs = {}
            if arg is not None:
                pk = objects.get(arg)
                if pk is None:
                    continue
                kwargs = {"pk": pk}
            try:
                url = reverse(url_name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            found.append((group, name, key, url))
    return found


def run_sweeps(today) -> list[tuple[str, int, float, str]]:
    from coop.scale import bench_objects

    rows = []
    for name, func in bench_objects.sweeps(today):
        started = time.perf_counter()
        count, note = func()
        rows.append((name, count, time.perf_counter() - started, note))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database", default="coop_bench")
    parser.add_argument("--quick", action="store_true", help="5,000 households, 10 requests")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the dataset")
    parser.add_argument("--no-sweeps", action="store_true")
    parser.add_argument("--sweeps-only", action="store_true", help="time the nightly sweeps only")
    args = parser.parse_args(argv)
    if args.quick:
        args.households = min(args.households, 5_000)
        args.requests = min(args.requests, 10)
        if args.database == "coop_bench":
            args.database = "coop_bench_quick"

    os.environ["DATABASE_URL"] = prepare_database(args.database, fresh=args.fresh)
    os.environ["DJANGO_SETTINGS_MODULE"] = "coop.scale.bench_settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import logging

    # 403s of roles without access and axes' login notes would drown the table.
    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.test import Client

    from coop.scale import bench_objects
    from coop.scale.generate import existing_seed

    print(f"database {args.database}: migrating…", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    info = existing_seed()
    seed_seconds = None
    if info is None:
        print(f"generating {args.households:,} households (seed {args.seed})…", flush=True)
        started = time.perf_counter()
        call_command("seed_scale", households=args.households, seed=args.seed)
        seed_seconds = time.perf_counter() - started
        info = existing_seed()
    elif info["households"] != args.households or info["seed"] != args.seed:
        raise SystemExit(
            f"{args.database} holds {info['households']:,} households with seed {info['seed']}; "
            "run with --fresh to rebuild it, or pass the same --households/--seed"
        )
    else:
        print(f"reusing the dataset in {args.database} (generated for {info['today']})")
    from datetime import date

    today = date.fromisoformat(info["today"])
    # The ten-minute rollups, as the beat keeps them in production (the grid coverage page and
    # the dashboard read them).
    from coop.dashboard import rollups

    started = time.perf_counter()
    refreshed = rollups.rollups_refresh()
    print(
        "refreshed the ten-minute rollups in "
        f"{time.perf_counter() - started:.2f} s: "
        + ", ".join(f"{name} {count:,}" for name, count in refreshed.items()),
        flush=True,
    )
    users = bench_objects.users()
    clients = {}
    for key, user in users.items():
        client = Client()
        client.force_login(user)
        client.cookies["django_language"] = "en"
        clients[key] = client

    results: list[Result] = []

    def record(group: str, name: str, key: str, url: str) -> Result:
        status, timings, queries = measure(clients[key], url, requests=args.requests)
        if not timings:
            result = Result(group, name, key, status, 0.0, 0.0, 0.0, 0, 0)
            results.append(result)
            print(f"  {name:<34} {key:<15} {status} not timed", flush=True)
            return result
        result = Result(
            group,
            name,
            key,
            status,
            statistics.median(timings),
            percentile(timings, 0.95),
            statistics.fmean(timings),
            queries,
            len(timings),
        )
        results.append(result)
        print(
            f"  {name:<34} {key:<15} {status} p50 {result.p50:7.1f} ms  "
            f"p95 {result.p95:7.1f} ms  {queries:3d} queries",
            flush=True,
        )
        return result

    # The process as gunicorn's workers run it (coop/wsgi.py): views loaded, the loaded objects
    # frozen out of the garbage collector's full collections.
    from coop.wsgi import freeze_loaded_objects

    frozen = freeze_loaded_objects()
    print(f"\nfroze {frozen:,} loaded objects (coop.wsgi.freeze_loaded_objects)")
    print("measuring (Django test Client, in-process, sequential):", flush=True)
    baseline = record("baseline", "minimal JSON view", "head_office", "/bench/minimal/")
    for group, name, key, url in [] if args.sweeps_only else targets(users):
        record(group, name, key, url)
    # The yardstick once more at the end, so drift during the run shows.
    baseline_end = record("baseline", "minimal JSON view (end)", "head_office", "/bench/minimal/")

    sweeps = [] if args.no_sweeps else run_sweeps(today)
    print_report(args, info, seed_seconds, results, baseline, baseline_end, sweeps)
    failed = [r for r in results if r.status not in (200, 403)]
    return 1 if failed else 0


def print_report(args, info, seed_seconds, results, baseline, baseline_end, sweeps) -> None:
    counts = info.get("counts", {})
    print("\n" + "=" * 100)
    print(
        f"county dataset: {info['households']:,} households, seed {info['seed']}, "
        f"generated for {info['today']}"
        + (f", in {seed_seconds:.0f} s" if seed_seconds else " (reused)")
    )
    shown = (
        "branches",
        "staff",
        "villages",
        "customers",
        "members",
        "credit_lines",
        "live_loans",
        "loans",
        "installments",
        "repayments",
        "approval_cases",
        "approval_log",
        "service_interactions",
        "complaints",
    )
    print("  " + ", ".join(f"{k} {counts[k]:,}" for k in shown if k in counts))
    other = {k: v for k, v in counts.items() if k not in shown}
    if other:
        print("  " + ", ".join(f"{k} {v:,}" for k, v in other.items()))
    print(
        f"\n{'endpoint':<34} {'user':<15} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'queries':>7} {'vs JSON':>8} {'target':>7}  ok"
    )
    print("-" * 100)
    for r in results:
        if not r.requests:
            reason = "no access for this role" if r.status == 403 else "FAILED"
            print(
                f"{r.name:<34} {r.user:<15} {r.status:>6} {'':>8} {'':>8} {'':>7} {'':>8} "
                f"{'':>7}  {reason}"
            )
            continue
        target = TARGET_MS.get(r.group)
        ok = "" if target is None else ("yes" if r.p95 <= target and r.status == 200 else "NO")
        print(
            f"{r.name:<34} {r.user:<15} {r.status:>6} {r.p50:8.1f} {r.p95:8.1f} "
            f"{r.queries:7d} {r.ratio(baseline):8.3f} {'' if target is None else int(target):>7}"
            f"  {ok}"
        )
    print(
        f"\n'vs JSON' = the endpoint's requests per second / the minimal JSON view's "
        f"({1000 / baseline.mean:.0f} req/s at the start, {1000 / baseline_end.mean:.0f} at the "
        f"end); {args.requests} timed requests after 3 warm-up ones each."
    )
    if sweeps:
        print(f"\n{'nightly sweep':<40} {'rows':>10} {'seconds':>9} {'rows/s':>10}  note")
        print("-" * 100)
        for name, count, seconds, note in sweeps:
            rate = count / seconds if seconds else 0
            print(f"{name:<40} {count:>10,} {seconds:9.2f} {rate:10,.0f}  {note}")


if __name__ == "__main__":
    sys.exit(main())
