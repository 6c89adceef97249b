"""The demo seed (two campaigns a quarter apart, idempotent) and the workbench entries/panel."""

from __future__ import annotations

import pytest

from coop.roles import Role
from surveys.models import Campaign, ImprovementItem, ProcessFeedback, Response


@pytest.fixture
def demo(sv_roles):
    from coop.demo import seed_all
    from customers.demo import seed_customers

    seed_all()
    seed_customers(per_branch=30)


def test_demo_seed_is_believable_and_idempotent(demo):
    from coop.models import User
    from surveys import analysis
    from surveys.demo import seed

    summary = seed()
    assert summary.startswith("2 campaigns")
    assert summary.endswith(", 2 branch campaigns, 2 feedback")
    first, second = Campaign.objects.filter(org_unit__code="HQ").order_by("starts_on")
    for code, owner, indicator in (("B01", "b1_am2", "F03"), ("B02", "b2_am1", "B01")):
        branch_campaign = Campaign.objects.get(org_unit__code=code)
        assert branch_campaign.state == "draft"
        assert list(branch_campaign.target_branches.values_list("code", flat=True)) == [code]
        assert branch_campaign.invitations.count() == 0
        branch_item = ImprovementItem.objects.get(org_unit__code=code)
        assert (branch_item.campaign, branch_item.owner.username) == (first, owner)
        assert branch_item.indicator.code == indicator
    assert sorted(ProcessFeedback.objects.values_list("org_unit__code", flat=True)) == [
        "B01",
        "B02",
    ]
    assert (first.state, second.state) == ("closed", "open")
    assert (second.starts_on - first.starts_on).days == 91
    assert first.framework.indicators.filter(parent__isnull=False).count() == 26
    for campaign in (first, second):
        responses = Response.objects.filter(campaign=campaign)
        assert responses.filter(is_valid=False).exists()
        assert responses.filter(is_valid=True).count() >= 20
    assert Response.objects.filter(is_straight_line=True).count() == 2  # one per campaign
    assert ImprovementItem.objects.count() >= 1
    director = User.objects.get(username="director")
    result = analysis.campaign_analysis(user=director, campaign=first)
    assert result["index"] is not None
    assert {row["quadrant"] for row in result["indicators"]} >= {1, 2}

    def counts_now():
        return (
            Campaign.objects.count(),
            Response.objects.count(),
            ImprovementItem.objects.count(),
            ProcessFeedback.objects.count(),
        )

    counts = counts_now()
    assert seed() == "0 campaigns, 0 responses, 0 improvement items, 0 branch campaigns, 0 feedback"
    after = counts_now()
    assert after == counts


ENTRIES = {
    Role.ACCOUNT_MANAGER: ["/surveys/", "/surveys/ledger/", "/surveys/feedback/"],
    Role.TELLER: ["/surveys/feedback/"],
    Role.BRANCH_MANAGER: ["/surveys/", "/surveys/ledger/", "/surveys/feedback/"],
    Role.MANAGEMENT: [
        "/surveys/",
        "/surveys/ledger/",
        "/surveys/feedback/",
        "/surveys/frameworks/",
    ],
    Role.SYSADMIN: ["/surveys/frameworks/"],
}


@pytest.mark.parametrize("role", list(ENTRIES))
def test_every_entry_opens_for_its_roles(client, sv_roles, make_staff, role):
    from coop.workbench import entries_for_roles

    user = make_staff(role, unit="HQ" if role in (Role.MANAGEMENT, Role.SYSADMIN) else "B01")
    client.force_login(user)
    urls = sorted(e.url for e in entries_for_roles([role]) if e.key.startswith("survey"))
    assert urls == sorted(ENTRIES[role])
    for url in urls:
        assert client.get(url).status_code == 200


def test_workbench_panel_shows_open_and_overdue_items(
    client, sv, org, small_framework, make_campaign
):
    from datetime import timedelta

    from django.utils import timezone

    from surveys.services import improvement_open

    item = improvement_open(
        actor=sv.manager,
        title="反馈渠道不畅",
        owner=sv.am,
        level="same_level",
        plan="开通热线",
        due_on=timezone.localdate() + timedelta(days=3),
    )
    ImprovementItem.objects.filter(pk=item.pk).update(
        due_on=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(sv.am)
    html = client.get("/").content.decode()
    assert 'data-testid="surveys-panel-card"' in html
    assert 'data-testid="panel-overdue">1<' in html
    client.force_login(sv.other_am)
    assert 'data-testid="surveys-panel-card"' not in client.get("/").content.decode()


def test_latest_index_and_counts_for_the_dashboard(sv, org, small_framework, make_campaign):
    from decimal import Decimal as D

    from surveys.models import Invitation
    from surveys.selectors import latest_index, open_improvement_counts
    from tests.surveys.conftest import HAND_RESPONSES, answers_of, make_customers, submit

    assert latest_index(sv.manager) is None
    make_customers(org, sv.am, 3)
    campaign = make_campaign(small_framework)
    for invitation, values in zip(
        Invitation.objects.filter(campaign=campaign).order_by("reference"),
        HAND_RESPONSES,
        strict=True,
    ):
        submit(invitation, answers_of(values))
    latest = latest_index(sv.manager)
    assert (latest["campaign"], latest["index"], latest["valid"]) == (campaign, D("54.50"), 3)
    assert latest["previous_index"] is None
    assert latest_index(sv.other_manager) is None
    assert open_improvement_counts(sv.manager) == {"open": 0, "overdue": 0, "mine": 0}
