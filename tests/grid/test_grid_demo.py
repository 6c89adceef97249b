"""The demo data: grids for every branch, households with members, and three campaigns in the
three phases; a second run adds nothing."""

from coop.demo import seed_all
from customers.demo import seed_customers
from grid.demo import seed
from grid.models import CampaignHousehold, Grid, Household, HouseholdMember, VillageCreditCampaign
from loans.models import CreditLine


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
    assert phases == {"五里湖村": "follow_up", "管仲村": "crediting", "刘集村": "preparation"}
    follow_up = VillageCreditCampaign.objects.get(village__name="五里湖村")
    assert follow_up.entries.filter(signing="signed").count() > 0
    assert follow_up.entries.filter(excluded_reason="blacklist").count() == 1
    assert CreditLine.objects.filter(source="village_campaign").count() == (
        follow_up.entries.filter(signing="signed").count()
    )
    crediting = VillageCreditCampaign.objects.get(village__name="管仲村")
    assert set(crediting.entries.values_list("submitted_count", flat=True)) == {1, 2, 3}
    assert HouseholdMember.objects.filter(relation="parent").exists()
    assert HouseholdMember.objects.filter(is_migrant=True).exclude(works_in="").exists()
    assert Household.objects.filter(head__isnull=True).exists()

    before = counts()
    seed()
    assert counts() == before
