"""Coverage figures count a household once however many campaigns it was in (the grouped pass
over campaign entries counts distinct households), and cost three queries at any size."""

from __future__ import annotations

from decimal import Decimal

from grid import metrics
from grid.models import CampaignHousehold, Household
from grid.services.campaigns import campaign_reconcile, campaign_start_follow_up
from grid.services.signing import campaign_household_sign

D = Decimal


def _entry(campaign, household) -> CampaignHousehold:
    return CampaignHousehold.objects.get(campaign=campaign, household=household)


def test_a_household_in_two_campaigns_counts_once(world, django_assert_num_queries):
    households = [world.household(f"两次户{i}") for i in range(3)]
    first = world.crediting(households=households)
    for household in households:
        world.evaluate(_entry(first, household), *[("good", "5000")] * 3)
    campaign_reconcile(actor=world.am, campaign=first)
    campaign_household_sign(actor=world.am, entry=_entry(first, households[0]))
    campaign_start_follow_up(actor=world.am, campaign=first)
    # A later campaign in the same village evaluates two of them again
    second = world.crediting(households=households[:2])
    for household in households[:2]:
        world.evaluate(_entry(second, household), *[("good", "4000")] * 3)
    campaign_reconcile(actor=world.am, campaign=second)
    assert CampaignHousehold.objects.filter(household__in=households).count() == 5

    with django_assert_num_queries(3):
        by_grid = metrics.household_figures(Household.objects.all(), "grid")

    assert by_grid == {
        world.grid.pk: metrics.Figures(
            households=3, filed=3, evaluated=3, pre_credited=3, signed=1, granted=D("5000.00")
        )
    }
