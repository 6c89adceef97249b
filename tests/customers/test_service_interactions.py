"""Counter service interactions: validation and recording (service, page, API), scoping and
query budgets."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from coop.models import AuditEvent
from coop.roles import Role, sync_roles
from coop.services import DomainError
from customers.models import Customer, ServiceInteraction
from customers.services.service import service_interaction_record

SHANGHAI = ZoneInfo("Asia/Shanghai")
VALID = {
    "business_type": "deposit",
    "wait_minutes": 5,
    "handling_minutes": 3,
    "smile": True,
    "standing": False,
    "standard_wording": True,
    "rating": 4,
    "note": "needed a new card",
}


@pytest.fixture(autouse=True)
def roles_synced(db):
    # On a fresh test database the shared post_migrate role sync runs before the customers
    # app's permissions exist, leaving the groups without them (reported to the lead).
    sync_roles()


@pytest.fixture
def teller(make_staff):
    return make_staff(Role.TELLER, unit="B01-02", username="teller_b1")


@pytest.fixture
def customer(org, make_staff):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am_b1")
    return Customer.objects.create(kind="individual", name="张三", branch=org["B01"], owner=owner)


@pytest.fixture
def foreign_customer(org, make_staff):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="am_b2")
    return Customer.objects.create(kind="individual", name="李四", branch=org["B02"], owner=owner)


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


# --- the service ------------------------------------------------------------------------------


def test_record_fills_outlet_branch_and_time_and_writes_an_audit_row(org, teller, customer):
    before = timezone.now()

    interaction = service_interaction_record(actor=teller, customer=customer, **VALID)

    row = ServiceInteraction.objects.get(pk=interaction.pk)
    assert row.teller == teller
    assert row.outlet == org["B01-02"]
    assert row.branch == org["B01"]
    assert row.customer == customer
    assert (row.business_type, row.wait_minutes, row.handling_minutes) == ("deposit", 5, 3)
    assert (row.smile, row.standing, row.standard_wording) == (True, False, True)
    assert row.rating == 4
    assert row.note == "needed a new card"
    assert before <= row.served_at <= timezone.now()
    audit = AuditEvent.objects.get(object_type="customers.serviceinteraction")
    assert audit.object_id == str(row.pk)
    assert audit.actor == teller
    assert audit.action == "service_interaction.record"


def test_walk_in_without_customer_and_without_rating(teller):
    interaction = service_interaction_record(
        actor=teller, business_type="other", wait_minutes=0, handling_minutes=600
    )

    row = ServiceInteraction.objects.get(pk=interaction.pk)
    assert row.customer is None
    assert row.rating is None
    assert (row.smile, row.standing, row.standard_wording) == (False, False, False)
    assert (row.wait_minutes, row.handling_minutes) == (0, 600)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"wait_minutes": -1}, "wait_minutes"),
        ({"wait_minutes": 601}, "wait_minutes"),
        ({"handling_minutes": 601}, "handling_minutes"),
        ({"handling_minutes": "3"}, "handling_minutes"),
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"business_type": "lottery"}, "business_type"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(teller, change, field):
    with pytest.raises(DomainError) as refused:
        service_interaction_record(actor=teller, **{**VALID, **change})

    assert refused.value.field == field
    assert refused.value.status_code == 400
    assert ServiceInteraction.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="customers.serviceinteraction").count() == 0


def test_customer_of_another_branch_is_refused(teller, foreign_customer):
    with pytest.raises(DomainError) as refused:
        service_interaction_record(actor=teller, customer=foreign_customer, **VALID)

    assert refused.value.field == "customer"
    assert ServiceInteraction.objects.count() == 0


def test_only_tellers_record(make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    with pytest.raises(PermissionDenied):
        service_interaction_record(actor=manager, **VALID)

    assert ServiceInteraction.objects.count() == 0


# --- the page ---------------------------------------------------------------------------------


def test_page_saves_and_comes_back_empty_with_todays_list(client, settings, teller, customer):
    client.force_login(teller)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    form = {**VALID, "smile": "on", "standard_wording": "on", "customer": customer.pk, "q": ""}
    form.pop("standing")

    response = client.post(reverse("customers:counter_new"), form, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("customers:counter_new"), 302)]
    row = ServiceInteraction.objects.get()
    assert (row.customer, row.smile, row.standing, row.standard_wording) == (
        customer,
        True,
        False,
        True,
    )
    body = response.content.decode()
    assert 'data-testid="today-row"' in body
    assert "张三" in body
    # the form comes back empty, with no business type chosen
    assert not response.context["form"].is_bound
    assert re.search(r'name="wait_minutes"[^>]*value=""', body)
    assert re.search(r'name="handling_minutes"[^>]*value=""', body)
    assert re.findall(r'name="business_type"[^>]*checked', body) == []
    assert list(response.context["today"]) == [row]
    assert [str(m) for m in response.context["messages"]] == [
        "Saved: Deposit, waited 5 min, handled in 3 min."
    ]


def test_page_shows_errors_and_saves_nothing(client, teller):
    client.force_login(teller)

    response = client.post(
        reverse("customers:counter_new"),
        {"business_type": "deposit", "wait_minutes": "700", "handling_minutes": "3", "rating": "9"},
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"wait_minutes", "rating"}
    assert ServiceInteraction.objects.count() == 0


def test_page_refuses_a_customer_outside_the_branch(client, teller, foreign_customer):
    client.force_login(teller)

    response = client.post(
        reverse("customers:counter_new"), {**VALID, "customer": foreign_customer.pk}
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["customer"]
    assert ServiceInteraction.objects.count() == 0


def test_todays_list_shows_only_the_tellers_own_services_of_today(client, org, teller, make_staff):
    colleague = make_staff(Role.TELLER, unit="B01-02")
    mine = service_interaction_record(actor=teller, **VALID)
    service_interaction_record(actor=colleague, **VALID)
    yesterday = service_interaction_record(actor=teller, **VALID)
    ServiceInteraction.objects.filter(pk=yesterday.pk).update(
        served_at=timezone.now() - dt.timedelta(days=1, hours=1)
    )
    client.force_login(teller)

    response = client.get(reverse("customers:counter_new"))

    assert [row.pk for row in response.context["today"]] == [mine.pk]


def test_counter_page_is_for_tellers_only(client, make_staff):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))
    assert client.get(reverse("customers:counter_new")).status_code == 403


def test_counter_page_has_a_fixed_number_of_queries(client, teller, django_assert_max_num_queries):
    client.force_login(teller)
    service_interaction_record(actor=teller, **VALID)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("customers:counter_new"))
    ServiceInteraction.objects.bulk_create(
        [
            ServiceInteraction(
                teller=teller,
                outlet=teller.org_unit,
                branch=teller.org_unit.branch(),
                business_type="deposit",
                wait_minutes=1,
                handling_minutes=1,
                served_at=timezone.now(),
            )
            for _ in range(70)
        ]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("customers:counter_new"))
    assert len(response.context["today"]) == 50


# --- customer lookup --------------------------------------------------------------------------


def test_lookup_by_name_is_scoped_and_posted(client, teller, customer, foreign_customer):
    client.force_login(teller)

    response = client.post(reverse("customers:customer_lookup"), {"q": "张"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-lookup-pick="{customer.pk}"' in body
    assert "李四" not in body
    assert client.get(reverse("customers:customer_lookup"), {"q": "张"}).status_code == 405


def test_lookup_by_id_number_matches_exactly_and_shows_it_masked(client, teller, customer):
    Customer.objects.filter(pk=customer.pk).update(
        id_number="11010519491231002X", mobile="13812345678"
    )
    client.force_login(teller)

    body = client.post(
        reverse("customers:customer_lookup"), {"q": "11010519491231002x"}
    ).content.decode()

    assert f'data-lookup-pick="{customer.pk}"' in body
    assert "1101**********002X" in body
    assert "138****5678" in body
    assert "11010519491231002X" not in body
    assert "13812345678" not in body

    by_mobile = client.post(reverse("customers:customer_lookup"), {"q": "138 1234 5678"})
    assert f'data-lookup-pick="{customer.pk}"' in by_mobile.content.decode()


# --- API --------------------------------------------------------------------------------------


def test_api_create_by_teller(teller, customer):
    response = api_for(teller).post(
        "/api/v1/service-interactions/", {**VALID, "customer": customer.pk}, format="json"
    )

    assert response.status_code == 201
    row = ServiceInteraction.objects.get()
    assert response.json()["id"] == row.pk
    assert response.json()["customer"] == {"id": customer.pk, "name": "张三"}
    assert response.json()["outlet"]["name"] == teller.org_unit.name


@pytest.mark.parametrize(
    "change",
    [{"wait_minutes": 601}, {"rating": 6}, {"business_type": "lottery"}, {"wait_minutes": None}],
)
def test_api_create_refuses_bad_input(teller, change):
    response = api_for(teller).post(
        "/api/v1/service-interactions/", {**VALID, **change}, format="json"
    )

    assert response.status_code == 400
    assert ServiceInteraction.objects.count() == 0


def test_api_create_refuses_a_customer_of_another_branch(teller, foreign_customer):
    response = api_for(teller).post(
        "/api/v1/service-interactions/", {**VALID, "customer": foreign_customer.pk}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["customer"]
    assert ServiceInteraction.objects.count() == 0


def test_api_create_is_for_tellers_only(make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    response = api_for(manager).post("/api/v1/service-interactions/", VALID, format="json")

    assert response.status_code == 403
    assert ServiceInteraction.objects.count() == 0


def test_api_list_and_detail_are_scoped_by_branch(make_staff, teller):
    other_teller = make_staff(Role.TELLER, unit="B02-01")
    ours = service_interaction_record(actor=teller, **VALID)
    theirs = service_interaction_record(actor=other_teller, **VALID)
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")
    director = make_staff(Role.MANAGEMENT, unit="HQ")

    listed = api_for(manager).get("/api/v1/service-interactions/").json()
    assert [row["id"] for row in listed["results"]] == [ours.pk]
    assert listed["count"] == 1
    assert api_for(manager).get(f"/api/v1/service-interactions/{theirs.pk}/").status_code == 404
    assert api_for(manager).get(f"/api/v1/service-interactions/{ours.pk}/").status_code == 200
    everything = api_for(director).get("/api/v1/service-interactions/").json()
    assert {row["id"] for row in everything["results"]} == {ours.pk, theirs.pk}


def test_api_list_filters_by_shanghai_day(teller):
    late = service_interaction_record(actor=teller, **VALID)
    early = service_interaction_record(actor=teller, **VALID)
    ServiceInteraction.objects.filter(pk=late.pk).update(
        served_at=dt.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI)
    )
    ServiceInteraction.objects.filter(pk=early.pk).update(
        served_at=dt.datetime(2026, 3, 11, 0, 30, tzinfo=SHANGHAI)
    )

    day = api_for(teller).get("/api/v1/service-interactions/?date=2026-03-10").json()

    assert [row["id"] for row in day["results"]] == [late.pk]


def test_api_list_has_a_fixed_number_of_queries(teller, django_assert_max_num_queries):
    api = api_for(teller)
    service_interaction_record(actor=teller, **VALID)
    with django_assert_max_num_queries(8) as few:
        api.get("/api/v1/service-interactions/")
    for _ in range(30):
        service_interaction_record(actor=teller, **VALID)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get("/api/v1/service-interactions/")
    assert response.json()["count"] == 31
