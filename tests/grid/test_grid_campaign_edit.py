"""Editing a whole-village credit campaign: every term in preparation, only the name, the project
manager and the planned end once crediting has started; the creation rules on every edit; one
audit row; refusals change nothing; scope and permission."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from grid.models import VillageCreditCampaign
from grid.services.campaigns import campaign_update
from tests.loans.test_lifecycle_factories import make_product

D = Decimal
Phase = VillageCreditCampaign.Phase


def snapshot(campaign) -> dict:
    return VillageCreditCampaign.objects.filter(pk=campaign.pk).values().get()


def edit_form(campaign, **overrides) -> dict:
    values = {
        "name": campaign.name,
        "project_manager": campaign.project_manager_id,
        "product": campaign.product_id,
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat(),
        "tolerance_percent": "20.0",
        "credit_months": str(campaign.credit_months),
    }
    values.update(overrides)
    return values


def test_every_term_changes_in_preparation_with_one_audit_row(world):
    campaign = world.campaign()
    other_product = make_product(name="新农贷")
    updated = campaign_update(
        actor=world.am,
        campaign=campaign,
        name="五里湖村整村授信（第二期）",
        project_manager=world.am2,
        product=other_product,
        starts_on=date(2026, 12, 1),
        ends_on=date(2027, 2, 28),
        tolerance=D("0.150"),
        credit_months=36,
    )
    stored = snapshot(campaign)
    assert stored["name"] == "五里湖村整村授信（第二期）"
    assert stored["project_manager_id"] == world.am2.pk
    assert stored["product_id"] == other_product.pk
    assert (stored["starts_on"], stored["ends_on"]) == (date(2026, 12, 1), date(2027, 2, 28))
    assert (stored["tolerance"], stored["credit_months"]) == (D("0.150"), 36)
    assert updated.name == stored["name"]
    event = AuditEvent.objects.get(action="campaign.update", object_id=str(campaign.pk))
    assert event.actor == world.am
    assert event.data["before"]["credit_months"] == "24"
    assert event.data["after"]["credit_months"] == "36"
    assert event.data["after"]["project_manager"] == str(world.am2.pk)
    assert set(event.data["after"]) == {
        "name",
        "project_manager",
        "product",
        "starts_on",
        "ends_on",
        "tolerance",
        "credit_months",
    }


def test_an_edit_that_changes_nothing_writes_nothing(world):
    campaign = world.campaign()
    campaign_update(actor=world.am, campaign=campaign, name=campaign.name)
    assert not AuditEvent.objects.filter(action="campaign.update").exists()


def test_once_crediting_started_only_name_manager_and_end_change(world):
    world.household("张建国")
    campaign = world.crediting()
    before = snapshot(campaign)
    for field, value in (
        ("product", make_product()),
        ("starts_on", campaign.starts_on - timedelta(days=1)),
        ("tolerance", D("0.300")),
        ("credit_months", 12),
    ):
        with pytest.raises(ConflictError) as refused:
            campaign_update(actor=world.am, campaign=campaign, name="改名", **{field: value})
        assert refused.value.field == field
        assert snapshot(campaign) == before

    new_end = campaign.ends_on + timedelta(days=30)
    campaign_update(
        actor=world.am,
        campaign=campaign,
        name="延期",
        project_manager=world.am3,
        ends_on=new_end,
    )
    stored = snapshot(campaign)
    assert (stored["name"], stored["project_manager_id"], stored["ends_on"]) == (
        "延期",
        world.am3.pk,
        new_end,
    )
    assert stored["phase"] == Phase.CREDITING


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "  "}, "name"),
        ({"ends_on": date(2020, 1, 1)}, "ends_on"),
        ({"tolerance": D("1.5")}, "tolerance"),
        ({"credit_months": 0}, "credit_months"),
        ({"product": "secured"}, "product"),
        ({"project_manager": "outsider"}, "project_manager"),
    ],
)
def test_the_creation_rules_hold_on_every_edit(world, values, field):
    campaign = world.campaign()
    before = snapshot(campaign)
    if values.get("product") == "secured":
        values = {"product": make_product(security="max_amount_guarantee")}
    if values.get("project_manager") == "outsider":
        values = {"project_manager": world.outsider_am}
    with pytest.raises(DomainError) as refused:
        campaign_update(actor=world.am, campaign=campaign, **values)
    assert refused.value.field == field
    assert snapshot(campaign) == before
    assert not AuditEvent.objects.filter(action="campaign.update").exists()


def test_a_product_withdrawn_later_does_not_block_renaming(world):
    campaign = world.campaign()
    world.product.is_active = False
    world.product.save(update_fields=["is_active"])
    campaign_update(actor=world.am, campaign=campaign, name="更名")
    assert snapshot(campaign)["name"] == "更名"


def test_only_campaign_staff_may_edit(world, make_staff):
    from coop.roles import Role

    campaign = world.campaign()
    teller = make_staff(Role.TELLER, unit="B01-01")
    with pytest.raises(PermissionDenied):
        campaign_update(actor=teller, campaign=campaign, name="x")
    with pytest.raises(DomainError):
        campaign_update(actor=world.am, campaign=campaign, nonsense=1)
    assert snapshot(campaign)["name"] != "x"


# --- the page -----------------------------------------------------------------------------------


def test_the_project_manager_edits_the_campaign_on_its_page(client, world):
    campaign = world.campaign()
    client.force_login(world.am)
    detail = client.get(f"/grid/campaigns/{campaign.pk}/").content.decode()
    assert f"/grid/campaigns/{campaign.pk}/edit/" in detail

    page = client.get(f"/grid/campaigns/{campaign.pk}/edit/")
    assert page.status_code == 200
    assert 'value="20.0"' in page.content.decode()

    end = timezone.localdate() + timedelta(days=90)
    response = client.post(
        f"/grid/campaigns/{campaign.pk}/edit/",
        edit_form(campaign, ends_on=end.isoformat(), tolerance_percent="15"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/grid/campaigns/{campaign.pk}/"
    stored = snapshot(campaign)
    assert (stored["ends_on"], stored["tolerance"]) == (end, D("0.150"))


def test_in_crediting_the_fixed_terms_are_shown_but_not_taken(client, world):
    world.household("张建国")
    campaign = world.crediting()
    client.force_login(world.am)
    page = client.get(f"/grid/campaigns/{campaign.pk}/edit/").content.decode()
    assert page.count("disabled") >= 4

    # A posted change to a fixed term is ignored (the field is disabled); the rest is saved.
    response = client.post(
        f"/grid/campaigns/{campaign.pk}/edit/",
        edit_form(campaign, name="新名称", credit_months="6", tolerance_percent="50"),
    )
    assert response.status_code == 302
    stored = snapshot(campaign)
    assert (stored["name"], stored["credit_months"], stored["tolerance"]) == (
        "新名称",
        24,
        D("0.200"),
    )


def test_a_bad_edit_is_shown_and_changes_nothing(client, world):
    campaign = world.campaign()
    before = snapshot(campaign)
    client.force_login(world.am)
    response = client.post(
        f"/grid/campaigns/{campaign.pk}/edit/",
        edit_form(campaign, ends_on="2020-01-01"),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"]
    assert snapshot(campaign) == before


def test_the_edit_page_is_scoped_and_gated(client, world):
    campaign = world.campaign()
    client.force_login(world.other_manager)
    assert client.get(f"/grid/campaigns/{campaign.pk}/edit/").status_code == 404
    assert (
        client.post(
            f"/grid/campaigns/{campaign.pk}/edit/", edit_form(campaign, name="越权")
        ).status_code
        == 404
    )
    # Head-office management follows campaigns but does not run them.
    client.force_login(world.director)
    assert client.get(f"/grid/campaigns/{campaign.pk}/").status_code == 200
    assert client.get(f"/grid/campaigns/{campaign.pk}/edit/").status_code == 403
    client.force_login(world.manager)
    assert client.get(f"/grid/campaigns/{campaign.pk}/edit/").status_code == 200
    assert snapshot(campaign)["name"] != "越权"


# --- the API ------------------------------------------------------------------------------------


def test_the_api_patches_a_campaign_like_the_page(world):
    from rest_framework.test import APIClient

    world.household("张建国")
    campaign = world.campaign()
    api = APIClient()
    api.force_authenticate(world.am)
    url = f"/api/v1/grid/campaigns/{campaign.pk}/"

    changed = api.patch(url, {"credit_months": 36, "tolerance": "0.150"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["credit_months"] == 36
    assert (snapshot(campaign)["credit_months"], snapshot(campaign)["tolerance"]) == (
        36,
        D("0.150"),
    )

    bad = api.patch(url, {"ends_on": "2020-01-01"}, format="json")
    assert bad.status_code == 400 and "ends_on" in bad.json()
    unknown_manager = api.patch(url, {"project_manager": world.other_am.pk}, format="json")
    assert unknown_manager.status_code == 400 and "project_manager" in unknown_manager.json()

    from grid.services.campaigns import campaign_start_crediting

    campaign_start_crediting(actor=world.am, campaign=campaign)
    fixed = api.patch(url, {"credit_months": 12}, format="json")
    assert fixed.status_code == 409
    assert snapshot(campaign)["credit_months"] == 36

    outsider = APIClient()
    outsider.force_authenticate(world.other_manager)
    assert outsider.patch(url, {"name": "越权"}, format="json").status_code == 404
    director = APIClient()
    director.force_authenticate(world.director)
    assert director.patch(url, {"name": "越权"}, format="json").status_code == 403
    assert snapshot(campaign)["name"] != "越权"
    assert AuditEvent.objects.filter(action="campaign.update").count() == 1
