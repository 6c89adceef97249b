"""Who a campaign invites: by branch, grid, loan stage, customer type and corporate respondent,
with those attributes kept on the invitation for the breakdowns."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from coop.services import ConflictError, DomainError
from customers.models import Customer
from grid.models import Grid, Household, Village
from surveys.models import Campaign, Invitation
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import active_loan, grant, make_customer, make_product

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff


@pytest.fixture
def people(org, staff):
    """A borrower with a working-capital loan, one with a car loan (fixed asset), a depositor in
    a grid, a depositor elsewhere, a corporate, and a customer of another branch."""
    valid_to = timezone.localdate() + timedelta(days=365)
    working = make_customer(org, staff.am, name="流动资金客户")
    active_loan(
        staff, grant(staff.manager, working, make_product(revolving_years=0), valid_to=valid_to)
    )
    fixed = make_customer(org, staff.am, name="购车客户")
    car = make_product(code="car-loan", revolving_years=0)
    active_loan(staff, grant(staff.manager, fixed, car, valid_to=valid_to))
    in_grid = make_customer(org, staff.am, name="网格储户")
    grid = Grid.objects.create(
        code="G-T1", name="测试网格", branch=org["B01"], account_manager=staff.am
    )
    village = Village.objects.create(grid=grid, town="城关镇", name="测试村")
    Household.objects.create(village=village, head_name=in_grid.name, head=in_grid)
    plain = make_customer(org, staff.am, name="普通储户")
    company = Customer.objects.create(
        kind="corporate", name="测试农业公司", branch=org["B01"], owner=staff.am
    )
    elsewhere = make_customer(org, staff.other_am, branch="B02", name="谢桥客户")
    return {
        "working": working,
        "fixed": fixed,
        "in_grid": in_grid,
        "plain": plain,
        "company": company,
        "elsewhere": elsewhere,
        "grid": grid,
    }


@pytest.fixture
def framework(staff):
    from coop.roles import sync_roles
    from surveys.services import framework_create
    from tests.surveys.conftest import SMALL_INDICATORS

    sync_roles()
    return framework_create(actor=None, code="t", name="t", indicators=SMALL_INDICATORS)


def opened(actor, framework, **kw) -> Campaign:
    from surveys.services import campaign_create, campaign_open

    campaign = campaign_create(
        actor=actor,
        name="定向调查",
        framework=framework,
        period="one_off",
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 5, 31),
        **kw,
    )
    return campaign_open(actor=actor, campaign=campaign)


def invited(campaign) -> dict:
    return {
        (i.customer.name, i.respondent_role): (i.loan_stage, i.customer_type, i.grid_id)
        for i in Invitation.objects.filter(campaign=campaign).select_related("customer")
    }


def test_branch_campaign_invites_its_customers_with_their_profile(staff, people, framework):
    campaign = opened(
        staff.manager, framework, respondent_roles=["legal_representative", "finance_contact"]
    )
    grid = people["grid"].pk
    assert invited(campaign) == {
        ("流动资金客户", "individual"): ("in_loan", "working_capital", None),
        ("购车客户", "individual"): ("in_loan", "fixed_asset", None),
        ("网格储户", "individual"): ("none", "depositor", grid),
        ("普通储户", "individual"): ("none", "depositor", None),
        ("测试农业公司", "legal_representative"): ("none", "depositor", None),
        ("测试农业公司", "finance_contact"): ("none", "depositor", None),
    }


def test_filters_by_stage_type_and_grid(staff, people, framework):
    assert set(invited(opened(staff.manager, framework, loan_stages=["in_loan"]))) == {
        ("流动资金客户", "individual"),
        ("购车客户", "individual"),
    }
    assert set(invited(opened(staff.manager, framework, customer_types=["fixed_asset"]))) == {
        ("购车客户", "individual")
    }
    assert set(invited(opened(staff.manager, framework, target_grids=[people["grid"]]))) == {
        ("网格储户", "individual")
    }


def test_head_office_campaign_by_branch(staff, people, framework, org):
    campaign = opened(staff.director, framework, target_branches=[org["B02"]])
    assert set(invited(campaign)) == {("谢桥客户", "individual")}


def test_bad_targets_change_nothing(staff, people, framework, org):
    from surveys.services import campaign_create

    with pytest.raises(DomainError):
        campaign_create(
            actor=staff.manager,
            name="越权",
            framework=framework,
            period="monthly",
            starts_on=date(2026, 5, 1),
            ends_on=date(2026, 5, 31),
            target_branches=[org["B02"]],
        )
    with pytest.raises(DomainError):
        campaign_create(
            actor=staff.manager,
            name="日期颠倒",
            framework=framework,
            period="monthly",
            starts_on=date(2026, 5, 31),
            ends_on=date(2026, 5, 1),
        )
    assert Campaign.objects.count() == 0


def test_opening_twice_is_a_conflict(staff, people, framework):
    from surveys.services import campaign_open

    campaign = opened(staff.manager, framework)
    count = Invitation.objects.count()
    with pytest.raises(ConflictError):
        campaign_open(actor=staff.manager, campaign=campaign)
    assert Invitation.objects.count() == count


def test_only_the_running_unit_opens_or_closes(staff, people, framework):
    from django.core.exceptions import PermissionDenied

    from surveys.services import campaign_close

    campaign = opened(staff.director, framework)
    with pytest.raises(PermissionDenied):
        campaign_close(actor=staff.manager, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).state == "open"
