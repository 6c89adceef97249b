"""The due-contacts page, its "done" action and the workbench panel: one's own customers only,
fixed query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from coop.models import AuditEvent
from coop.roles import Role
from coop.workbench import panels_for
from customers.models import DueContact, Visit
from customers.segment_rules import today_in_shanghai
from customers.services.due_contacts import contacts_plan
from customers.services.relationship import contact_plan_create
from tests.customers.test_relationship_support import (
    make_customer,
    make_visit,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def colleague(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def other_branch_am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B02")


@pytest.fixture
def plan(make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    return contact_plan_create(
        actor=director, name="维护客户月访", customer_class="maintenance", interval_days=30
    )


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_page_lists_only_ones_own_open_due_contacts(en, am, colleague, other_branch_am, plan):
    mine = make_customer(am, name="我的客户")
    make_customer(colleague, name="同事的客户")
    make_customer(other_branch_am, name="他行客户")
    contacts_plan()
    en.force_login(am)

    response = en.get(reverse("customers:due_contacts"))

    assert [row.customer.pk for row in response.context["rows"]] == [mine.pk]
    body = response.content.decode()
    assert f'data-testid="due-done-form-{mine.pk}"' in body
    assert "同事的客户" not in body and "他行客户" not in body


def test_done_records_a_visit_and_closes_the_row(en, am, plan):
    customer = make_customer(am, name="王大山")
    contacts_plan()
    row = DueContact.objects.get()
    en.force_login(am)

    response = en.post(
        reverse("customers:due_contact_done", args=[row.pk]),
        {"channel": "phone", "outcome": "interested", "notes": "想了解农机贷"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("customers:due_contacts")
    row.refresh_from_db()
    visit = Visit.objects.get()
    assert (row.status, row.completed_by, row.visit) == ("done", am, visit)
    assert (visit.customer, visit.channel, visit.outcome, visit.notes, visit.visited_on) == (
        customer,
        "phone",
        "interested",
        "想了解农机贷",
        today_in_shanghai(),
    )
    assert AuditEvent.objects.filter(action="due_contact.complete", object_id=str(row.pk)).count()
    assert list(en.get(reverse("customers:due_contacts")).context["rows"]) == []
    # the sweep finds nothing more to close, and plans the next contact in thirty days
    assert contacts_plan() == {"created": 0, "closed": 0, "cancelled": 0}
    assert contacts_plan(on=today_in_shanghai() + timedelta(days=30))["created"] == 1


@pytest.mark.parametrize("who", ["colleague", "other_branch_am"])
def test_others_cannot_close_someone_elses_due_contact(en, request, am, plan, who):
    make_customer(am, name="王大山")
    contacts_plan()
    row = DueContact.objects.get()
    en.force_login(request.getfixturevalue(who))

    response = en.post(
        reverse("customers:due_contact_done", args=[row.pk]),
        {"channel": "phone", "outcome": "contacted"},
    )

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.status == "open"
    assert not Visit.objects.exists()


def test_tellers_are_refused(en, make_staff, am, plan):
    make_customer(am)
    contacts_plan()
    en.force_login(make_staff(Role.TELLER, unit="B01-01"))

    response = en.post(
        reverse("customers:due_contact_done", args=[DueContact.objects.get().pk]),
        {"channel": "phone", "outcome": "contacted"},
    )

    assert response.status_code == 403
    assert DueContact.objects.get().status == "open"


def test_a_bad_outcome_changes_nothing(en, am, plan):
    make_customer(am)
    contacts_plan()
    row = DueContact.objects.get()
    en.force_login(am)

    response = en.post(
        reverse("customers:due_contact_done", args=[row.pk]), {"channel": "fax", "outcome": "x"}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "open"
    assert not Visit.objects.exists()


def test_a_visit_recorded_on_the_customer_page_hides_the_row_at_once(am, plan):
    from customers.selectors_relationship import due_contacts_for

    customer = make_customer(am)
    contacts_plan()
    make_visit(customer, am, visited_on=today_in_shanghai())

    assert list(due_contacts_for(am)) == []
    assert DueContact.objects.get().status == "open"  # the next sweep closes it


def test_the_workbench_panel_shows_ones_own_due_contacts(client, am, colleague, plan):
    make_customer(am, name="甲")
    make_customer(am, name="乙")
    make_customer(colleague, name="丙")
    contacts_plan()
    reverse("customers:due_contacts")  # the URLconf import registers the panels

    mine = {p.key: ctx for p, ctx in panels_for(am)}
    theirs = {p.key: ctx for p, ctx in panels_for(colleague)}

    assert mine["due_contacts"]["count"] == 2
    assert sorted(r.customer.name for r in mine["due_contacts"]["rows"]) == ["乙", "甲"]
    assert [r.customer.name for r in theirs["due_contacts"]["rows"]] == ["丙"]
    client.force_login(am)
    body = client.get("/").content.decode()
    assert body.count('data-testid="due-contacts-panel-row"') == 2


@pytest.mark.parametrize("customers", [3, 60])
def test_page_and_panel_use_a_fixed_number_of_queries(
    client, am, plan, customers, django_assert_max_num_queries
):
    for _ in range(customers):
        make_customer(am)
    contacts_plan()
    client.force_login(am)
    client.get("/")  # warm the URLconf and the panel registry

    with django_assert_max_num_queries(12):
        assert client.get(reverse("customers:due_contacts")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/").status_code == 200


def test_a_visit_recorded_on_the_customer_page_closes_the_due_contact_at_once(en, am, plan):
    from customers.services.relationship import visit_record

    customer = make_customer(am, name="李小河")
    contacts_plan()
    row = DueContact.objects.get()

    visit = visit_record(
        actor=am,
        customer=customer,
        visited_on=today_in_shanghai(),
        channel="phone",
        outcome="interested",
    )

    row.refresh_from_db()
    assert (row.status, row.visit_id, row.completed_by_id) == ("done", visit.pk, am.pk)
    assert (
        AuditEvent.objects.filter(action="due_contact.complete", object_id=str(row.pk)).count() == 1
    )
