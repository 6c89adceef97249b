"""Counter service summaries against hand-computed figures: per teller and outlet, per Shanghai
day and month (23:30 Shanghai belongs to that day), scoped by branch."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coop.roles import Role, sync_roles
from coop.services import DomainError
from customers.models import ServiceInteraction
from customers.services.service import service_summary

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def roles_synced(db):
    # See test_service_interactions: the shared role sync misses this app's permissions.
    sync_roles()


@pytest.fixture
def data(org, make_staff):
    """Six services, hand-placed around the Shanghai day 2026-03-10."""
    t1 = make_staff(Role.TELLER, unit="B01-01", username="t1")
    t2 = make_staff(Role.TELLER, unit="B01-02", username="t2")
    t3 = make_staff(Role.TELLER, unit="B02-01", username="t3")

    def served(teller, when, business_type, wait, handling, checks, rating):
        smile, standing, wording = checks
        return ServiceInteraction.objects.create(
            teller=teller,
            outlet=teller.org_unit,
            branch=teller.org_unit.branch(),
            business_type=business_type,
            wait_minutes=wait,
            handling_minutes=handling,
            smile=smile,
            standing=standing,
            standard_wording=wording,
            rating=rating,
            served_at=when,
        )

    # t1 on the 10th at 09:00 and at 23:30 Shanghai (15:30 UTC, still the 10th)
    served(t1, dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH), "deposit", 4, 6, (1, 1, 1), 5)
    served(t1, dt.datetime(2026, 3, 10, 23, 30, tzinfo=SH), "withdrawal", 10, 2, (1, 0, 1), 3)
    # 00:30 Shanghai on the 11th is 16:30 UTC on the 10th: it belongs to the 11th
    served(t1, dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC), "deposit", 1, 1, (0, 0, 0), None)
    served(t2, dt.datetime(2026, 3, 10, 10, 0, tzinfo=SH), "transfer", 7, 5, (0, 0, 0), None)
    # 23:59 Shanghai on the 9th
    served(t2, dt.datetime(2026, 3, 9, 23, 59, tzinfo=SH), "payment", 2, 2, (1, 1, 1), 4)
    # another branch
    served(t3, dt.datetime(2026, 3, 10, 11, 0, tzinfo=SH), "deposit", 20, 10, (0, 1, 0), 1)
    return {"t1": t1, "t2": t2, "t3": t3}


NO_TYPES = {
    "deposit": 0,
    "withdrawal": 0,
    "transfer": 0,
    "payment": 0,
    "account_opening": 0,
    "card": 0,
    "loan_inquiry": 0,
    "ebanking_help": 0,
    "other": 0,
}
NO_RATINGS = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


def figures(**changes):
    return {
        "count": 0,
        "avg_wait": None,
        "avg_handling": None,
        "smile_share": None,
        "standing_share": None,
        "wording_share": None,
        "avg_rating": None,
        "rated_count": 0,
        "ratings": dict(NO_RATINGS),
        "business_types": dict(NO_TYPES),
        **changes,
    }


T1_DAY = figures(
    count=2,
    avg_wait=7.0,
    avg_handling=4.0,
    smile_share=1.0,
    standing_share=0.5,
    wording_share=1.0,
    avg_rating=4.0,
    rated_count=2,
    ratings={**NO_RATINGS, 3: 1, 5: 1},
    business_types={**NO_TYPES, "deposit": 1, "withdrawal": 1},
)
T2_DAY = figures(
    count=1,
    avg_wait=7.0,
    avg_handling=5.0,
    smile_share=0.0,
    standing_share=0.0,
    wording_share=0.0,
    business_types={**NO_TYPES, "transfer": 1},
)


def test_branch_manager_day_per_teller_outlet_and_total(org, data, make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    summary = service_summary(user=manager, period="day", day=DAY)

    assert (summary["start"], summary["end"]) == (DAY, DAY)
    # keyed by id: the order of Chinese names depends on the database collation
    assert {row["teller_id"]: row for row in summary["tellers"]} == {
        data["t1"].pk: {
            "teller_id": data["t1"].pk,
            "teller": "Staff 1",
            "outlet": "城关支行营业部",
            **T1_DAY,
        },
        data["t2"].pk: {
            "teller_id": data["t2"].pk,
            "teller": "Staff 2",
            "outlet": "管仲路分理处",
            **T2_DAY,
        },
    }
    assert {row["outlet_id"]: row for row in summary["outlets"]} == {
        org["B01-01"].pk: {
            "outlet_id": org["B01-01"].pk,
            "outlet": "城关支行营业部",
            "branch": "城关支行",
            **T1_DAY,
        },
        org["B01-02"].pk: {
            "outlet_id": org["B01-02"].pk,
            "outlet": "管仲路分理处",
            "branch": "城关支行",
            **T2_DAY,
        },
    }
    assert summary["total"] == figures(
        count=3,
        avg_wait=7.0,  # (4 + 10 + 7) / 3
        avg_handling=4.33,  # (6 + 2 + 5) / 3
        smile_share=0.6667,
        standing_share=0.3333,
        wording_share=0.6667,
        avg_rating=4.0,
        rated_count=2,
        ratings={**NO_RATINGS, 3: 1, 5: 1},
        business_types={**NO_TYPES, "deposit": 1, "withdrawal": 1, "transfer": 1},
    )
    assert summary["days"] == []


def test_half_past_midnight_in_shanghai_counts_for_the_next_day(data, make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    next_day = service_summary(user=manager, period="day", day=dt.date(2026, 3, 11))

    assert [(row["teller_id"], row["count"]) for row in next_day["tellers"]] == [(data["t1"].pk, 1)]
    assert next_day["total"]["business_types"]["deposit"] == 1


def test_branch_manager_month_per_teller_and_per_day(data, make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    summary = service_summary(user=manager, period="month", day=DAY)

    assert (summary["start"], summary["end"]) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    by_teller = {row["teller_id"]: row for row in summary["tellers"]}
    t1, t2 = by_teller[data["t1"].pk], by_teller[data["t2"].pk]
    assert (t1["count"], t1["avg_wait"], t1["avg_handling"], t1["avg_rating"]) == (3, 5.0, 3.0, 4.0)
    assert (t1["smile_share"], t1["standing_share"], t1["wording_share"]) == (
        0.6667,
        0.3333,
        0.6667,
    )
    assert t1["business_types"] == {**NO_TYPES, "deposit": 2, "withdrawal": 1}
    assert (t2["count"], t2["avg_wait"], t2["avg_handling"], t2["avg_rating"]) == (2, 4.5, 3.5, 4.0)
    assert t2["ratings"] == {**NO_RATINGS, 4: 1}
    assert summary["total"]["count"] == 5
    assert summary["days"] == [
        {
            "day": dt.date(2026, 3, 9),
            "count": 1,
            "avg_wait": 2.0,
            "avg_handling": 2.0,
            "avg_rating": 4.0,
        },
        {
            "day": dt.date(2026, 3, 10),
            "count": 3,
            "avg_wait": 7.0,
            "avg_handling": 4.33,
            "avg_rating": 4.0,
        },
        {
            "day": dt.date(2026, 3, 11),
            "count": 1,
            "avg_wait": 1.0,
            "avg_handling": 1.0,
            "avg_rating": None,
        },
    ]


def test_management_sees_every_branch_and_may_narrow_to_one(org, data, make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")

    everything = service_summary(user=director, period="day", day=DAY)
    only_b02 = service_summary(user=director, period="day", day=DAY, branch=org["B02"])

    assert {row["teller_id"] for row in everything["tellers"]} == {
        data["t1"].pk,
        data["t2"].pk,
        data["t3"].pk,
    }
    assert everything["total"]["count"] == 4
    assert [row["teller_id"] for row in only_b02["tellers"]] == [data["t3"].pk]
    assert only_b02["total"]["avg_wait"] == 20.0


def test_branch_manager_cannot_ask_for_another_branch(org, data, make_staff):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    with pytest.raises(DomainError) as refused:
        service_summary(user=manager, period="day", day=DAY, branch=org["B02"])

    assert refused.value.field == "branch"


def test_summary_is_a_few_group_by_queries_whatever_the_data(
    data, make_staff, django_assert_num_queries
):
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")
    manager.has_perm("customers.view_serviceinteraction")  # warm the permission cache
    service_summary(user=manager, period="month", day=DAY)

    # tellers, outlets, total, per-day series
    with django_assert_num_queries(4):
        service_summary(user=manager, period="month", day=DAY)


# --- page and API -----------------------------------------------------------------------------


def test_summary_page_for_managers_and_management(client, org, data, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = client.get(reverse("customers:service_summary"), {"date": "2026-03-10"})

    assert response.status_code == 200
    body = response.content.decode()
    assert '<div class="fs-3 fw-semibold" data-testid="total-count">3</div>' in body
    assert {row["teller_id"] for row in response.context["summary"]["tellers"]} == {
        data["t1"].pk,
        data["t2"].pk,
    }
    month = client.get(
        reverse("customers:service_summary"), {"period": "month", "month": "2026-03"}
    )
    assert month.context["summary"]["total"]["count"] == 5
    assert len(month.context["summary"]["days"]) == 3


def test_summary_page_management_branch_filter(client, org, data, make_staff):
    client.force_login(make_staff(Role.MANAGEMENT, unit="HQ"))

    response = client.get(
        reverse("customers:service_summary"), {"date": "2026-03-10", "branch": org["B02"].pk}
    )

    assert response.status_code == 200
    assert [row["teller_id"] for row in response.context["summary"]["tellers"]] == [data["t3"].pk]


def test_summary_page_refuses_tellers_and_bad_input(client, org, make_staff):
    client.force_login(make_staff(Role.TELLER, unit="B01-01"))
    assert client.get(reverse("customers:service_summary")).status_code == 403

    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))
    assert client.get(reverse("customers:service_summary"), {"date": "10/03"}).status_code == 400
    other_branch = client.get(reverse("customers:service_summary"), {"branch": org["B02"].pk})
    assert other_branch.status_code == 400


def test_summary_page_has_a_fixed_number_of_queries(
    client, data, make_staff, django_assert_max_num_queries
):
    client.force_login(make_staff(Role.MANAGEMENT, unit="HQ"))
    with django_assert_max_num_queries(14):
        response = client.get(
            reverse("customers:service_summary"), {"period": "month", "month": "2026-03"}
        )
    assert response.status_code == 200


def test_summary_api(org, data, make_staff):
    api = APIClient()
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = api.get("/api/v1/service-summary/", {"period": "day", "date": "2026-03-10"})

    assert response.status_code == 200
    body = response.json()
    assert body["total"]["count"] == 3
    assert body["total"]["ratings"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}
    assert {row["teller_id"] for row in body["tellers"]} == {data["t1"].pk, data["t2"].pk}
    assert api.get("/api/v1/service-summary/", {"period": "year"}).status_code == 400
    assert api.get("/api/v1/service-summary/", {"branch": org["B02"].pk}).status_code == 400
    assert api.get("/api/v1/service-summary/", {"branch": 999999}).status_code == 400


def test_summary_api_refuses_tellers(make_staff):
    api = APIClient()
    api.force_authenticate(make_staff(Role.TELLER, unit="B01-01"))

    assert api.get("/api/v1/service-summary/").status_code == 403
