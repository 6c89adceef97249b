"""Back-to-back evaluation: before all three evaluators have submitted, nobody sees another's
entry — not in the pages' HTML, not in the API's JSON, not in counts beyond "n of 3"."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from grid.models import CampaignHousehold
from grid.services.campaigns import evaluation_submit

D = Decimal
SECRET_LIMIT = "7300"
SECRET_COMMENT = "只有我知道的备注"


@pytest.fixture
def half_evaluated(world):
    """Evaluator 1 has submitted a distinctive entry; evaluators 2 and 3 have not."""
    household = world.household("张建国")
    campaign = world.crediting()
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
    evaluation_submit(
        actor=world.am,
        entry=entry,
        rating="excellent",
        suggested_limit=D(SECRET_LIMIT),
        comment=SECRET_COMMENT,
    )
    return campaign, entry


def leaks(text: str, *, json: bool = False) -> list[str]:
    """Traces of evaluator 1's entry: its limit, its comment, or its rating as a value. (In HTML
    every evaluation form lists the ratings, so there only a selected option counts.)"""
    rating = '"excellent"' if json else 'value="excellent" selected'
    return [needle for needle in (SECRET_LIMIT, "7,300", SECRET_COMMENT, rating) if needle in text]


def page_texts(client, campaign) -> dict[str, str]:
    urls = {
        "evaluate": reverse("grid:campaign_evaluate", args=[campaign.pk]),
        "results": reverse("grid:campaign_results", args=[campaign.pk]),
        "households": reverse("grid:campaign_households", args=[campaign.pk]),
        "campaign": reverse("grid:campaign", args=[campaign.pk]),
    }
    texts = {}
    for name, url in urls.items():
        response = client.get(url)
        if response.status_code == 200:
            texts[name] = response.content.decode()
    return texts


def api_texts(user, campaign) -> dict[str, str]:
    api = APIClient()
    api.force_authenticate(user)
    texts = {}
    for suffix in ("evaluations", "households", "results", ""):
        url = f"/api/v1/grid/campaigns/{campaign.pk}/{suffix + '/' if suffix else ''}"
        response = api.get(url)
        assert response.status_code == 200, (url, response.status_code)
        texts[suffix or "campaign"] = response.content.decode()
    return texts


def test_other_evaluators_and_managers_see_nothing_before_all_three(client, world, half_evaluated):
    campaign, _entry = half_evaluated
    for reader in (world.am2, world.am3, world.manager, world.director):
        client.force_login(reader)
        for name, text in page_texts(client, campaign).items():
            assert leaks(text) == [], (reader.username, name)
        for name, text in api_texts(reader, campaign).items():
            assert leaks(text, json=True) == [], (reader.username, "api", name)


def test_only_the_count_is_shown(client, world, half_evaluated):
    campaign, entry = half_evaluated
    client.force_login(world.am2)
    body = client.get(reverse("grid:campaign_evaluate", args=[campaign.pk])).content.decode()
    assert "1 / 3" in body or "已提交 1 / 3" in body or "1 of 3" in body
    api = APIClient()
    api.force_authenticate(world.am2)
    [row] = api.get(f"/api/v1/grid/campaigns/{campaign.pk}/households/").json()["results"]
    assert row["submitted_count"] == 1
    assert row["evaluated_at"] is None
    assert api.get(f"/api/v1/grid/campaigns/{campaign.pk}/evaluations/").json()["count"] == 0


def test_the_evaluator_sees_their_own_entry(client, world, half_evaluated):
    campaign, _entry = half_evaluated
    client.force_login(world.am)
    body = client.get(reverse("grid:campaign_evaluate", args=[campaign.pk])).content.decode()
    assert "¥7,300.00" in body
    api = APIClient()
    api.force_authenticate(world.am)
    [own] = api.get(f"/api/v1/grid/campaigns/{campaign.pk}/evaluations/").json()["results"]
    assert (own["evaluator"]["id"], own["suggested_limit"]) == (world.am.pk, "7300.00")


def test_two_of_three_still_reveal_nothing_to_the_third(client, world, half_evaluated):
    campaign, entry = half_evaluated
    evaluation_submit(actor=world.am2, entry=entry, rating="good", suggested_limit=D("6100"))
    client.force_login(world.am3)
    body = client.get(reverse("grid:campaign_evaluate", args=[campaign.pk])).content.decode()
    assert leaks(body) == []
    assert "6100" not in body and "6,100" not in body
    api = APIClient()
    api.force_authenticate(world.am3)
    text = api.get(f"/api/v1/grid/campaigns/{campaign.pk}/evaluations/").content.decode()
    assert leaks(text, json=True) == [] and "6100" not in text


def test_everything_is_open_once_all_three_are_in(client, world, half_evaluated):
    campaign, entry = half_evaluated
    evaluation_submit(actor=world.am2, entry=entry, rating="good", suggested_limit=D("6100"))
    evaluation_submit(actor=world.am3, entry=entry, rating="good", suggested_limit=D("6500"))

    client.force_login(world.am2)
    body = client.get(reverse("grid:campaign_evaluate", args=[campaign.pk])).content.decode()
    assert "¥7,300.00" in body and SECRET_COMMENT in body and "¥6,500.00" in body
    api = APIClient()
    api.force_authenticate(world.manager)
    rows = api.get(f"/api/v1/grid/campaigns/{campaign.pk}/evaluations/").json()["results"]
    assert sorted(r["suggested_limit"] for r in rows) == ["6100.00", "6500.00", "7300.00"]


def test_an_htmx_submission_returns_only_the_evaluators_row(client, world, half_evaluated):
    campaign, entry = half_evaluated
    client.force_login(world.am2)
    response = client.post(
        reverse("grid:entry_evaluate", args=[entry.pk]),
        {f"e{entry.pk}-rating": "good", f"e{entry.pk}-suggested_limit": "6100"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="saved"' in body
    assert leaks(body) == []
    entry.refresh_from_db()
    assert entry.submitted_count == 2
