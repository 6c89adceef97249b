"""The demo data: grids for every branch, households with members, three campaigns in the three
phases in 城关 and one in follow-up in 谢桥; a second run adds nothing."""

from coop.demo import seed_all
from customers.demo import seed_customers
from grid import metrics
from grid.demo import seed
from grid.models import (
    CampaignHousehold,
    Grid,
    Household,
    HouseholdFollowUp,
    HouseholdMember,
    VillageCreditCampaign,
)
from grid.services.followups import followups_plan
from loans.models import CreditLine, Loan


def counts() -> tuple:
    return (
        Grid.objects.count(),
        Household.objects.count(),
        HouseholdMember.objects.count(),
        VillageCreditCampaign.objects.count(),
        CampaignHousehold.objects.count(),
        CreditLine.objects.count(),
    )


def test_the_demo_is_complete_and_idempotent(db):
    seed_all()
    seed_customers()

    summary = seed()

    assert "grids" in summary
    assert Grid.objects.filter(branch__code="B01").count() == 2
    assert Grid.objects.count() == 6
    phases = dict(VillageCreditCampaign.objects.values_list("village__name", "phase"))
    assert phases == {
        "五里湖村": "follow_up",
        "管仲村": "crediting",
        "刘集村": "preparation",
        "谢桥村": "follow_up",
    }
    assert VillageCreditCampaign.objects.get(village__name="谢桥村").village.grid.branch.code == (
        "B02"
    )
    signed = 0
    for village in ("五里湖村", "谢桥村"):
        follow_up = VillageCreditCampaign.objects.get(village__name=village)
        assert follow_up.entries.filter(signing="signed").count() > 0, village
        assert follow_up.entries.filter(pre_credited_at__isnull=False).count() > 0, village
        signed += follow_up.entries.filter(signing="signed").count()
    follow_up = VillageCreditCampaign.objects.get(village__name="五里湖村")
    assert follow_up.entries.filter(excluded_reason="blacklist").count() == 1
    assert CreditLine.objects.filter(source="village_campaign").count() == signed
    # Some households drew on their new lines at once: loans disbursed, and the grid's figures
    # show what was drawn.
    drawn = Loan.objects.filter(credit_line__source="village_campaign")
    assert drawn.count() > 0 and set(drawn.values_list("state", flat=True)) == {"active"}
    figures = metrics.household_figures(
        Household.objects.filter(village__name="五里湖村"), "village"
    )
    [village_figures] = figures.values()
    assert village_figures.drawn == sum(
        loan.principal for loan in drawn.filter(customer__branch__code="B01")
    )
    assert 0 < village_figures.drawn < village_figures.granted
    crediting = VillageCreditCampaign.objects.get(village__name="管仲村")
    assert set(crediting.entries.values_list("submitted_count", flat=True)) == {1, 2, 3}
    assert HouseholdMember.objects.filter(relation="parent").exists()
    assert HouseholdMember.objects.filter(is_migrant=True).exclude(works_in="").exists()
    assert Household.objects.filter(head__isnull=True).exists()

    before = counts()
    seed()
    assert counts() == before

    # The nightly sweep then finds credited households to follow up in both branches.
    followups_plan()
    branches = HouseholdFollowUp.objects.values_list(
        "household__village__grid__branch__code", flat=True
    )
    assert set(branches) == {"B01", "B02"}
