"""Races on a real database with real threads: two staff signing one household grant one credit
line; three evaluators submitting at once are all counted and the household closes once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from coop.services import DomainError
from grid.models import CampaignHousehold, Evaluation
from grid.services.campaigns import campaign_reconcile, evaluation_submit
from grid.services.signing import campaign_household_sign
from loans.models import CreditLine

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls) -> list:
    """Start every call at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 — the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_signings_of_one_household_grant_one_credit_line(world):
    household = world.household("张建国")
    campaign = world.crediting()
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
    world.evaluate(entry, *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)

    results = run_together(
        lambda: campaign_household_sign(actor=world.am, entry=entry),
        lambda: campaign_household_sign(actor=world.am2, entry=entry, channel="counter"),
    )

    signed = [r for r in results if isinstance(r, CampaignHousehold)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert (len(signed), len(refused)) == (1, 1)
    assert refused[0].status_code == 409
    assert CreditLine.objects.filter(customer=household.head).count() == 1
    entry.refresh_from_db()
    assert entry.credit_line == CreditLine.objects.get()


def test_three_evaluators_submitting_at_once_are_all_counted(world):
    household = world.household("李秀英")
    campaign = world.crediting()
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)

    results = run_together(
        *[
            (
                lambda user=user: evaluation_submit(
                    actor=user, entry=entry, rating="good", suggested_limit=Decimal("5000")
                )
            )
            for user in world.evaluators
        ]
    )

    assert all(isinstance(r, Evaluation) for r in results), results
    entry.refresh_from_db()
    assert entry.submitted_count == 3
    assert entry.evaluated_at is not None
    assert Evaluation.objects.filter(entry=entry).count() == 3
