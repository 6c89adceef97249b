"""Benchmark: plan and sweep post-loan inspections over a large loan book.

Creates a throwaway database next to the developer's (the embedded PostgreSQL, or the server of
``DATABASE_URL``), migrates it, inserts the loans set-based (INSERT … SELECT generate_series,
only the columns a loan needs), then times ``inspections_plan`` and ``inspections_sweep`` and
their idempotent second runs, printing rows per second. The database is dropped at the end,
also when something fails.

    .venv/bin/python scripts/bench_inspections.py            # 1,000,000 loans
    .venv/bin/python scripts/bench_inspections.py --loans 50000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = f"coop_bench_inspections_{os.getpid()}"


def _server_urls() -> tuple[str, str]:
    """(URL of the maintenance database, URL of the bench database) on the same server."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        sys.path.insert(0, str(ROOT))
        from coop import embedded

        embedded.ensure_postgres()
        return embedded._pg_uri("postgres"), embedded._pg_uri(BENCH_DB)
    parts = urlsplit(base)
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path=f"/{BENCH_DB}")),
    )


@contextmanager
def _maintenance(url: str):
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


@contextmanager
def timed(label: str, rows_of=lambda result: 0):
    started = time.perf_counter()
    box: dict = {}
    yield box
    elapsed = time.perf_counter() - started
    rows = rows_of(box.get("result"))
    rate = f", {rows / elapsed:,.0f} rows/s" if rows else ""
    print(f"{label:<44} {elapsed:8.2f} s  {box.get('result')}{rate}", flush=True)


def _populate(loans: int) -> None:
    from django.db import connection

    from coop.demo import seed_organisation
    from coop.models import OrgUnit
    from coop.roles import Role, sync_roles
    from coop.services import staff_create
    from customers.models import Customer
    from loans.models import CreditLine, Product

    sync_roles()
    org = seed_organisation()
    branch = org["B01"]
    manager = staff_create(
        username="bench_am",
        name="Bench",
        org_unit=branch,
        roles=[Role.ACCOUNT_MANAGER],
        password=None,
    )
    product = Product.objects.create(
        code="bench",
        name="bench",
        kind="credit",
        customer_kind="individual",
        min_amount=1,
        max_amount=1_000_000,
        min_term_months=1,
        max_term_months=36,
        min_rate="0.01",
        max_rate="0.2",
        repayment_methods=["equal_installment"],
        security="none",
        default_route="low",
    )
    Customer.objects.bulk_create(
        Customer(
            kind="individual", name=f"客户{n}", branch=branch, owner=manager, credit_rating="good"
        )
        for n in range(1000)
    )
    first = Customer.objects.order_by("pk").first()
    line = CreditLine.objects.create(
        number="BENCH-LINE",
        customer=first,
        branch=branch,
        product=product,
        limit=1_000_000,
        valid_from="2020-01-01",
        valid_to="2030-12-31",
        granted_by=manager,
    )
    assert OrgUnit.objects.filter(pk=branch.pk).exists()
    params = {
        "n": loans,
        "line": line.pk,
        "branch": branch.pk,
        "product": product.pk,
        "user": manager.pk,
    }
    with connection.cursor() as cursor:
        # Amounts step through ¥4,000 … ¥200,000 (both sides of the threshold); disbursed over
        # the last 400 days; one loan in twenty overdue by 45 days.
        cursor.execute(
            """
            INSERT INTO loans_contract (number, credit_line_id, customer_id, branch_id, amount,
                   term_months, annual_rate, repayment_method, signed_on, created_by_id,
                   created_at)
            SELECT 'BC' || g, %(line)s, c.ids[1 + g %% array_length(c.ids, 1)], %(branch)s,
                   (g %% 50 + 1) * 4000.00, 12, 0.06, 'equal_installment',
                   CURRENT_DATE - (g %% 400), %(user)s, now()
              FROM generate_series(1, %(n)s) AS g,
                   (SELECT array_agg(id ORDER BY id) AS ids FROM customers_customer) AS c
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO loans_loan (number, contract_id, customer_id, branch_id, product_id,
                   credit_line_id, account_manager_id, principal, annual_rate, term_months,
                   repayment_method, day_count, state, disbursed_on, maturity_date,
                   outstanding_principal, days_past_due, classification,
                   classification_locked, created_at)
            SELECT 'BL' || c.id, c.id, c.customer_id, c.branch_id, %(product)s, c.credit_line_id,
                   %(user)s, c.amount, c.annual_rate, 12, c.repayment_method, '30_360',
                   CASE WHEN c.id %% 20 = 0 THEN 'overdue' ELSE 'active' END,
                   c.signed_on, c.signed_on + 365, c.amount,
                   CASE WHEN c.id %% 20 = 0 THEN 45 ELSE 0 END,
                   CASE WHEN c.id %% 20 = 0 THEN 'special_mention' ELSE 'normal' END,
                   false, now()
              FROM loans_contract AS c
            """,
            params,
        )
        cursor.execute("ANALYZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    args = parser.parse_args()

    maintenance_url, bench_url = _server_urls()
    with _maintenance(maintenance_url) as cursor:
        cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    print(f"database {BENCH_DB} created", flush=True)
    try:
        os.environ["DATABASE_URL"] = bench_url
        # Nothing here talks to Redis; keep the settings from starting one.
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/15")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings.local")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        from risk.inspections import inspections_plan, inspections_sweep

        with timed("migrate"):
            call_command("migrate", verbosity=0)
        with timed(f"insert {args.loans:,} contracts and loans", lambda r: args.loans * 2):
            _populate(args.loans)
        today = timezone.localdate()
        planned = lambda r: sum(r.values()) if r else 0  # noqa: E731
        swept = lambda r: sum(r.values()) if r else 0  # noqa: E731
        with timed("inspections_plan (first run)", planned) as box:
            box["result"] = inspections_plan(today=today)
        with timed("inspections_plan (second run: nothing)", lambda r: args.loans) as box:
            box["result"] = inspections_plan(today=today)
        later = today + timedelta(days=40)
        with timed(f"inspections_sweep on {later} (first run)", swept) as box:
            box["result"] = inspections_sweep(today=later)
        with timed("inspections_sweep (second run: nothing)", lambda r: args.loans) as box:
            box["result"] = inspections_sweep(today=later)
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with _maintenance(maintenance_url) as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        print(f"database {BENCH_DB} dropped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
