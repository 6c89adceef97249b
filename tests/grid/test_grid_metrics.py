"""Coverage and filing rates, granted and drawn amounts on known data; plan progress; account
manager performance; follow-ups due."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Visit
from grid import metrics
from grid.models import CampaignHousehold, Household, VillageCreditCampaign
from grid.services.campaigns import campaign_plan_day_set, campaign_reconcile
from grid.services.followups import followups_plan
from grid.services.households import household_card_record
from grid.services.signing import campaign_household_away, campaign_household_sign
from grid.services.structure import grid_create, village_create
from loans.models import Contract, Loan

D = Decimal


def draw_on(line, principal: str, manager) -> Loan:
    """A loan drawn on ``line`` (ORM: the grid app only reads drawdowns)."""
    contract = Contract.objects.create(
        number=f"CT-{line.number}",
        credit_line=line,
        customer=line.customer,
        branch=line.branch,
        amount=D(principal),
        term_months=12,
        annual_rate=D("0.06"),
        repayment_method="bullet",
        created_by=manager,
    )
    return Loan.objects.create(
        number=f"LN-{line.number}",
        contract=contract,
        customer=line.customer,
        branch=line.branch,
        product=line.product,
        credit_line=line,
        account_manager=manager,
        principal=D(principal),
        outstanding_principal=D(principal),
        annual_rate=D("0.06"),
        term_months=12,
        repayment_method="bullet",
    )


def entry_of(campaign, household) -> CampaignHousehold:
    return CampaignHousehold.objects.get(campaign=campaign, household=household)


@pytest.fixture
def village_figures(world):
    """Ten households: 7 filed, 3 not; 8 evaluated, 6 pre-credited, 2 signed, ¥3,000 drawn."""
    filed = [world.household(f"建档户{i}") for i in range(7)]
    unfiled = [world.household(f"未建档户{i}", filed=False) for i in range(3)]
    campaign = world.crediting()
    for household in filed[:4] + unfiled[:2]:
        world.evaluate(entry_of(campaign, household), *[("good", "5000")] * 3)
    for household in filed[4:6]:  # far apart: compromise, not yet decided
        world.evaluate(
            entry_of(campaign, household), ("good", "1000"), ("good", "5000"), ("good", "9000")
        )
    campaign_reconcile(actor=world.am, campaign=campaign)
    first = campaign_household_sign(actor=world.am, entry=entry_of(campaign, filed[0]))
    campaign_household_sign(actor=world.am, entry=entry_of(campaign, filed[1]))
    draw_on(first.credit_line, "3000.00", world.am)
    return campaign


def test_village_grid_and_branch_figures_on_known_data(world, village_figures):
    # Another grid's village must not mix in
    other_grid = grid_create(
        actor=world.manager,
        branch=world.org["B01"],
        code="B01-G02",
        name="管仲网格",
        account_manager=world.am2,
    )
    other = village_create(actor=world.manager, grid=other_grid, town="城关镇", name="管仲村")
    from grid.services.households import household_create

    household_create(actor=world.am2, village=other, head_name="外村户")

    by_village = metrics.household_figures(Household.objects.all(), "village")
    by_grid = metrics.household_figures(Household.objects.all(), "grid")
    by_branch = metrics.household_figures(Household.objects.all(), "branch")

    expected = metrics.Figures(
        households=10,
        filed=7,
        evaluated=8,
        pre_credited=6,
        signed=2,
        granted=D("10000.00"),
        drawn=D("3000.00"),
    )
    assert by_village[world.village.pk] == expected
    assert by_grid[world.grid.pk] == expected
    assert by_village[world.village.pk].coverage_rate == D("60.0")
    assert by_village[world.village.pk].filing_rate == D("70.0")
    assert by_village[other.pk] == metrics.Figures(households=1)
    assert by_branch[world.org["B01"].pk].households == 11
    assert by_branch[world.org["B01"].pk].coverage_rate == D("54.5")


def test_campaign_figures_on_known_data(world, village_figures):
    figures = metrics.campaign_figures(VillageCreditCampaign.objects.all())[village_figures.pk]

    assert figures == metrics.CampaignFigures(
        households=10,
        filed=7,
        evaluated=8,
        pre_credited=6,
        signed=2,
        granted=D("10000.00"),
        drawn=D("3000.00"),
        excluded=0,
        to_decide=2,
        refused=0,
        away=0,
        pending_signing=4,
    )
    assert (figures.coverage_rate, figures.filing_rate) == (D("60.0"), D("70.0"))


def test_rates_are_percentages_to_one_decimal_as_in_the_seed():
    assert metrics.rate(292, 405) == D("72.1")  # 洪洋村
    assert metrics.rate(962, 1478) == D("65.1")  # the branch's grids
    assert metrics.rate(292, 292) == D("100.0")
    assert metrics.rate(0, 0) is None


def test_figures_use_a_fixed_number_of_queries(world, village_figures, django_assert_num_queries):
    with django_assert_num_queries(3):
        metrics.household_figures(Household.objects.all(), "grid")
    with django_assert_num_queries(2):
        metrics.campaign_figures(VillageCreditCampaign.objects.all())


# --- plan progress ----------------------------------------------------------------------------


def test_plan_progress_by_day_week_and_month(world):
    households = [world.household(f"计划户{i}") for i in range(3)]
    campaign = world.crediting()
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    campaign_plan_day_set(
        actor=world.am, campaign=campaign, day=yesterday, task="入户建档", planned_evaluations=3
    )
    campaign_plan_day_set(
        actor=world.am,
        campaign=campaign,
        day=today,
        task="背靠背评议",
        planned_evaluations=4,
        planned_signings=2,
    )
    for household in households[:2]:
        world.evaluate(entry_of(campaign, household), *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    campaign_household_sign(actor=world.am, entry=entry_of(campaign, households[0]))

    progress = metrics.plan_progress(campaign)

    days = [
        (
            p.start,
            p.label,
            p.planned_evaluations,
            p.done_evaluations,
            p.planned_signings,
            p.done_signings,
        )
        for p in progress["days"]
    ]
    assert days == [
        (yesterday, "入户建档", 3, 0, 0, 0),
        (today, "背靠背评议", 4, 2, 2, 1),
    ]
    for level in ("weeks", "months"):
        assert sum(p.planned_evaluations for p in progress[level]) == 7
        assert sum(p.done_evaluations for p in progress[level]) == 2
        assert sum(p.done_signings for p in progress[level]) == 1
    this_week = progress["weeks"][-1]
    iso = today.isocalendar()
    assert this_week.label == f"{iso.year}-W{iso.week:02d}"
    assert progress["months"][-1].label == f"{today:%Y-%m}"


def test_plan_days_lie_within_the_campaign(world):
    world.household("计划外")
    campaign = world.crediting()
    from coop.services import DomainError

    with pytest.raises(DomainError):
        campaign_plan_day_set(
            actor=world.am, campaign=campaign, day=campaign.ends_on + timedelta(days=1)
        )
    assert not campaign.plan_days.exists()


# --- performance ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "on", "start", "end"),
    [
        ("day", date(2026, 2, 28), date(2026, 2, 28), date(2026, 3, 1)),
        ("month", date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),
        ("quarter", date(2026, 11, 15), date(2026, 10, 1), date(2027, 1, 1)),
        ("quarter", date(2026, 1, 1), date(2026, 1, 1), date(2026, 4, 1)),
    ],
)
def test_period_ranges(period, on, start, end):
    assert metrics.period_range(period, on) == (start, end)


def test_account_manager_performance_per_grid(world):
    households = [world.household(f"绩效户{i}") for i in range(2)]
    campaign = world.crediting()
    for household in households:
        world.evaluate(entry_of(campaign, household), *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    campaign_household_sign(actor=world.am, entry=entry_of(campaign, households[0]))
    today = timezone.localdate()
    for customer, staff in (
        (households[0].head, world.am),
        (households[1].head, world.am),
        (households[1].head, world.am2),
    ):
        Visit.objects.create(
            customer=customer, staff=staff, visited_on=today, channel="visit", outcome="contacted"
        )
    from grid.models import Grid

    [row] = metrics.grid_performance(Grid.objects.filter(pk=world.grid.pk), "month", today)

    assert (row.new_customers, row.visits) == (2, 2)
    assert (row.pre_credited_in_period, row.signed_in_period) == (2, 1)
    assert (row.pre_credited_to_date, row.signed_to_date) == (2, 1)
    assert row.success_rate == D("50.0")
    [earlier] = metrics.grid_performance(
        Grid.objects.filter(pk=world.grid.pk), "day", today - timedelta(days=40)
    )
    assert (earlier.new_customers, earlier.visits, earlier.signed_to_date) == (0, 0, 0)


# --- follow-ups -------------------------------------------------------------------------------


def test_follow_ups_due_by_the_seed_rules(world):
    on = date(2026, 5, 20)  # Q2: April–June
    names = [
        "无卡未联系",
        "无卡本月已联系",
        "无卡上月联系",
        "有卡未用本季已联系",
        "有卡未用上季联系",
        "有卡已用",
        "外出到期",
        "外出未到期",
    ]
    households = {name: world.household(name) for name in names}
    campaign = world.crediting()
    for household in households.values():
        world.evaluate(entry_of(campaign, household), *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=campaign)
    for name in names[:6]:
        campaign_household_sign(actor=world.am, entry=entry_of(campaign, households[name]))
    CampaignHousehold.objects.filter(household=households["外出到期"]).update(
        signing="away", away_note="上海", away_follow_up_on=date(2026, 5, 18)
    )
    campaign_household_away(
        actor=world.am,
        entry=entry_of(campaign, households["外出未到期"]),
        note="深圳",
        follow_up_on=timezone.localdate() + timedelta(days=400),
    )
    for name in names[3:6]:
        household_card_record(
            actor=world.am, household=households[name], issued_on=date(2026, 1, 5)
        )
    used = entry_of(campaign, households["有卡已用"])
    draw_on(used.credit_line, "2000.00", world.am)

    def visit(name, on_day):
        Visit.objects.create(
            customer=households[name].head,
            staff=world.am,
            visited_on=on_day,
            channel="phone",
            outcome="contacted",
        )

    visit("无卡本月已联系", date(2026, 5, 3))
    visit("无卡上月联系", date(2026, 4, 28))
    visit("有卡未用本季已联系", date(2026, 4, 2))
    visit("有卡未用上季联系", date(2026, 3, 30))

    # The rows are materialized by the beat sweep; the page lists the open ones.
    followups_plan(on=on)
    due = metrics.followups_due(world.am, on)

    assert sorted(
        ((f.household.head_name, f.kind, f.last_contact, f.due_by) for f in due), key=str
    ) == sorted(
        [
            ("无卡未联系", "no_card", None, date(2026, 5, 31)),
            ("无卡上月联系", "no_card", date(2026, 4, 28), date(2026, 5, 31)),
            ("有卡未用上季联系", "unused", date(2026, 3, 30), date(2026, 6, 30)),
            ("外出到期", "away", None, date(2026, 5, 18)),
        ],
        key=str,
    )
    # Only the account manager's own grids: another account manager has none due
    assert list(metrics.followups_due(world.outsider_am, on)) == []


def test_masked_names_for_the_public_notice():
    assert metrics.mask_name("张建国") == "张*国"
    assert metrics.mask_name("李四") == "李*"
    assert metrics.mask_name("欧阳明华") == "欧**华"
    assert metrics.mask_name("王") == "王"
