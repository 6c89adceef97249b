"""Follow-ups on the page, the workbench panel and the API: open rows of one's own grids only,
closed by a "done" action that records the contact; fixed query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from coop.models import AuditEvent
from coop.workbench import panels_for
from customers.models import Visit
from grid.models import CampaignHousehold, Household, HouseholdFollowUp
from grid.services.campaigns import campaign_reconcile
from grid.services.followups import followup_complete, followups_plan
from grid.services.structure import grid_create, village_create


def credit(world, *names: str, village=None, filed: bool = True) -> dict[str, Household]:
    households = {name: world.household(name, filed=filed) for name in names}
    if village is not None:
        Household.objects.filter(pk__in=[h.pk for h in households.values()]).update(village=village)
    campaign = world.crediting()
    for household in households.values():
        entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
        world.evaluate(entry, *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    return households


@pytest.fixture
def en_client(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_page_lists_the_open_follow_ups_of_ones_own_grids(en_client, world):
    credit(world, "张建国", "李秀英")
    followups_plan()
    en_client.force_login(world.am)

    response = en_client.get(reverse("grid:followups"))

    assert response.status_code == 200
    assert sorted(r.household.head_name for r in response.context["page_obj"]) == [
        "张建国",
        "李秀英",
    ]
    assert response.context["count"] == 2
    assert response.content.decode().count('data-testid="followup-row"') == 2


@pytest.mark.parametrize("who", ["outsider_am", "other_am", "manager"])
def test_others_see_none_of_them_and_cannot_close_them(en_client, world, who):
    credit(world, "张建国")
    followups_plan()
    row = HouseholdFollowUp.objects.get()
    en_client.force_login(getattr(world, who))

    page = en_client.get(reverse("grid:followups"))
    done = en_client.post(
        reverse("grid:followup_done", args=[row.pk]), {"channel": "phone", "outcome": "contacted"}
    )

    assert page.status_code == 200
    assert list(page.context["page_obj"]) == []
    assert done.status_code == 404
    row.refresh_from_db()
    assert row.status == "open"
    assert not Visit.objects.exists()


def test_done_records_the_contact_and_closes_the_row(en_client, world):
    h = credit(world, "张建国")
    followups_plan()
    row = HouseholdFollowUp.objects.get()
    en_client.force_login(world.am)

    response = en_client.post(
        reverse("grid:followup_done", args=[row.pk]),
        {
            "channel": "visit",
            "outcome": "interested",
            "notes": "想办卡",
            "next": "/grid/follow-ups/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/grid/follow-ups/"
    row.refresh_from_db()
    visit = Visit.objects.get()
    assert (row.status, row.completed_by, row.visit, row.outcome, row.note) == (
        "done",
        world.am,
        visit,
        "interested",
        "想办卡",
    )
    assert (visit.customer_id, visit.channel, visit.visited_on) == (
        h["张建国"].head_id,
        "visit",
        timezone.localdate(),
    )
    assert AuditEvent.objects.filter(action="followup.complete", object_id=str(row.pk)).count()
    # a second "done" is refused and changes nothing
    again = en_client.post(
        reverse("grid:followup_done", args=[row.pk]), {"channel": "phone", "outcome": "contacted"}
    )
    assert again.status_code == 404
    assert Visit.objects.count() == 1


def test_done_with_a_bad_outcome_changes_nothing(en_client, world):
    credit(world, "张建国")
    followups_plan()
    row = HouseholdFollowUp.objects.get()
    en_client.force_login(world.am)

    response = en_client.post(
        reverse("grid:followup_done", args=[row.pk]), {"channel": "phone", "outcome": "nonsense"}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "open"
    assert not Visit.objects.exists()


def test_done_for_a_household_without_a_filed_head_keeps_the_outcome(world):
    credit(world, "未建档", filed=False)
    followups_plan()
    row = HouseholdFollowUp.objects.get()

    closed = followup_complete(
        actor=world.am, followup=row, channel="visit", outcome="not_reached", notes="家中无人"
    )

    assert (closed.status, closed.visit, closed.outcome, closed.note) == (
        "done",
        None,
        "not_reached",
        "家中无人",
    )


def test_a_visit_recorded_elsewhere_hides_the_row_at_once(world):
    h = credit(world, "张建国")
    followups_plan()
    Visit.objects.create(
        customer=h["张建国"].head,
        staff=world.am,
        visited_on=timezone.localdate(),
        channel="phone",
        outcome="contacted",
    )

    from grid import metrics

    assert list(metrics.followups_due(world.am, timezone.localdate())) == []
    assert HouseholdFollowUp.objects.get().status == "open"  # until the next sweep closes it


def test_the_workbench_panel_shows_ones_own_open_follow_ups(client, world):
    credit(world, "张建国", "李秀英")
    followups_plan()
    reverse("grid:followups")  # the URLconf import registers the panels

    mine = {p.key: ctx for p, ctx in panels_for(world.am)}
    theirs = {p.key: ctx for p, ctx in panels_for(world.outsider_am)}

    assert mine["grid_followups"]["count"] == 2
    assert sorted(r.household.head_name for r in mine["grid_followups"]["rows"]) == [
        "张建国",
        "李秀英",
    ]
    assert "grid_followups" not in theirs
    client.force_login(world.am)
    body = client.get("/").content.decode()
    assert 'data-testid="panel-grid_followups"' in body
    assert body.count('data-testid="followups-panel-row"') == 2


def test_the_api_lists_ones_own_open_follow_ups(world):
    h = credit(world, "张建国")
    followups_plan()
    api = APIClient()
    api.force_authenticate(world.am)

    mine = api.get("/api/v1/grid/follow-ups/").json()
    api.force_authenticate(world.outsider_am)
    theirs = api.get("/api/v1/grid/follow-ups/").json()

    assert mine["count"] == 1
    assert mine["results"][0]["household"] == h["张建国"].pk
    assert mine["results"][0]["kind"] == "no_card"
    assert theirs["count"] == 0


@pytest.mark.parametrize("households", [3, 40])
def test_pages_panel_and_api_use_a_fixed_number_of_queries(
    client, world, households, django_assert_max_num_queries
):
    credit(world, *[f"户{i}" for i in range(households)])
    # a second grid's households never show, whatever their number
    other = grid_create(
        actor=world.manager,
        branch=world.org["B01"],
        code="B01-G02",
        name="另一网格",
        account_manager=world.outsider_am,
    )
    village_create(actor=world.manager, grid=other, town="城关镇", name="管仲村")
    followups_plan(on=timezone.localdate() - timedelta(days=0))
    client.force_login(world.am)
    api = APIClient()
    api.force_authenticate(world.am)
    client.get("/")  # warm the URLconf and the panel registry

    with django_assert_max_num_queries(14):
        assert client.get(reverse("grid:followups")).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("grid:my_grid")).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(10):
        assert api.get("/api/v1/grid/follow-ups/").status_code == 200


def test_the_api_closes_ones_own_follow_up_and_404s_for_others(world):
    h = credit(world, "张建国")
    followups_plan()
    row = HouseholdFollowUp.objects.get()
    url = f"/api/v1/grid/follow-ups/{row.pk}/done/"
    outsider = APIClient()
    outsider.force_authenticate(world.outsider_am)
    api = APIClient()
    api.force_authenticate(world.am)

    refused = outsider.post(url, {"channel": "phone", "outcome": "contacted"}, format="json")
    bad = api.post(url, {"channel": "fax", "outcome": "contacted"}, format="json")
    assert (refused.status_code, bad.status_code) == (404, 400)
    assert HouseholdFollowUp.objects.get().status == "open"
    assert not Visit.objects.exists()

    done = api.post(url, {"channel": "phone", "outcome": "signed"}, format="json")

    visit = Visit.objects.get()
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["visit"]) == ("done", visit.pk)
    assert (visit.customer_id, visit.outcome) == (h["张建国"].head_id, "signed")
    assert (
        api.post(url, {"channel": "phone", "outcome": "signed"}, format="json").status_code == 404
    )
