"""Scoped reads of grids, villages, households and campaigns.

Who sees a grid (DESIGN.md, "every selector is scoped"):
- branch-wide roles (branch manager, management, …): the grids of the branches they see, i.e. all
  of them at head office;
- account managers: the grids they own, and the grids where they are an officer on duty.
Everything below a grid (villages, households, campaigns, evaluations) is visible exactly when its
grid is; anything else answers 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from coop.roles import Role, user_roles
from coop.scoping import sees_whole_bank, visible_org_unit_ids
from customers.selectors import BRANCH_WIDE_ROLES
from grid.models import (
    BlacklistEntry,
    CampaignHousehold,
    Evaluation,
    Grid,
    GridOfficer,
    Household,
    HouseholdMember,
    Village,
    VillageCreditCampaign,
)


def grid_scope_q(user, prefix: str = "") -> Q | None:
    """A Q on Grid (``prefix`` for related lookups, e.g. ``"village__grid__"``) selecting the
    grids ``user`` may see; ``None`` means none at all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    roles = set(user_roles(user))
    if roles & BRANCH_WIDE_ROLES:
        if sees_whole_bank(user):
            return Q()
        return Q(**{f"{prefix}branch_id__in": visible_org_unit_ids(user)})
    if Role.ACCOUNT_MANAGER in roles:
        duties = GridOfficer.objects.filter(user=user, is_active=True).values("grid_id")
        return Q(**{f"{prefix}account_manager": user}) | Q(**{f"{prefix}pk__in": duties})
    return None


def _scoped(queryset: QuerySet, user, prefix: str) -> QuerySet:
    scope = grid_scope_q(user, prefix)
    if scope is None:
        return queryset.none()
    return queryset.filter(scope)


def grids_visible(user) -> QuerySet[Grid]:
    return _scoped(Grid.objects.all(), user, "")


def own_grids(user) -> QuerySet[Grid]:
    """The grids an account manager works in (owner or officer), whatever else they may see."""
    if not getattr(user, "is_authenticated", False):
        return Grid.objects.none()
    duties = GridOfficer.objects.filter(user=user, is_active=True).values("grid_id")
    return Grid.objects.filter(Q(account_manager=user) | Q(pk__in=duties), is_active=True)


def villages_visible(user) -> QuerySet[Village]:
    return _scoped(Village.objects.all(), user, "grid__")


def households_visible(user) -> QuerySet[Household]:
    return _scoped(Household.objects.all(), user, "village__grid__")


def campaigns_visible(user) -> QuerySet[VillageCreditCampaign]:
    return _scoped(VillageCreditCampaign.objects.all(), user, "village__grid__")


def entries_visible(user) -> QuerySet[CampaignHousehold]:
    return _scoped(CampaignHousehold.objects.all(), user, "campaign__village__grid__")


def blacklist_visible(user) -> QuerySet[BlacklistEntry]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return BlacklistEntry.objects.none()
    if sees_whole_bank(user):
        return BlacklistEntry.objects.all()
    return BlacklistEntry.objects.filter(branch_id__in=visible_org_unit_ids(user))


def get_or_404(queryset: QuerySet, pk):
    """The object of ``queryset`` (already scoped) with this pk, or 404."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def grid_get(*, user, pk) -> Grid:
    return get_or_404(grids_visible(user).select_related("branch", "account_manager"), pk)


def village_get(*, user, pk) -> Village:
    return get_or_404(villages_visible(user).select_related("grid", "grid__branch"), pk)


def household_get(*, user, pk) -> Household:
    return get_or_404(
        households_visible(user).select_related(
            "village", "village__grid", "village__grid__branch", "head"
        ),
        pk,
    )


def member_get(*, user, pk) -> HouseholdMember:
    scope = grid_scope_q(user, "household__village__grid__")
    if scope is None:
        raise Http404
    return get_or_404(
        HouseholdMember.objects.filter(scope).select_related("household", "customer"), pk
    )


def campaign_get(*, user, pk) -> VillageCreditCampaign:
    return get_or_404(
        campaigns_visible(user).select_related(
            "village", "village__grid", "village__grid__branch", "project_manager", "product"
        ),
        pk,
    )


def entry_get(*, user, pk) -> CampaignHousehold:
    return get_or_404(
        entries_visible(user).select_related(
            "campaign",
            "campaign__village",
            "campaign__village__grid",
            "campaign__product",
            "household",
            "household__head",
            "credit_line",
        ),
        pk,
    )


def blacklist_get(*, user, pk) -> BlacklistEntry:
    return get_or_404(blacklist_visible(user).select_related("customer", "household"), pk)


def evaluator_ids(campaign: VillageCreditCampaign) -> list[int]:
    return list(campaign.evaluator_slots.order_by("slot").values_list("user_id", flat=True))


def is_evaluator(campaign: VillageCreditCampaign, user) -> bool:
    return campaign.evaluator_slots.filter(user_id=user.pk).exists()


def evaluations_visible(user, campaign: VillageCreditCampaign) -> QuerySet[Evaluation]:
    """The evaluations of ``campaign`` that ``user`` may read (back-to-back rule).

    Before all three evaluators have submitted for a household, an entry is visible to its own
    evaluator only — not to the other evaluators, nor to managers, nor through counts other than
    "n of 3 submitted" (``CampaignHousehold.submitted_count``). Afterwards all three are open.
    """
    return Evaluation.objects.filter(campaign=campaign).filter(
        Q(evaluator_id=user.pk) | Q(entry__evaluated_at__isnull=False)
    )


def grid_customer_ids(user) -> QuerySet:
    """The ids of the customers heading or belonging to a household in the account manager's
    own grids (owned, or served on as an active officer), as one ``UNION ALL`` sub-query.

    Each branch of the union is a plain indexed lookup the planner estimates well (a user's grids
    are a handful of rows), so the sub-query costs a few milliseconds at county scale.
    """
    grids = (
        Grid.objects.filter(account_manager=user)
        .order_by()
        .values("pk")
        .union(
            GridOfficer.objects.filter(user=user, is_active=True).order_by().values("grid_id"),
            all=True,
        )
    )
    villages = Village.objects.filter(grid_id__in=grids).order_by().values("pk")
    heads = (
        Household.objects.filter(village_id__in=villages, head__isnull=False)
        .order_by()
        .values("head_id")
    )
    members = (
        HouseholdMember.objects.filter(household__village_id__in=villages, customer__isnull=False)
        .order_by()
        .values("customer_id")
    )
    return heads.union(members, all=True)


def grid_customers_q(user, prefix: str = "") -> Q:
    """Customers heading or belonging to a household in the account manager's own grids.

    ``prefix`` as in ``customers.selectors.customer_scope_q``, which folds the same ids into its
    own single sub-query (``customer_scope_ids``).
    """
    return Q(**{f"{prefix}pk__in_array": grid_customer_ids(user)})


def household_customers(customer) -> list:
    """The customers of ``customer``'s household (head and filed members), ``customer`` first.

    For the loans app's household-wide exposure ("one household, several loans", seed 003).
    """
    from customers.models import Customer

    household_id = (
        Household.objects.filter(Q(head=customer) | Q(members__customer=customer))
        .values_list("pk", flat=True)
        .first()
    )
    if household_id is None:
        return [customer]
    others = (
        Customer.objects.filter(
            Q(headed_household__pk=household_id)
            | Q(household_memberships__household_id=household_id)
        )
        .exclude(pk=customer.pk)
        .distinct()
        .order_by("pk")
    )
    return [customer, *others]
