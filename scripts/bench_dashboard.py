"""Time the management dashboard on the county dataset, with its pre-aggregated tables fresh.

    .venv/bin/python scripts/bench_dashboard.py                  # 30 requests per endpoint
    .venv/bin/python scripts/bench_dashboard.py --requests 60 --no-refresh

Uses the database ``coop_bench`` that ``scripts/bench_county.py`` fills (run that first; this
script never generates data): migrates it, refreshes the dashboard rollups (timing each refresh),
then requests the dashboard page, its API and the NPL trend through Django's test ``Client`` as
head-office management and as a branch manager, one request at a time, and prints p50/p95 and
the queries per request. Each endpoint is also measured with the rollups hidden (their freshness
rows renamed inside a transaction that is rolled back), which is what a fresh install computes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 300.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def measure(client, url: str, requests: int) -> tuple[int, list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        response = client.get(url)
    if response.status_code != 200:
        return response.status_code, [], 0
    timings = []
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    queries = len(ctx.captured_queries)
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return response.status_code, timings, queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="coop_bench")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--no-refresh", action="store_true", help="keep the rollups as they are")
    parser.add_argument("--no-live", action="store_true", help="skip the rollups-hidden pass")
    args = parser.parse_args(argv)
    if args.database in ("coop", "postgres") or args.database.startswith("test_"):
        raise SystemExit(f"refusing to use the database {args.database!r}")

    from scripts.bench_county import _database_url

    os.environ["DATABASE_URL"] = _database_url(args.database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "coop.scale.bench_settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Value
    from django.db.models.functions import Concat
    from django.test import Client

    from coop.dashboard import rollups
    from coop.models import DashboardRollup
    from coop.scale import bench_objects
    from coop.scale.generate import existing_seed

    call_command("migrate", verbosity=0, interactive=False)
    info = existing_seed()
    if info is None:
        raise SystemExit(f"{args.database} holds no dataset: run scripts/bench_county.py first")
    print(f"{args.database}: {info['households']:,} households (generated for {info['today']})")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if not args.no_refresh:
        for name, func in (
            ("villages", rollups.villages_refresh),
            ("account manager days", rollups.account_managers_refresh),
            ("month-end loan book", rollups.month_ends_refresh),
        ):
            started = time.perf_counter()
            rows = func()
            print(f"refresh {name:<22} {rows:>9,} rows  {time.perf_counter() - started:6.2f} s")

    users = bench_objects.users()
    keys = ("head_office", "branch_manager")
    clients = {}
    for key in keys:
        client = Client()
        client.force_login(users[key])
        client.cookies["django_language"] = "en"
        clients[key] = client
    endpoints = (
        ("dashboard page", "/dashboard/"),
        ("dashboard API", "/api/v1/dashboard/"),
        ("NPL trend", "/dashboard/npl-trend/"),
    )
    passes = [("rollups", False)] + ([] if args.no_live else [("live", True)])
    failed = False
    # The process as gunicorn's workers run it (coop/wsgi.py).
    from coop.wsgi import freeze_loaded_objects

    print(f"\nfroze {freeze_loaded_objects():,} loaded objects (coop.wsgi)")
    print(f"{args.requests} requests each, Django test Client, sequential")
    for label, hide in passes:
        with transaction.atomic():
            if hide:
                # What a fresh install computes; rolled back below.
                DashboardRollup.objects.update(name=Concat(Value("hidden:"), "name"))
            for key in keys:
                for name, url in endpoints:
                    status, timings, queries = measure(clients[key], url, args.requests)
                    if not timings:
                        print(f"  {label:<8} {name:<15} {key:<15} HTTP {status}")
                        failed = True
                        continue
                    p95 = percentile(timings, 0.95)
                    flag = "" if name == "NPL trend" or p95 <= TARGET_MS else "  over target"
                    print(
                        f"  {label:<8} {name:<15} {key:<15} p50 {statistics.median(timings):7.1f}"
                        f" ms  p95 {p95:7.1f} ms  {queries:3d} queries{flag}",
                        flush=True,
                    )
            transaction.set_rollback(True)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
