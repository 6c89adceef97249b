"""Contact plans, due contacts (one SQL query) and recording visits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coop.models import AuditEvent
from coop.roles import Role, user_roles
from coop.services import DomainError
from customers.models import ContactPlan, Visit
from customers.segment_rules import today_in_shanghai
from customers.selectors_relationship import due_contacts_for, due_contacts_queryset
from customers.services.due_contacts import contacts_plan
from customers.services.relationship import (
    contact_plan_create,
    contact_plan_update,
    segment_create,
    visit_record,
)
from tests.customers.test_relationship_support import (
    make_customer,
    make_visit,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")


@pytest.fixture
def today():
    return today_in_shanghai()


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def director(make_staff):
    return make_staff(Role.MANAGEMENT, unit="HQ")


@pytest.fixture
def monthly_maintenance(director):
    return contact_plan_create(
        actor=director, name="维护客户月访", customer_class="maintenance", interval_days=30
    )


def due(user, on) -> dict[str, tuple]:
    # The due contacts are rows materialized by the beat sweep; run it for the day first.
    contacts_plan(on=on)
    return {
        row.customer.name: (row.due_on, row.reason, row.plan.name if row.plan else None)
        for row in due_contacts_for(user, on=on)
    }


# --- due contacts --------------------------------------------------------------------------------


def test_a_never_visited_customer_under_a_plan_is_due_from_the_day_they_were_filed(
    am, monthly_maintenance, today
):
    make_customer(am, name="new")

    assert due(am, today) == {"new": (today, "never_visited", "维护客户月访")}


def test_without_a_plan_nobody_is_due(am, today):
    make_customer(am, name="new")

    assert due(am, today) == {}


def test_the_interval_counts_to_the_day(am, monthly_maintenance, today):
    exactly = make_customer(am, name="exactly-30-days")
    make_visit(exactly, am, visited_on=today - timedelta(days=30))
    not_yet = make_customer(am, name="29-days")
    make_visit(not_yet, am, visited_on=today - timedelta(days=29))
    overdue = make_customer(am, name="45-days")
    make_visit(overdue, am, visited_on=today - timedelta(days=45))

    contacts_plan(on=today)
    rows = list(due_contacts_for(am, on=today))

    assert [(r.customer.name, r.due_on, r.days_overdue) for r in rows] == [
        ("45-days", today - timedelta(days=15), 15),  # most overdue first
        ("exactly-30-days", today, 0),
    ]
    # and the 29-days customer becomes due tomorrow
    assert "29-days" in due(am, today + timedelta(days=1))


def test_the_shortest_applicable_interval_counts(am, director, today):
    segment = segment_create(
        actor=director,
        code="away",
        name="外出务工",
        rules=[{"attribute": "workplace", "op": "eq", "value": "away"}],
    )
    contact_plan_create(actor=director, name="季度", customer_class="maintenance", interval_days=90)
    weekly = contact_plan_create(actor=director, name="每周", segment=segment, interval_days=7)
    away = make_customer(am, name="away", workplace="away")
    home = make_customer(am, name="home", workplace="home")
    # memberships are computed set-based, so recompute after filing the customers
    from customers.services.relationship import segment_recompute

    segment_recompute(segment=segment)
    for customer in (away, home):
        make_visit(customer, am, visited_on=today - timedelta(days=10))

    rows = due(am, today)

    assert rows == {"away": (today - timedelta(days=3), "plan", weekly.name)}


def test_inactive_plans_and_plans_of_inactive_segments_do_not_count(am, director, today):
    segment = segment_create(
        actor=director,
        code="all-away",
        name="外出",
        rules=[{"attribute": "workplace", "op": "eq", "value": "away"}],
    )
    contact_plan_create(actor=director, name="段", segment=segment, interval_days=7)
    plan = contact_plan_create(
        actor=director, name="类", customer_class="maintenance", interval_days=7
    )
    contact_plan_update(actor=director, plan=plan, is_active=False)
    customer = make_customer(am, name="away", workplace="away")
    from customers.services.relationship import segment_recompute, segment_update

    segment_recompute(segment=segment)
    make_visit(customer, am, visited_on=today - timedelta(days=20))
    assert "away" in due(am, today)

    segment_update(actor=director, segment=segment, is_active=False)

    assert due(am, today) == {}


def test_the_latest_visit_next_contact_date_makes_a_customer_due(am, today):
    asked = make_customer(am, name="asked-to-call-back")
    make_visit(
        asked, am, visited_on=today - timedelta(days=5), next_contact_on=today - timedelta(days=1)
    )
    later = make_customer(am, name="call-back-later")
    make_visit(
        later, am, visited_on=today - timedelta(days=5), next_contact_on=today + timedelta(days=1)
    )
    superseded = make_customer(am, name="superseded")
    make_visit(
        superseded,
        am,
        visited_on=today - timedelta(days=20),
        next_contact_on=today - timedelta(days=10),
    )
    make_visit(superseded, am, visited_on=today - timedelta(days=2))  # the latest asks nothing

    assert due(am, today) == {
        "asked-to-call-back": (today - timedelta(days=1), "next_contact", None)
    }
    assert set(due(am, today + timedelta(days=1))) == {"asked-to-call-back", "call-back-later"}


def test_next_contact_earlier_than_the_plan_wins(am, monthly_maintenance, today):
    customer = make_customer(am, name="c")
    make_visit(customer, am, visited_on=today - timedelta(days=3), next_contact_on=today)

    assert due(am, today) == {"c": (today, "next_contact", "维护客户月访")}


def test_only_the_account_managers_own_customers(am, make_staff, monthly_maintenance, today):
    colleague = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    make_customer(am, name="mine")
    make_customer(colleague, name="theirs")
    make_customer(colleague, name="i-am-b-role", b_manager=am)

    assert set(due(am, today)) == {"mine"}
    assert set(due(colleague, today)) == {"theirs", "i-am-b-role"}


@pytest.mark.parametrize("customers", [2, 40])
def test_due_contacts_is_one_query(
    am, monthly_maintenance, today, customers, django_assert_num_queries
):
    for n in range(customers):
        customer = make_customer(am)
        if n % 2:
            make_visit(customer, am, visited_on=today - timedelta(days=40 + n))

    user_roles(am)  # the user's roles are read once per request, before any page query

    with django_assert_num_queries(1):
        found = list(due_contacts_queryset(am, on=today))

    assert len(found) == customers
    contacts_plan(on=today)
    # a page of the materialized rows is one query (plans joined), whatever the page size
    with django_assert_num_queries(1):
        rows = due_contacts_for(am, on=today)[0:50]
    assert [r.due_on for r in rows] == sorted(r.due_on for r in rows)


# --- visits --------------------------------------------------------------------------------------


def test_record_a_visit(am, today):
    customer = make_customer(am)

    visit = visit_record(
        actor=am,
        customer=customer,
        visited_on=today,
        channel="phone",
        outcome="interested",
        notes="想了解农机贷",
        next_step="带资料上门",
        next_contact_on=today + timedelta(days=7),
    )

    visit.refresh_from_db()
    assert (visit.customer, visit.staff, visit.visited_on, visit.channel, visit.outcome) == (
        customer,
        am,
        today,
        "phone",
        "interested",
    )
    assert (visit.next_step, visit.next_contact_on) == ("带资料上门", today + timedelta(days=7))
    audit = AuditEvent.objects.get(action="visit.record")
    assert (audit.object_id, audit.actor, audit.to_state) == (str(visit.pk), am, "interested")


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"visited_on": "tomorrow"}, "visited_on", "future"),
        ({"next_contact_on": "same_day"}, "next_contact_on", "not_after_visit"),
        ({"next_contact_on": "day_before"}, "next_contact_on", "not_after_visit"),
        ({"next_contact_on": "three_years"}, "next_contact_on", "too_far"),
        ({"channel": "telegram"}, "channel", "invalid"),
        ({"outcome": "maybe"}, "outcome", "invalid"),
        ({"next_step": "x" * 201}, "next_step", "too_long"),
    ],
)
def test_bad_visits_record_nothing(am, today, change, field, code):
    customer = make_customer(am)
    values = {
        "visited_on": today - timedelta(days=1),
        "channel": "visit",
        "outcome": "contacted",
        "next_contact_on": None,
        "next_step": "",
    }
    dates = {
        "tomorrow": today + timedelta(days=1),
        "same_day": values["visited_on"],
        "day_before": values["visited_on"] - timedelta(days=1),
        "three_years": values["visited_on"] + timedelta(days=3 * 365),
    }
    values.update({k: dates.get(v, v) if isinstance(v, str) else v for k, v in change.items()})

    with pytest.raises(DomainError) as refused:
        visit_record(actor=am, customer=customer, **values)

    assert (refused.value.field, refused.value.code) == (field, code)
    assert Visit.objects.count() == 0
    assert not AuditEvent.objects.filter(action="visit.record").exists()


def test_a_visit_today_with_a_next_contact_tomorrow_is_fine(am, today):
    customer = make_customer(am)

    visit_record(
        actor=am,
        customer=customer,
        visited_on=today,
        channel="wechat",
        outcome="contacted",
        next_contact_on=today + timedelta(days=1),
    )

    assert Visit.objects.filter(customer=customer).count() == 1


# --- contact plans ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"customer_class": ""}, "segment"),  # neither target
        ({"with_segment": True}, "segment"),  # both targets
        ({"interval_days": 0}, "interval_days"),
        ({"interval_days": 731}, "interval_days"),
        ({"customer_class": "vip"}, "customer_class"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_contact_plans_are_refused(director, fields, field):
    values = {"name": "计划", "customer_class": "partner", "interval_days": 30}
    if fields.pop("with_segment", False):
        values["segment"] = segment_create(
            actor=director,
            code="s",
            name="S",
            rules=[{"attribute": "kind", "op": "eq", "value": "individual"}],
        )
    values.update(fields)

    with pytest.raises(DomainError) as refused:
        contact_plan_create(actor=director, **values)

    assert refused.value.field == field
    assert ContactPlan.objects.count() == 0


def test_contact_plans_are_edited_and_deactivated_with_audit(director):
    plan = contact_plan_create(
        actor=director, name="合作伙伴", customer_class="partner", interval_days=30
    )

    contact_plan_update(actor=director, plan=plan, interval_days=14)
    contact_plan_update(actor=director, plan=plan, is_active=False)

    plan.refresh_from_db()
    assert (plan.interval_days, plan.is_active) == (14, False)
    assert list(
        AuditEvent.objects.filter(object_type="customers.contactplan")
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    ) == [
        ("contact_plan.create", "", "active"),
        ("contact_plan.update", "active", "active"),
        ("contact_plan.update", "active", "inactive"),
    ]


def test_tellers_record_no_visits_and_managers_only_define_plans(am, make_staff, today):
    from django.core.exceptions import PermissionDenied

    teller = make_staff(Role.TELLER, unit="B01-01")
    customer = make_customer(am)

    with pytest.raises(PermissionDenied):
        visit_record(
            actor=teller,
            customer=customer,
            visited_on=today,
            channel="counter",
            outcome="contacted",
        )
    with pytest.raises(PermissionDenied):
        contact_plan_create(actor=am, name="自定", customer_class="partner", interval_days=7)

    assert Visit.objects.count() == 0
    assert ContactPlan.objects.count() == 0
