"""Benchmark: reconcile and grant a whole 800-household village, each in one HTTP request.

Usage: .venv/bin/python scripts/bench_village.py [--households 800]

Runs against the configured database server (DATABASE_URL, else the embedded PostgreSQL under
var/) in a throwaway database created, migrated and dropped by this script — it never touches
the app's own database. The village is built quickly (bulk inserts: building it is not what is
measured); then the two requests the issue names are timed through the real stack (URL routing,
authentication, permissions, serializers, services, PostgreSQL):

- POST /api/v1/grid/campaigns/<id>/reconcile/  — reconcile every household in one request;
- POST /api/v1/grid/campaigns/<id>/sign/       — grant every pre-credit (one transaction per
  household, credit line + rating + audit rows each).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coop.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402


def build_village(n: int):
    from coop.demo import seed_organisation
    from coop.roles import Role, sync_roles
    from coop.services import staff_create
    from customers.models import Customer
    from customers.validators import id_check_character
    from grid.models import CampaignHousehold, Evaluation, Household, HouseholdMember
    from grid.services.campaigns import (
        campaign_create,
        campaign_evaluators_set,
        campaign_households_add,
        campaign_start_crediting,
    )
    from grid.services.structure import grid_create, village_create
    from loans.demo_origination import seed_products

    units = seed_organisation()
    sync_roles()
    staff = [
        staff_create(
            username=f"bench_am{i}",
            name=f"评议员{i}",
            org_unit=units["B01"],
            roles=[Role.ACCOUNT_MANAGER],
            password=None,
        )
        for i in range(3)
    ]
    manager = staff_create(
        username="bench_manager",
        name="支行行长",
        org_unit=units["B01"],
        roles=[Role.BRANCH_MANAGER],
        password=None,
    )
    product = seed_products()["farmer-microcredit"]
    grid = grid_create(
        actor=manager, branch=units["B01"], code="BENCH", name="压测网格", account_manager=staff[0]
    )
    from grid.services.structure import grid_officer_add

    for officer in staff[1:]:
        grid_officer_add(actor=manager, grid=grid, role="grid_staff", user=officer)
    village = village_create(actor=manager, grid=grid, town="城关镇", name="压测村")

    customers = []
    for i in range(n):
        first17 = f"341226{date(1960, 1, 1) + timedelta(days=i * 11):%Y%m%d}{(i % 499) * 2 + 1:03d}"
        customers.append(
            Customer(
                kind="individual",
                name=f"农户{i:04d}",
                branch=units["B01"],
                owner=staff[0],
                id_number=first17 + id_check_character(first17),
            )
        )
    Customer.objects.bulk_create(customers, batch_size=1000)
    households = Household.objects.bulk_create(
        [
            Household(
                village=village,
                head_name=c.name,
                head=c,
                village_group=f"{i % 12 + 1}组",
                completeness=100,
                member_count=1,
            )
            for i, c in enumerate(customers)
        ],
        batch_size=1000,
    )
    HouseholdMember.objects.bulk_create(
        [
            HouseholdMember(
                household=h, name=h.head_name, relation="head", birth_year=1970, customer=h.head
            )
            for h in households
        ],
        batch_size=1000,
    )
    campaign = campaign_create(
        actor=staff[0],
        village=village,
        name="压测村整村授信",
        project_manager=staff[0],
        product=product,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=60),
    )
    campaign_evaluators_set(actor=staff[0], campaign=campaign, evaluators=staff)
    campaign_households_add(actor=staff[0], campaign=campaign)
    campaign_start_crediting(actor=staff[0], campaign=campaign)
    # Three evaluations per household: nine in ten close, one in ten far apart.
    now = timezone.now()
    evaluations = []
    for i, entry in enumerate(CampaignHousehold.objects.filter(campaign=campaign).order_by("pk")):
        limits = ("3000", "5000", "9000") if i % 10 == 9 else ("4500", "5000", "5000")
        for evaluator, limit in zip(staff, limits, strict=True):
            evaluations.append(
                Evaluation(
                    campaign=campaign,
                    entry=entry,
                    evaluator=evaluator,
                    rating="good",
                    suggested_limit=Decimal(limit),
                    submitted_at=now,
                )
            )
    Evaluation.objects.bulk_create(evaluations, batch_size=2000)
    CampaignHousehold.objects.filter(campaign=campaign).update(submitted_count=3, evaluated_at=now)
    return campaign, staff[0]


def timed_post(client, url: str, **kwargs) -> tuple[float, dict]:
    start = time.perf_counter()
    response = client.post(url, format="json", **kwargs)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code} {response.content[:500]!r}")
    return elapsed, response.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=800)
    args = parser.parse_args()

    from rest_framework.test import APIClient

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"bench_grid_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        start = time.perf_counter()
        campaign, manager = build_village(args.households)
        print(f"built a {args.households}-household village in {time.perf_counter() - start:.1f} s")
        client = APIClient()
        client.force_authenticate(manager)

        seconds, counts = timed_post(client, f"/api/v1/grid/campaigns/{campaign.pk}/reconcile/")
        print(
            f"reconcile: {seconds:.2f} s for {counts['reconciled']} households "
            f"({counts['close']} close, {counts['compromise']} to the batch-credit group)"
        )
        seconds, result = timed_post(
            client,
            f"/api/v1/grid/campaigns/{campaign.pk}/sign/",
            data={"signing_channel": "centralized"},
        )
        print(
            f"grant: {seconds:.2f} s for {result['signed']} credit lines "
            f"({len(result['failed'])} refused)"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
