"""Scoped reads of the surveys app; pages, API, exports and dashboards all start here.

- Campaigns: those run by a unit the user sees, and the bank-wide ones (run by the head office).
- Invitations and responses: those of customers the user sees (``customer_scope_q``), so a branch
  manager's view of a bank-wide campaign holds only their branch's answers.
- Improvement items: those of units the user sees, and the ones the user owns.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from coop.models import OrgUnit
from coop.roles import Role, user_roles
from coop.scoping import sees_whole_bank, visible_org_unit_ids
from customers.selectors import customer_scope_q
from surveys.models import (
    AnonymityLevel,
    Campaign,
    Framework,
    ImprovementItem,
    Invitation,
    ProcessFeedback,
    Response,
)


def _authenticated(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active


def frameworks_visible(user) -> QuerySet[Framework]:
    if not _authenticated(user):
        return Framework.objects.none()
    return Framework.objects.all()


def framework_get(*, user, pk) -> Framework:
    try:
        return frameworks_visible(user).get(pk=pk)
    except (Framework.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def campaigns_visible(user) -> QuerySet[Campaign]:
    if not _authenticated(user):
        return Campaign.objects.none()
    if sees_whole_bank(user):
        return Campaign.objects.all()
    return Campaign.objects.filter(
        Q(org_unit_id__in=visible_org_unit_ids(user)) | Q(org_unit__kind=OrgUnit.Kind.HEAD_OFFICE)
    )


def campaign_get(*, user, pk) -> Campaign:
    try:
        return campaigns_visible(user).select_related("framework", "org_unit").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def invitations_visible(user) -> QuerySet[Invitation]:
    scope = customer_scope_q(user, "customer__")
    if scope is None:
        return Invitation.objects.none()
    return Invitation.objects.filter(scope, campaign__in=campaigns_visible(user))


def invitation_get(*, user, pk) -> Invitation:
    try:
        return invitations_visible(user).select_related("campaign", "customer").get(pk=pk)
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def invitation_by_token(token: str) -> Invitation:
    """The personal link's invitation (no login): the token is the only key."""
    if not token or len(token) > 64:
        raise Http404
    try:
        return Invitation.objects.select_related("campaign", "campaign__framework").get(token=token)
    except Invitation.DoesNotExist:
        raise Http404 from None


def responses_visible(user) -> QuerySet[Response]:
    scope = customer_scope_q(user, "invitation__customer__")
    if scope is None:
        return Response.objects.none()
    return Response.objects.filter(scope, campaign__in=campaigns_visible(user))


def sees_respondent(user, campaign: Campaign) -> bool:
    """Staff below the campaign's configured level see responses without the respondent."""
    roles = set(user_roles(user))
    head_office = sees_whole_bank(user) and bool(roles & {Role.MANAGEMENT, Role.SYSADMIN})
    if campaign.anonymity == AnonymityLevel.HEAD_OFFICE:
        return head_office
    return head_office or Role.BRANCH_MANAGER in roles


def improvements_visible(user) -> QuerySet[ImprovementItem]:
    if not _authenticated(user):
        return ImprovementItem.objects.none()
    if sees_whole_bank(user):
        return ImprovementItem.objects.all()
    return ImprovementItem.objects.filter(
        Q(org_unit_id__in=visible_org_unit_ids(user)) | Q(owner=user)
    )


def improvement_get(*, user, pk) -> ImprovementItem:
    try:
        return (
            improvements_visible(user)
            .select_related("owner", "campaign", "indicator", "org_unit")
            .get(pk=pk)
        )
    except (ImprovementItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def open_improvement_counts(user) -> dict:
    """``{"open": n, "overdue": m, "mine": k}`` over the user's scope, in one query; for the
    management dashboard and the workbench panel."""
    today = timezone.localdate()
    open_q = ~Q(state=ImprovementItem.State.CLOSED)
    return improvements_visible(user).aggregate(
        open=Count("pk", filter=open_q),
        overdue=Count("pk", filter=open_q & Q(due_on__lt=today)),
        mine=Count("pk", filter=open_q & Q(owner=user)),
    )


def feedback_visible(user) -> QuerySet[ProcessFeedback]:
    if not _authenticated(user):
        return ProcessFeedback.objects.none()
    if sees_whole_bank(user):
        return ProcessFeedback.objects.all()
    return ProcessFeedback.objects.filter(
        Q(org_unit_id__in=visible_org_unit_ids(user)) | Q(routed_to=user) | Q(filed_by=user)
    )


def feedback_get(*, user, pk) -> ProcessFeedback:
    try:
        return feedback_visible(user).select_related("filed_by", "routed_to").get(pk=pk)
    except (ProcessFeedback.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def latest_index(user, *, framework_code: str | None = None, narrowing=None) -> dict | None:
    """The satisfaction index of the latest campaign the user sees that has valid responses,
    for the management dashboard: ``{"campaign", "index", "valid", "previous_index",
    "change"}`` with Decimals (index 0–100, two decimals), or None when there is none.

    Scoped like everything else: a branch manager gets the index over their branch's customers.
    ``narrowing`` (``surveys.analysis.Narrowing``) keeps to part of that scope: the dashboard's
    branch, grid and product, and the answers submitted by the end of its period, so an earlier
    period shows the index as it stood then. A fixed number of queries (four) whatever the data
    size.
    """
    from surveys.analysis import EVERYTHING, campaign_index

    narrowing = narrowing or EVERYTHING
    campaigns = campaigns_visible(user).exclude(state=Campaign.State.DRAFT)
    if framework_code:
        campaigns = campaigns.filter(framework__code=framework_code)
    valid = responses_visible(user).filter(is_valid=True).filter(narrowing.responses_q())
    recent = list(
        campaigns.filter(pk__in=valid.values("campaign_id"))
        .select_related("framework")
        .order_by("-starts_on", "-id")[:2]
    )
    if not recent:
        return None
    latest = recent[0]
    index, count = campaign_index(user=user, campaign=latest, narrowing=narrowing)
    previous = None
    if len(recent) > 1 and recent[1].framework.code == latest.framework.code:
        previous, _n = campaign_index(user=user, campaign=recent[1], narrowing=narrowing)
    return {
        "campaign": latest,
        "index": index,
        "valid": count,
        "previous_index": previous,
        "change": (index - previous) if index is not None and previous is not None else None,
    }
