"""The grid pages: they render for the roles that hold them, act through the services, refuse
the roles that do not, and list with a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from coop.roles import Role
from grid.models import CampaignHousehold, Household, VillageCreditCampaign
from grid.services.campaigns import campaign_reconcile
from grid.services.signing import campaign_household_sign

D = Decimal


def entry_of(campaign, household) -> CampaignHousehold:
    return CampaignHousehold.objects.get(campaign=campaign, household=household)


@pytest.fixture
def running(world):
    """A crediting campaign: one household reconciled close, one compromise, one signed."""
    households = [world.household(name) for name in ("张建国", "李秀英", "王春生")]
    campaign = world.crediting()
    world.evaluate(entry_of(campaign, households[0]), *[("good", "5000")] * 3)
    world.evaluate(
        entry_of(campaign, households[1]), ("good", "1000"), ("good", "5000"), ("good", "9000")
    )
    world.evaluate(entry_of(campaign, households[2]), *[("excellent", "8000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    campaign_household_sign(actor=world.am, entry=entry_of(campaign, households[2]))
    return campaign, households


def page_urls(world, campaign, households) -> list[str]:
    household = households[0]
    return [
        reverse("grid:coverage"),
        reverse("grid:my_grid"),
        reverse("grid:detail", args=[world.grid.pk]),
        reverse("grid:village", args=[world.village.pk]),
        reverse("grid:household", args=[household.pk]),
        reverse("grid:performance") + "?period=quarter",
        reverse("grid:followups"),
        reverse("grid:filing_requirements"),
        reverse("grid:campaigns"),
        reverse("grid:campaign", args=[campaign.pk]),
        reverse("grid:campaign_households", args=[campaign.pk]),
        reverse("grid:campaign_results", args=[campaign.pk]),
        reverse("grid:precredit", args=[campaign.pk]),
        reverse("grid:notice", args=[campaign.pk]),
        reverse("grid:campaign_plan", args=[campaign.pk]),
    ]


def test_every_page_renders_for_the_account_manager_and_the_branch_manager(client, world, running):
    campaign, households = running
    for user in (world.am, world.manager, world.director):
        client.force_login(user)
        for url in page_urls(world, campaign, households):
            response = client.get(url)
            assert response.status_code == 200, (user.username, url, response.status_code)
            assert 'lang="zh-hans"' in response.content.decode()


def test_an_other_branch_gets_404_for_every_object(client, world, running):
    campaign, households = running
    client.force_login(world.other_manager)
    for url in (
        page_urls(world, campaign, households)[2:5] + page_urls(world, campaign, households)[9:]
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("grid:coverage")).status_code == 200
    body = client.get(reverse("grid:coverage")).content.decode()
    assert "五里湖网格" not in body


def test_an_account_manager_outside_the_grid_gets_404(client, world, running):
    campaign, households = running
    client.force_login(world.outsider_am)
    assert client.get(reverse("grid:detail", args=[world.grid.pk])).status_code == 404
    assert client.get(reverse("grid:household", args=[households[0].pk])).status_code == 404
    assert client.get(reverse("grid:campaign", args=[campaign.pk])).status_code == 404
    assert "五里湖" not in client.get(reverse("grid:campaigns")).content.decode()


def test_roles_without_the_permission_get_403(client, world, make_staff):
    client.force_login(make_staff(Role.TELLER, unit="B01-01"))
    for name in ("grid:coverage", "grid:my_grid", "grid:campaigns", "grid:performance"):
        assert client.get(reverse(name)).status_code == 403
    client.force_login(world.am)
    assert client.get(reverse("grid:grid_new")).status_code == 403
    assert client.get(reverse("grid:blacklist")).status_code == 403


def test_the_public_notice_shows_masked_names_and_no_personal_data(client, world, running):
    campaign, households = running
    excluded = world.household("黑名单户")
    from grid.services.structure import blacklist_add

    blacklist_add(actor=world.manager, customer=excluded.head, reason="恶意逃废债务")
    from grid.services.campaigns import campaign_households_add

    campaign_households_add(actor=world.am, campaign=campaign)
    client.force_login(world.am)

    body = client.get(reverse("grid:notice", args=[campaign.pk])).content.decode()

    assert "张*国" in body and "王*生" in body  # pre-credited: close, and signed
    assert "张建国" not in body.split('data-testid="notice"')[1]
    assert "李*英" not in body  # still with the batch-credit group
    assert "黑*户" not in body and "恶意逃废债务" not in body and "黑名单" not in body
    assert "¥5,000.00" in body and "¥8,000.00" in body
    for household in households:
        head = household.head
        assert head.id_number not in body
        assert head.mobile not in body


def test_exclusion_reasons_are_shown_to_staff(client, world):
    world.household("普通户")
    listed = world.household("拉黑户")
    from grid.services.structure import blacklist_add

    blacklist_add(actor=world.manager, customer=listed.head, reason="恶意逃废债务")
    campaign = world.campaign()
    client.force_login(world.am)
    body = client.get(
        reverse("grid:campaign_households", args=[campaign.pk]) + "?stage=excluded"
    ).content.decode()
    assert "拉黑户" in body and "普通户" not in body
    assert "黑名单" in body or "On the blacklist" in body


def test_creating_a_household_and_members_through_the_pages(client, world):
    client.force_login(world.am)
    response = client.post(
        reverse("grid:household_new", args=[world.village.pk]),
        {
            "head_name": "新户主",
            "village_group": "5组",
            "address": "五里湖村5组",
            "income_sources": ["farming", "breeding"],
            "assets": "住房一处",
            "labour_count": "2",
        },
    )
    household = Household.objects.get(head_name="新户主")
    assert response.status_code == 302
    assert response["Location"] == reverse("grid:household", args=[household.pk])
    assert household.income_sources == ["farming", "breeding"]

    response = client.post(
        reverse("grid:member_new", args=[household.pk]),
        {"name": "新奶奶", "relation": "parent", "birth_year": "1938"},
    )
    assert response.status_code == 302
    assert household.members.count() == 2

    # Bad input: nothing is created, the page says why
    response = client.post(reverse("grid:household_new", args=[world.village.pk]), {})
    assert response.status_code == 400
    assert Household.objects.count() == 1


def test_reconciling_deciding_and_signing_through_the_pages(client, world, running):
    campaign, households = running
    compromise = entry_of(campaign, households[1])
    client.force_login(world.manager)

    response = client.post(
        reverse("grid:entry_decide", args=[compromise.pk]),
        {"limit": "4000", "rating": "good", "comment": "按家庭收入调整"},
    )
    assert response.status_code == 302
    compromise.refresh_from_db()
    assert (compromise.limit, compromise.decided_by) == (D("4000.00"), world.manager)

    client.force_login(world.am)
    close = entry_of(campaign, households[0])
    response = client.post(reverse("grid:entry_sign", args=[close.pk]), {"channel": "door_to_door"})
    assert response.status_code == 302
    close.refresh_from_db()
    assert close.signing == "signed"
    assert close.credit_line is not None


def test_an_evaluator_cannot_decide_through_the_page(client, world, running):
    campaign, households = running
    compromise = entry_of(campaign, households[1])
    world.am.groups.add(*world.manager.groups.all())  # even holding the permission
    client.force_login(world.am)
    body = client.get(reverse("grid:campaign_results", args=[campaign.pk])).content.decode()
    assert 'data-testid="decision-form"' not in body
    client.post(
        reverse("grid:entry_decide", args=[compromise.pk]),
        {"limit": "4000", "rating": "good", "comment": "自己决定"},
    )
    compromise.refresh_from_db()
    assert compromise.decided_at is None


def test_campaign_creation_through_the_page(client, world):
    client.force_login(world.am)
    today = timezone.localdate()
    response = client.post(
        reverse("grid:campaign_new"),
        {
            "village": world.village.pk,
            "name": "五里湖村2026整村授信",
            "project_manager": world.am.pk,
            "product": world.product.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            "tolerance_percent": "25",
            "credit_months": "24",
        },
    )
    campaign = VillageCreditCampaign.objects.get()
    assert response.status_code == 302
    assert campaign.tolerance == D("0.250")
    assert campaign.phase == "preparation"


# --- query budgets ----------------------------------------------------------------------------


def _grow(world, n: int):
    households = [world.household(f"户{len(Household.objects.all())}_{i}") for i in range(n)]
    return households


@pytest.mark.parametrize(
    "name",
    [
        "village",
        "campaign_households",
        "campaign_results",
        "precredit",
        "notice",
        "campaign_evaluate",
        "coverage",
        "my_grid",
        "campaigns",
        "performance",
        "followups",
    ],
)
def test_list_pages_use_a_fixed_number_of_queries(
    client, world, name, django_assert_max_num_queries
):
    households = _grow(world, 4)
    campaign = world.crediting()
    for household in households:
        world.evaluate(entry_of(campaign, household), *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    args = {
        "village": [world.village.pk],
        "coverage": [],
        "my_grid": [],
        "campaigns": [],
        "performance": [],
        "followups": [],
    }.get(name, [campaign.pk])
    url = reverse(f"grid:{name}", args=args)
    client.force_login(world.am)
    client.get(url)  # warm the session and permission caches

    with django_assert_max_num_queries(30) as small:
        assert client.get(url).status_code == 200
    # Ten times the households: the same number of queries
    more = _grow(world, 12)
    from grid.services.campaigns import campaign_households_add

    campaign_households_add(actor=world.am, campaign=campaign)
    for household in more:
        world.evaluate(entry_of(campaign, household), *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
