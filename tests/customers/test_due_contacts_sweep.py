"""``customers.contacts_plan``: contact plans materialized as due contacts, idempotently."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import time_machine
from django.db import connection

from coop.models import AuditEvent, TaskRun
from coop.roles import Role
from customers.models import DueContact
from customers.services.due_contacts import contacts_plan
from customers.services.relationship import contact_plan_create, contact_plan_update
from customers.tasks import contacts_plan as contacts_plan_task
from tests.customers.test_relationship_support import (
    make_customer,
    make_visit,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")

SH = timezone(timedelta(hours=8))
ON = date(2026, 5, 20)


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def director(make_staff):
    return make_staff(Role.MANAGEMENT, unit="HQ")


@pytest.fixture
def monthly(director):
    return contact_plan_create(
        actor=director, name="维护客户月访", customer_class="maintenance", interval_days=30
    )


def open_rows() -> list[tuple]:
    return sorted(
        DueContact.objects.filter(status="open").values_list("customer__name", "reason", "due_on")
    )


def visited(customer, staff, days_before: int, **kwargs):
    return make_visit(customer, staff, visited_on=ON - timedelta(days=days_before), **kwargs)


def test_the_sweep_creates_one_row_per_due_customer(am, monthly):
    due = make_customer(am, name="due")
    visited(due, am, 30)
    early = make_customer(am, name="not-yet")
    visited(early, am, 29)
    asked = make_customer(am, name="asked")
    visited(asked, am, 3, next_contact_on=ON - timedelta(days=1))

    counts = contacts_plan(on=ON)

    assert counts == {"created": 2, "closed": 0, "cancelled": 0}
    assert open_rows() == [("asked", "next_contact", ON - timedelta(days=1)), ("due", "plan", ON)]
    assert DueContact.objects.get(customer=due).plan == monthly


def test_running_twice_creates_nothing_twice(am, monthly):
    for n in range(3):
        visited(make_customer(am, name=f"c{n}"), am, 40 + n)

    first = contacts_plan(on=ON)
    second = contacts_plan(on=ON)
    next_day = contacts_plan(on=ON + timedelta(days=1))  # still open: no second row

    assert first["created"] == 3
    assert second == next_day == {"created": 0, "closed": 0, "cancelled": 0}
    assert DueContact.objects.count() == 3


def test_a_visit_closes_the_row_and_the_plan_starts_again(am, monthly):
    customer = make_customer(am, name="c")
    visited(customer, am, 35)
    contacts_plan(on=ON)
    visit = make_visit(customer, am, visited_on=ON)

    counts = contacts_plan(on=ON)
    row = DueContact.objects.get()

    assert counts == {"created": 0, "closed": 1, "cancelled": 0}
    assert (row.status, row.visit) == ("done", visit)
    assert AuditEvent.objects.filter(action="due_contact.visited", object_id=str(row.pk)).count()
    # thirty days later the plan makes the customer due again: a new row, the old one stays done
    assert contacts_plan(on=ON + timedelta(days=30))["created"] == 1
    assert open_rows() == [("c", "plan", ON + timedelta(days=30))]


def test_a_deactivated_plan_cancels_the_open_rows(am, director, monthly):
    visited(make_customer(am, name="c"), am, 40)
    contacts_plan(on=ON)
    contact_plan_update(actor=director, plan=monthly, is_active=False)

    counts = contacts_plan(on=ON)

    assert counts == {"created": 0, "closed": 0, "cancelled": 1}
    assert open_rows() == []
    assert DueContact.objects.get().status == "cancelled"


def test_the_task_plans_for_the_day_in_shanghai(am, monthly):
    customer = make_customer(am, name="c")
    make_visit(customer, am, visited_on=date(2026, 4, 30))  # due on 30 May

    # 29 May 15:59 UTC is 23:59 on the 29th in Shanghai: not due yet
    with time_machine.travel(datetime(2026, 5, 29, 15, 59, tzinfo=UTC), tick=False):
        earlier = contacts_plan_task.apply().get()
    # 29 May 16:30 UTC is already 30 May 00:30 in Shanghai
    with time_machine.travel(datetime(2026, 5, 29, 16, 30, tzinfo=UTC), tick=False):
        counts = contacts_plan_task.apply().get()

    assert counts["created"] == 1
    assert earlier == {"created": 0, "closed": 0, "cancelled": 0}
    assert open_rows() == [("c", "plan", date(2026, 5, 30))]
    runs = TaskRun.objects.filter(task_name="customers.contacts_plan").order_by("started_at")
    assert [r.counts for r in runs] == [
        {"created": 0, "closed": 0, "cancelled": 0},
        {"created": 1, "closed": 0, "cancelled": 0},
    ]


def test_two_beats_at_once_create_nothing_twice(transactional_db, org, make_staff):
    from coop.roles import sync_roles

    sync_roles()
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    contact_plan_create(actor=director, name="月访", customer_class="maintenance", interval_days=30)
    for n in range(15):
        visited(make_customer(am, name=f"c{n}"), am, 31 + n)
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def beat():
        try:
            barrier.wait()
            results.append(contacts_plan(on=ON))
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
    assert sorted(r["created"] for r in results) == [0, 15]
    assert DueContact.objects.count() == 15


@pytest.mark.parametrize("customers", [4, 50])
def test_the_sweep_is_a_fixed_number_of_statements(
    am, monthly, customers, django_assert_max_num_queries
):
    for n in range(customers):
        visited(make_customer(am, name=f"c{n}"), am, 31 + n % 5)

    # savepoint, three set-based statements, the audit INSERTs, release
    with django_assert_max_num_queries(7):
        assert contacts_plan(on=ON)["created"] == customers
