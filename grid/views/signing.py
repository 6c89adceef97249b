"""Pages of the pre-credit list (预授信), its public notice (公示), and signing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coop.services import DomainError
from grid.forms import AwayForm, BatchSignForm, RefuseForm, SignForm
from grid.metrics import mask_name
from grid.models import CampaignHousehold, VillageCreditCampaign
from grid.selectors import campaign_get, entry_get
from grid.services.signing import (
    campaign_household_away,
    campaign_household_refuse,
    campaign_household_sign,
    campaign_sign_many,
)
from grid.views.common import back, paginate, query_without_page, refused, today

Signing = CampaignHousehold.Signing
SIGNABLE = (VillageCreditCampaign.Phase.CREDITING, VillageCreditCampaign.Phase.FOLLOW_UP)


def _pre_credited(campaign: VillageCreditCampaign):
    return (
        campaign.entries.filter(excluded_reason="", pre_credited_at__isnull=False)
        .select_related("household", "household__head", "credit_line", "signed_by")
        .order_by("household__village_group", "household__head_name", "pk")
    )


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_GET
def precredit_list(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    entries = _pre_credited(campaign)
    status = request.GET.get("signing", "")
    if status in Signing.values:
        entries = entries.filter(signing=status)
    page = paginate(request, entries)
    can_sign = request.user.has_perm("grid.sign_credit") and campaign.phase in SIGNABLE
    return render(
        request,
        "grid/precredit_list.html",
        {
            "campaign": campaign,
            "page_obj": page,
            "signing": status,
            "statuses": Signing.choices,
            "query": query_without_page(request),
            "can_sign": can_sign,
            "sign_form": SignForm(),
            "refuse_form": RefuseForm(),
            "away_form": AwayForm(),
            "channels": CampaignHousehold.Channel.choices,
            "today": today(),
        },
    )


def _done(request: HttpRequest, entry: CampaignHousehold):
    return back(request, reverse("grid:precredit", args=[entry.campaign_id]))


@login_required
@permission_required("grid.sign_credit", raise_exception=True)
@require_POST
def entry_sign(request: HttpRequest, pk: int) -> HttpResponse:
    entry = entry_get(user=request.user, pk=pk)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the signing channel."))
        return _done(request, entry)
    try:
        signed = campaign_household_sign(
            actor=request.user, entry=entry, channel=form.cleaned_data["channel"]
        )
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(
            request,
            _("%(name)s signed; credit line %(number)s granted.")
            % {"name": entry.household, "number": signed.credit_line.number},
        )
    return _done(request, entry)


@login_required
@permission_required("grid.sign_credit", raise_exception=True)
@require_POST
def entry_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    entry = entry_get(user=request.user, pk=pk)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for refusal."))
        return _done(request, entry)
    try:
        campaign_household_refuse(
            actor=request.user, entry=entry, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("Refusal recorded."))
    return _done(request, entry)


@login_required
@permission_required("grid.sign_credit", raise_exception=True)
@require_POST
def entry_away(request: HttpRequest, pk: int) -> HttpResponse:
    entry = entry_get(user=request.user, pk=pk)
    form = AwayForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say where they are and when to follow up."))
        return _done(request, entry)
    try:
        campaign_household_away(actor=request.user, entry=entry, **form.cleaned_data)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("Follow-up recorded."))
    return _done(request, entry)


@login_required
@permission_required("grid.sign_credit", raise_exception=True)
@require_POST
def campaign_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign the ticked households in one request (a centralized signing session, typically)."""
    campaign = campaign_get(user=request.user, pk=pk)
    form = BatchSignForm(request.POST, campaign=campaign)
    if not form.is_valid():
        messages.error(request, _("Tick the households that signed, and the channel."))
    else:
        result = campaign_sign_many(
            actor=request.user,
            campaign=campaign,
            entries=list(form.cleaned_data["entries"].order_by("pk")),
            channel=form.cleaned_data["channel"],
        )
        if result.signed:
            messages.success(
                request, _("%(count)s households signed.") % {"count": len(result.signed)}
            )
        for entry, reason in result.failed[:20]:
            messages.error(request, f"{entry.household}: {reason}")
    return back(request, reverse("grid:precredit", args=[campaign.pk]))


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_GET
def public_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable public notice (公示) of the village's pre-credit.

    What a village notice shows, and why: the household head's name masked (张*国), the village
    group, the credit rating and the pre-credit limit — enough for villagers to recognise a
    household and object within the notice period, which is the point of 公示. It never shows
    ID or mobile numbers, addresses, family members, the evaluators' entries, or anything about
    households screened out or not credited: seed 003 stresses sparing those households public
    talk, so they are simply absent rather than marked. Refusals are absent too. Not paginated:
    a posted notice must list every household (one query whatever its length).
    """
    campaign = campaign_get(user=request.user, pk=pk)
    rows = [
        {
            "group": entry.household.village_group,
            "name": mask_name(entry.household.head_name),
            "rating": entry.get_rating_display(),
            "limit": entry.limit,
        }
        for entry in campaign.entries.filter(
            excluded_reason="", pre_credited_at__isnull=False, limit__gt=0
        )
        .exclude(signing=Signing.REFUSED)
        .select_related("household")
        .order_by("household__village_group", "household__head_name", "pk")
    ]
    return render(
        request,
        "grid/public_notice.html",
        {"campaign": campaign, "rows": rows, "issued_on": today()},
    )


urlpatterns = [
    path("campaigns/<int:pk>/pre-credit/", precredit_list, name="precredit"),
    path("campaigns/<int:pk>/sign/", campaign_sign, name="campaign_sign"),
    path("campaigns/<int:pk>/notice/", public_notice, name="notice"),
    path("entries/<int:pk>/sign/", entry_sign, name="entry_sign"),
    path("entries/<int:pk>/refuse/", entry_refuse, name="entry_refuse"),
    path("entries/<int:pk>/away/", entry_away, name="entry_away"),
]
