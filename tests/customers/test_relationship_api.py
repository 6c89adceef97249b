"""/api/v1/ segments, visits and grade changes: permissions, scoping, errors, query budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from coop.roles import Role
from customers.models import Customer, GradeChange, Segment, Visit
from customers.segment_rules import today_in_shanghai
from customers.services.relationship import grade_change_approve, segment_create
from tests.customers.test_relationship_support import (
    grade_of,
    make_customer,
    make_visit,
    open_proposal,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")

HIGH_VALUE = [{"attribute": "deposit_balance", "op": "gte", "value": "500000"}]


@pytest.fixture
def world(org, make_staff):
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    am_b2 = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    w = {
        "am": am,
        "am_b2": am_b2,
        "manager": make_staff(Role.BRANCH_MANAGER, unit="B01"),
        "director": make_staff(Role.MANAGEMENT, unit="HQ"),
        "teller": make_staff(Role.TELLER, unit="B01-01"),
        "mine": make_customer(am, name="本行客户", deposit_balance="900000"),
        "theirs": make_customer(am_b2, name="他行客户", deposit_balance="900000"),
    }
    w["segment"] = segment_create(
        actor=w["director"], code="high-value", name="高价值", rules=HIGH_VALUE
    )
    return w


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- segments ------------------------------------------------------------------------------------


def test_segments_list_counts_only_visible_members(world):
    mine = api(world["manager"]).get("/api/v1/segments/")
    everything = api(world["director"]).get("/api/v1/segments/")

    assert mine.status_code == 200
    assert mine.json()["count"] == 1
    row = mine.json()["results"][0]
    assert (row["code"], row["member_count"]) == ("high-value", 1)
    assert row["rules"] == [{"attribute": "deposit_balance", "op": "gte", "value": "500000.00"}]
    assert everything.json()["results"][0]["member_count"] == 2


def test_segments_create_needs_manage_segments(world):
    body = {"code": "young", "name": "年轻", "rules": HIGH_VALUE}

    refused = api(world["manager"]).post("/api/v1/segments/", body, format="json")
    created = api(world["director"]).post("/api/v1/segments/", body, format="json")

    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json()["member_count"] == 2
    assert Segment.objects.filter(code="young").count() == 1


def test_segments_create_with_an_unknown_attribute_names_it(world):
    response = api(world["director"]).post(
        "/api/v1/segments/",
        {"code": "x", "name": "x", "rules": [{"attribute": "salary", "op": "gte", "value": 1}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_attribute"
    assert "salary" in response.json()["rules"][0]
    assert not Segment.objects.filter(code="x").exists()


def test_segments_patch_recompute_and_errors(world):
    url = f"/api/v1/segments/{world['segment'].pk}/"
    director = api(world["director"])

    patched = director.patch(
        url,
        {"rules": [{"attribute": "deposit_balance", "op": "gte", "value": 1000000}]},
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["member_count"] == 0

    Customer.objects.filter(pk=world["mine"].pk).update(deposit_balance="2000000")
    recomputed = director.post(f"{url}recompute/")
    assert recomputed.status_code == 200
    assert recomputed.json()["member_count"] == 1

    director.patch(url, {"is_active": False}, format="json")
    assert director.post(f"{url}recompute/").status_code == 409
    assert api(world["manager"]).patch(url, {"name": "x"}, format="json").status_code == 403
    assert director.get("/api/v1/segments/999999/").status_code == 404
    assert api(world["teller"]).get("/api/v1/segments/").status_code == 403


# --- visits --------------------------------------------------------------------------------------


def test_visits_are_scoped(world):
    today = today_in_shanghai()
    mine = make_visit(world["mine"], world["am"], visited_on=today)
    theirs = make_visit(world["theirs"], world["am_b2"], visited_on=today)
    client = api(world["manager"])

    listed = client.get("/api/v1/visits/").json()

    assert [v["id"] for v in listed["results"]] == [mine.pk]
    assert client.get(f"/api/v1/visits/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/visits/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/visits/?customer={world['theirs'].pk}").json()["count"] == 0
    assert client.get("/api/v1/visits/?customer=abc").status_code == 400


def test_create_a_visit(world):
    response = api(world["am"]).post(
        "/api/v1/visits/",
        {"customer": world["mine"].pk, "channel": "wechat", "outcome": "contacted"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["customer"], body["visited_on"], body["staff"]) == (
        world["mine"].pk,
        today_in_shanghai().isoformat(),
        world["am"].pk,
    )


def test_a_visit_to_another_branchs_customer_is_refused(world):
    response = api(world["am"]).post(
        "/api/v1/visits/",
        {"customer": world["theirs"].pk, "channel": "visit", "outcome": "contacted"},
        format="json",
    )

    assert response.status_code == 400
    assert "customer" in response.json()
    assert Visit.objects.count() == 0


def test_a_visit_in_the_future_is_refused(world):
    tomorrow = today_in_shanghai() + timedelta(days=1)

    response = api(world["am"]).post(
        "/api/v1/visits/",
        {
            "customer": world["mine"].pk,
            "channel": "visit",
            "outcome": "contacted",
            "visited_on": tomorrow.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "future"
    assert "visited_on" in response.json()
    assert Visit.objects.count() == 0


def test_tellers_cannot_use_the_visits_api(world):
    assert api(world["teller"]).get("/api/v1/visits/").status_code == 403


# --- grade changes -------------------------------------------------------------------------------

PROPOSAL = {
    "new_customer_class": "partner",
    "new_managing_level": "branch",
    "new_industry_category": "key",
    "new_customer_category": "key",
    "reason": "合作加深",
}


def test_propose_and_approve(world):
    proposed = api(world["am"]).post(
        f"/api/v1/customers/{world['mine'].pk}/grade-changes/", PROPOSAL, format="json"
    )
    assert proposed.status_code == 201
    change_id = proposed.json()["id"]
    assert proposed.json()["old_customer_class"] == "maintenance"

    approved = api(world["manager"]).post(f"/api/v1/grade-changes/{change_id}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert grade_of(world["mine"]) == ("partner", "branch", "key", "key")

    again = api(world["director"]).post(f"/api/v1/grade-changes/{change_id}/approve/")
    assert again.status_code == 409
    assert again.json()["code"] == "decided"


def test_second_open_proposal_and_out_of_scope_customer(world):
    client = api(world["am"])
    client.post(f"/api/v1/customers/{world['mine'].pk}/grade-changes/", PROPOSAL, format="json")

    second = client.post(
        f"/api/v1/customers/{world['mine'].pk}/grade-changes/", PROPOSAL, format="json"
    )
    other = client.post(
        f"/api/v1/customers/{world['theirs'].pk}/grade-changes/", PROPOSAL, format="json"
    )

    assert (second.status_code, second.json()["code"]) == (400, "open_proposal")
    assert other.status_code == 404
    assert GradeChange.objects.count() == 1


def test_own_proposal_is_403_and_stale_is_409(world, make_staff):
    own = open_proposal(world["mine"], world["manager"])
    forbidden = api(world["manager"]).post(f"/api/v1/grade-changes/{own.pk}/approve/")
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "four_eyes")

    Customer.objects.filter(pk=world["mine"].pk).update(customer_class="strategic")
    stale = api(world["director"]).post(f"/api/v1/grade-changes/{own.pk}/approve/")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    own.refresh_from_db()
    assert own.status == GradeChange.Status.PROPOSED


def test_reject_needs_a_comment_and_scope(world):
    mine = open_proposal(world["mine"], world["am"])
    theirs = open_proposal(world["theirs"], world["am_b2"])
    client = api(world["manager"])

    no_comment = client.post(f"/api/v1/grade-changes/{mine.pk}/reject/", {}, format="json")
    out_of_scope = client.post(
        f"/api/v1/grade-changes/{theirs.pk}/reject/", {"comment": "越权"}, format="json"
    )
    rejected = client.post(
        f"/api/v1/grade-changes/{mine.pk}/reject/", {"comment": "依据不足"}, format="json"
    )

    assert no_comment.status_code == 400
    assert out_of_scope.status_code == 404
    assert rejected.status_code == 200
    assert rejected.json()["decision_comment"] == "依据不足"
    theirs.refresh_from_db()
    assert theirs.status == GradeChange.Status.PROPOSED


def test_grade_change_list_is_scoped_and_filtered(world):
    mine = open_proposal(world["mine"], world["am"])
    open_proposal(world["theirs"], world["am_b2"])
    client = api(world["manager"])

    assert [c["id"] for c in client.get("/api/v1/grade-changes/").json()["results"]] == [mine.pk]
    assert client.get("/api/v1/grade-changes/?status=approved").json()["count"] == 0
    assert client.get("/api/v1/grade-changes/?status=bogus").status_code == 400
    assert api(world["teller"]).get("/api/v1/grade-changes/").status_code == 403
    # account managers follow their own proposals
    assert api(world["am"]).get("/api/v1/grade-changes/").json()["count"] == 1


# --- query budgets and documentation -------------------------------------------------------------


def _grow(world, n):
    from customers.services.relationship import segment_recompute

    today = today_in_shanghai()
    for i in range(n):
        customer = make_customer(world["am"], deposit_balance="800000")
        make_visit(customer, world["am"], visited_on=today - timedelta(days=i))
        change = open_proposal(customer, world["am"])
        if i % 2:
            grade_change_approve(actor=world["manager"], change=change)
    segment_recompute(segment=world["segment"])
    Segment.objects.bulk_create(
        Segment(code=f"extra-{n}-{i}", name=f"附加{i}", rules=HIGH_VALUE) for i in range(n)
    )


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("manager", "/api/v1/segments/"),
        ("director", "/api/v1/segments/"),
        ("manager", "/api/v1/visits/"),
        ("manager", "/api/v1/grade-changes/"),
    ],
)
def test_list_endpoints_run_a_fixed_number_of_queries(
    world, who, url, django_assert_max_num_queries
):
    client = api(world[who])
    _grow(world, 2)
    client.get(url)  # the forced user keeps its permission cache between requests: warm it
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    _grow(world, 60)
    with django_assert_max_num_queries(8):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 50  # one page of the default size
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small)


def test_the_endpoints_are_documented_with_their_errors(world):
    client = APIClient()
    client.force_login(world["director"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]

    expected = {
        ("/api/v1/segments/", "get"): {"200", "400", "403", "404"},
        ("/api/v1/segments/", "post"): {"201", "400", "403", "404"},
        ("/api/v1/segments/{id}/", "patch"): {"200", "400", "403", "404"},
        ("/api/v1/segments/{id}/recompute/", "post"): {"200", "400", "403", "404", "409"},
        ("/api/v1/visits/", "post"): {"201", "400", "403", "404"},
        ("/api/v1/visits/{id}/", "get"): {"200", "400", "403", "404"},
        ("/api/v1/grade-changes/", "get"): {"200", "400", "403", "404"},
        ("/api/v1/customers/{id}/grade-changes/", "post"): {"201", "400", "403", "404"},
        ("/api/v1/grade-changes/{id}/approve/", "post"): {"200", "400", "403", "404", "409"},
        ("/api/v1/grade-changes/{id}/reject/", "post"): {"200", "400", "403", "404", "409"},
    }
    for (path, method), codes in expected.items():
        # Every operation also documents 401: a request without credentials (token first).
        assert set(paths[path][method]["responses"]) == codes | {"401"}, (path, method)
