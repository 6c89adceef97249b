"""The grid API: scoped reads, the campaign run end to end, errors mapped in one place, query
budgets, and the OpenAPI schema."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from coop.roles import Role
from grid.models import CampaignHousehold, Household, HouseholdMember, VillageCreditCampaign
from loans.models import CreditLine

D = Decimal


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_campaign_end_to_end_through_the_api(world):
    households = [world.household(name) for name in ("张建国", "李秀英")]
    am = api_for(world.am)
    today = timezone.localdate()

    # Create, choose evaluators, start crediting
    response = am.post(
        "/api/v1/grid/campaigns/",
        {
            "village": world.village.pk,
            "name": "五里湖村整村授信",
            "project_manager": world.am.pk,
            "product": world.product.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    campaign_id = response.json()["id"]
    assert response.json()["phase"] == "preparation"
    response = am.put(
        f"/api/v1/grid/campaigns/{campaign_id}/evaluators/",
        {"evaluators": [u.pk for u in world.evaluators]},
        format="json",
    )
    assert response.status_code == 200
    # No target households yet: 409, nothing changes
    response = am.post(
        f"/api/v1/grid/campaigns/{campaign_id}/transition/", {"to": "crediting"}, format="json"
    )
    assert response.status_code == 409
    from grid.services.campaigns import campaign_households_add

    campaign_households_add(actor=world.am, campaign=VillageCreditCampaign.objects.get())
    response = am.post(
        f"/api/v1/grid/campaigns/{campaign_id}/transition/", {"to": "crediting"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["phase"] == "crediting"

    # Three evaluators submit for both households
    entries = am.get(f"/api/v1/grid/campaigns/{campaign_id}/households/").json()["results"]
    assert [e["submitted_count"] for e in entries] == [0, 0]
    for evaluator, limit in zip(world.evaluators, ("5000", "5500", "5900"), strict=True):
        for entry in entries:
            response = api_for(evaluator).post(
                f"/api/v1/grid/campaigns/{campaign_id}/evaluations/",
                {"entry": entry["id"], "rating": "good", "suggested_limit": limit},
                format="json",
            )
            assert response.status_code == 201, response.json()

    # Reconcile the village in one request
    response = am.post(f"/api/v1/grid/campaigns/{campaign_id}/reconcile/")
    assert response.json() == {"reconciled": 2, "close": 2, "compromise": 0, "pre_credited": 2}
    results = am.get(f"/api/v1/grid/campaigns/{campaign_id}/results/").json()["results"]
    assert results[0]["rule"]["limits_close"] is True
    assert results[0]["rule"]["limit_rule"] == "mean"
    assert results[0]["rule"]["mean"] == "5466.67"
    assert results[0]["limit"] == "5000.00"

    # Sign one door to door, the other refuses
    first, second = results
    response = am.post(
        f"/api/v1/grid/campaign-households/{first['id']}/signing/", {"action": "sign"}
    )
    assert response.status_code == 200
    assert response.json()["signing"] == "signed"
    assert response.json()["credit_line"].startswith("CL")
    response = am.post(
        f"/api/v1/grid/campaign-households/{second['id']}/signing/",
        {"action": "refuse", "reason": ""},
    )
    assert response.status_code == 400
    response = am.post(
        f"/api/v1/grid/campaign-households/{second['id']}/signing/",
        {"action": "refuse", "reason": "暂不需要"},
    )
    assert response.json()["signing"] == "refused"
    assert CreditLine.objects.filter(customer=households[0].head).count() == 1
    figures = am.get(f"/api/v1/grid/campaigns/{campaign_id}/").json()["figures"]
    assert (figures["pre_credited"], figures["signed"], figures["refused"]) == (2, 1, 1)
    assert figures["coverage_rate"] == "100.0"


def test_households_and_members_through_the_api(world):
    am = api_for(world.am)
    response = am.post(
        "/api/v1/grid/households/",
        {
            "village": world.village.pk,
            "head_name": "赵德明",
            "village_group": "2组",
            "income_sources": ["farming"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    household_id = response.json()["id"]
    response = am.post(
        f"/api/v1/grid/households/{household_id}/members/",
        {"name": "赵小宝", "relation": "grandchild", "birth_year": 2018},
        format="json",
    )
    assert response.status_code == 201
    member_id = response.json()["id"]
    response = am.patch(f"/api/v1/grid/members/{member_id}/", {"birth_year": 2017}, format="json")
    assert response.json()["birth_year"] == 2017
    response = am.patch(
        f"/api/v1/grid/households/{household_id}/", {"labour_count": 3}, format="json"
    )
    assert response.json()["labour_count"] == 3
    assert am.delete(f"/api/v1/grid/members/{member_id}/").status_code == 204
    assert HouseholdMember.objects.filter(household_id=household_id).count() == 1

    # A village out of scope is refused on the field, and nothing is filed
    response = api_for(world.other_am).post(
        "/api/v1/grid/households/",
        {"village": world.village.pk, "head_name": "越权户"},
        format="json",
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["code", "village"]
    assert response.json()["code"] == "not_found"
    assert not Household.objects.filter(head_name="越权户").exists()


def test_reads_are_scoped_and_out_of_scope_is_404(world):
    household = world.household("范建华")
    campaign = world.crediting()
    entry = CampaignHousehold.objects.get(campaign=campaign)

    assert api_for(world.manager).get("/api/v1/grid/grids/").json()["count"] == 1
    assert api_for(world.director).get("/api/v1/grid/grids/").json()["count"] == 1
    assert api_for(world.other_manager).get("/api/v1/grid/grids/").json()["count"] == 0
    assert api_for(world.outsider_am).get("/api/v1/grid/households/").json()["count"] == 0
    assert api_for(world.am2).get("/api/v1/grid/households/").json()["count"] == 1  # officer

    outsider = api_for(world.other_manager)
    for url in (
        f"/api/v1/grid/grids/{world.grid.pk}/",
        f"/api/v1/grid/villages/{world.village.pk}/",
        f"/api/v1/grid/households/{household.pk}/",
        f"/api/v1/grid/campaigns/{campaign.pk}/",
        f"/api/v1/grid/campaigns/{campaign.pk}/evaluations/",
    ):
        assert outsider.get(url).status_code == 404, url
    response = outsider.post(
        f"/api/v1/grid/campaign-households/{entry.pk}/signing/", {"action": "sign"}
    )
    assert response.status_code == 404


def test_grid_officers_mobile_numbers_are_masked(world, make_staff):
    body = api_for(world.am).get(f"/api/v1/grid/grids/{world.grid.pk}/").json()
    mobiles = [o["mobile"] for o in body["officers"]]
    assert "139****5678" in mobiles
    assert "13912345678" not in str(body)
    full = api_for(world.manager).get(f"/api/v1/grid/grids/{world.grid.pk}/").json()
    # Even a manager who may see full numbers gets them masked here: full numbers are shown only
    # by the logged reveal views.
    assert "139****5678" in [o["mobile"] for o in full["officers"]]
    assert "13912345678" not in str(full)


def test_roles_without_the_permission_get_403(world, make_staff):
    teller = api_for(make_staff(Role.TELLER, unit="B01-01"))
    assert teller.get("/api/v1/grid/grids/").status_code == 403
    assert teller.get("/api/v1/grid/campaigns/").status_code == 403
    assert (
        api_for(world.am).post("/api/v1/grid/campaign-households/1/decision/", {}).status_code
        == 403
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/grid/grids/",
        "/api/v1/grid/villages/",
        "/api/v1/grid/households/",
        "/api/v1/grid/campaigns/",
        "campaign:households/",
        "campaign:evaluations/",
        "campaign:results/",
        "/api/v1/grid/follow-ups/",
    ],
)
def test_list_endpoints_use_a_fixed_number_of_queries(world, url, django_assert_max_num_queries):
    from grid.services.campaigns import campaign_households_add, campaign_reconcile

    def grow(n):
        for i in range(n):
            world.household(f"API户{Household.objects.count()}_{i}")

    grow(3)
    campaign = world.crediting()

    def evaluate_all():
        for entry in CampaignHousehold.objects.filter(campaign=campaign, submitted_count=0):
            world.evaluate(entry, *[("good", "5000")] * 3)
        campaign_reconcile(actor=world.am, campaign=campaign)

    evaluate_all()
    if url.startswith("campaign:"):
        url = f"/api/v1/grid/campaigns/{campaign.pk}/{url.split(':')[1]}"
    api = api_for(world.am)
    with django_assert_max_num_queries(20) as small:
        assert api.get(url).status_code == 200
    grow(10)
    campaign_households_add(actor=world.am, campaign=campaign)
    evaluate_all()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get(url).status_code == 200


def test_the_schema_documents_the_grid_endpoints(client, world, make_staff):
    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/grid/grids/",
        "/api/v1/grid/households/{id}/members/",
        "/api/v1/grid/campaigns/{id}/evaluations/",
        "/api/v1/grid/campaigns/{id}/reconcile/",
        "/api/v1/grid/campaigns/{id}/results/",
        "/api/v1/grid/campaign-households/{id}/signing/",
    ):
        assert path in paths, path
    post = paths["/api/v1/grid/campaigns/{id}/evaluations/"]["post"]
    assert {"201", "400", "403", "404", "409"} <= set(post["responses"])
