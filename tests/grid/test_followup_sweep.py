"""``grid.followups_plan``: follow-up contacts of credited households as rows (seed 003).

Monthly for credited households without a card, quarterly for a card without use, on the agreed
day for households away at signing; periods are calendar months/quarters in Asia/Shanghai.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import time_machine
from django.db import connection

from coop.models import AuditEvent, TaskRun
from customers.models import Visit
from grid.models import CampaignHousehold, Household, HouseholdFollowUp
from grid.services.campaigns import campaign_reconcile
from grid.services.followups import followups_plan, periods_of
from grid.tasks import followups_plan as followups_plan_task

SH = timezone(timedelta(hours=8))


def credit(world, *names: str, filed: bool = True) -> dict[str, Household]:
    """Households pre-credited by a whole-village campaign, through the real services."""
    households = {name: world.household(name, filed=filed) for name in names}
    campaign = world.crediting()
    for household in households.values():
        entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
        world.evaluate(entry, *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    return households


def card(household: Household, on: date = date(2026, 1, 5)) -> None:
    Household.objects.filter(pk=household.pk).update(card_issued_on=on)


def contact(world, household: Household, on: date) -> Visit:
    return Visit.objects.create(
        customer=household.head, staff=world.am, visited_on=on, channel="phone", outcome="contacted"
    )


def open_rows() -> list[tuple]:
    return sorted(
        HouseholdFollowUp.objects.filter(status="open").values_list(
            "household__head_name", "kind", "period_start", "due_by"
        )
    )


@pytest.mark.parametrize(
    ("on", "month", "quarter"),
    [
        (
            date(2026, 1, 1),
            (date(2026, 1, 1), date(2026, 1, 31)),
            (date(2026, 1, 1), date(2026, 3, 31)),
        ),
        (
            date(2026, 2, 28),
            (date(2026, 2, 1), date(2026, 2, 28)),
            (date(2026, 1, 1), date(2026, 3, 31)),
        ),
        (
            date(2028, 2, 29),
            (date(2028, 2, 1), date(2028, 2, 29)),
            (date(2028, 1, 1), date(2028, 3, 31)),
        ),
        (
            date(2026, 3, 31),
            (date(2026, 3, 1), date(2026, 3, 31)),
            (date(2026, 1, 1), date(2026, 3, 31)),
        ),
        (
            date(2026, 4, 1),
            (date(2026, 4, 1), date(2026, 4, 30)),
            (date(2026, 4, 1), date(2026, 6, 30)),
        ),
        (
            date(2026, 12, 31),
            (date(2026, 12, 1), date(2026, 12, 31)),
            (date(2026, 10, 1), date(2026, 12, 31)),
        ),
    ],
)
def test_periods_are_calendar_months_and_quarters(on, month, quarter):
    p = periods_of(on)
    assert (p.month_start, p.month_end) == month
    assert (p.quarter_start, p.quarter_end) == quarter


def test_the_sweep_creates_the_current_periods_rows(world):
    h = credit(world, "无卡", "有卡未用", "有卡本季已联系")
    card(h["有卡未用"])
    card(h["有卡本季已联系"])
    contact(world, h["有卡本季已联系"], date(2026, 4, 1))

    counts = followups_plan(on=date(2026, 5, 20))

    assert counts == {"created": 2, "closed": 0, "missed": 0, "cancelled": 0}
    assert open_rows() == [
        ("无卡", "no_card", date(2026, 5, 1), date(2026, 5, 31)),
        ("有卡未用", "unused", date(2026, 4, 1), date(2026, 6, 30)),
    ]


def test_running_twice_creates_nothing_twice(world):
    credit(world, "甲", "乙")

    first = followups_plan(on=date(2026, 5, 20))
    second = followups_plan(on=date(2026, 5, 20))

    assert first["created"] == 2
    assert second == {"created": 0, "closed": 0, "missed": 0, "cancelled": 0}
    assert HouseholdFollowUp.objects.count() == 2


def test_month_end_then_next_month_in_shanghai_time(world):
    h = credit(world, "无卡", "有卡")
    card(h["有卡"])

    followups_plan(on=date(2026, 3, 31))
    assert open_rows() == [
        ("无卡", "no_card", date(2026, 3, 1), date(2026, 3, 31)),
        ("有卡", "unused", date(2026, 1, 1), date(2026, 3, 31)),
    ]

    # 2026-03-31 16:30 UTC is 2026-04-01 00:30 in Shanghai: the task plans April and Q2.
    with time_machine.travel(datetime(2026, 3, 31, 16, 30, tzinfo=UTC), tick=False):
        counts = followups_plan_task.apply().get()

    assert counts == {"created": 2, "closed": 0, "missed": 2, "cancelled": 0}
    assert open_rows() == [
        ("无卡", "no_card", date(2026, 4, 1), date(2026, 4, 30)),
        ("有卡", "unused", date(2026, 4, 1), date(2026, 6, 30)),
    ]
    missed = HouseholdFollowUp.objects.filter(status="missed").values_list(
        "period_start", flat=True
    )
    assert sorted(missed) == [date(2026, 1, 1), date(2026, 3, 1)]
    run = TaskRun.objects.get(task_name="grid.followups_plan")
    assert (run.status, run.counts) == ("ok", counts)


def test_the_last_day_of_the_month_still_belongs_to_it(world):
    h = credit(world, "无卡")
    # 23:59 on 30 April in Shanghai is still April (15:59 UTC)
    with time_machine.travel(datetime(2026, 4, 30, 23, 59, tzinfo=SH), tick=False):
        followups_plan_task.apply().get()
    contact(world, h["无卡"], date(2026, 4, 30))

    assert followups_plan(on=date(2026, 4, 30))["closed"] == 1
    assert open_rows() == []
    # a contact on the last day of April does not count for May
    followups_plan(on=date(2026, 5, 1))
    assert open_rows() == [("无卡", "no_card", date(2026, 5, 1), date(2026, 5, 31))]


def test_a_contact_in_the_period_closes_the_row_with_its_visit(world):
    h = credit(world, "无卡")
    followups_plan(on=date(2026, 5, 2))
    visit = contact(world, h["无卡"], date(2026, 5, 10))

    counts = followups_plan(on=date(2026, 5, 11))
    again = followups_plan(on=date(2026, 5, 11))

    assert counts["closed"] == 1 and again["closed"] == 0
    row = HouseholdFollowUp.objects.get()
    assert (row.status, row.visit_id, row.outcome) == ("done", visit.pk, "contacted")
    assert (
        AuditEvent.objects.filter(action="followup.contacted", object_id=str(row.pk)).count() == 1
    )


def test_obsolete_rows_are_cancelled_when_the_card_comes(world):
    h = credit(world, "无卡")
    followups_plan(on=date(2026, 5, 2))
    card(h["无卡"], date(2026, 5, 8))

    counts = followups_plan(on=date(2026, 5, 9))

    assert counts == {"created": 1, "closed": 0, "missed": 0, "cancelled": 1}
    assert open_rows() == [("无卡", "unused", date(2026, 4, 1), date(2026, 6, 30))]


def test_away_households_are_due_on_the_agreed_day(world):
    h = credit(world, "外出")
    CampaignHousehold.objects.filter(household=h["外出"]).update(
        signing="away", away_follow_up_on=date(2026, 5, 18)
    )

    assert followups_plan(on=date(2026, 5, 17))["created"] == 0
    assert followups_plan(on=date(2026, 5, 18))["created"] == 1
    # not missed when the month ends: it stays open until the household is contacted
    assert followups_plan(on=date(2026, 6, 2))["missed"] == 0
    assert open_rows() == [("外出", "away", date(2026, 5, 18), date(2026, 5, 18))]
    contact(world, h["外出"], date(2026, 6, 3))
    assert followups_plan(on=date(2026, 6, 3))["closed"] == 1


def test_refused_and_excluded_households_get_no_follow_up(world):
    h = credit(world, "拒绝", "排除", "正常")
    CampaignHousehold.objects.filter(household=h["拒绝"]).update(signing="refused")
    CampaignHousehold.objects.filter(household=h["排除"]).update(excluded_reason="manual")

    followups_plan(on=date(2026, 5, 20))

    assert [row[0] for row in open_rows()] == ["正常"]


def test_two_beats_at_once_create_nothing_twice(transactional_db, world):
    credit(world, *[f"户{i}" for i in range(12)])
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def beat():
        try:
            barrier.wait()
            results.append(followups_plan(on=date(2026, 5, 20)))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(r["created"] for r in results) == [0, 12]
    assert HouseholdFollowUp.objects.count() == 12


@pytest.mark.parametrize("households", [5, 60])
def test_the_sweep_is_a_fixed_number_of_statements(
    world, households, django_assert_max_num_queries
):
    credit(world, *[f"户{i}" for i in range(households)])

    # savepoint, four set-based statements, the audit INSERTs, release
    with django_assert_max_num_queries(9):
        assert followups_plan(on=date(2026, 5, 20))["created"] == households
