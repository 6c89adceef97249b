"""Pages of whole-village credit campaigns: list, create, overview, evaluators, target
households, back-to-back evaluation, reconciliation results and the group's decisions, plan."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.services import DomainError
from customers.models import CreditRating
from grid import metrics
from grid.forms import (
    CampaignEditForm,
    CampaignForm,
    DecisionForm,
    EvaluationForm,
    EvaluatorsForm,
    ExcludeForm,
    PlanDayForm,
    add_domain_error,
)
from grid.models import CampaignDayPlan, CampaignHousehold, VillageCreditCampaign
from grid.selectors import (
    campaign_get,
    campaigns_visible,
    entry_get,
    evaluations_visible,
    evaluator_ids,
)
from grid.services.campaigns import (
    campaign_create,
    campaign_evaluators_set,
    campaign_household_decide,
    campaign_household_exclude,
    campaign_households_add,
    campaign_plan_day_delete,
    campaign_plan_day_set,
    campaign_reconcile,
    campaign_screen,
    campaign_start_crediting,
    campaign_start_follow_up,
    campaign_update,
    evaluation_submit,
)
from grid.views.common import back, paginate, query_without_page, refused

Phase = VillageCreditCampaign.Phase

# Stage filters of the households pages, as lookups on CampaignHousehold.
STAGE_FILTERS = {
    "excluded": ~Q(excluded_reason=""),
    "evaluating": Q(excluded_reason="", evaluated_at__isnull=True),
    "to_reconcile": Q(excluded_reason="", evaluated_at__isnull=False, reconciled_at__isnull=True),
    "to_decide": Q(
        excluded_reason="",
        outcome=CampaignHousehold.Outcome.COMPROMISE,
        decided_at__isnull=True,
    ),
    "close": Q(excluded_reason="", outcome=CampaignHousehold.Outcome.CLOSE),
    "compromise": Q(excluded_reason="", outcome=CampaignHousehold.Outcome.COMPROMISE),
    "not_credited": Q(excluded_reason="", reconciled_at__isnull=False, limit=0),
}


def _entries(campaign: VillageCreditCampaign):
    return campaign.entries.select_related("household", "household__head").order_by(
        "household__village_group", "household__head_name", "pk"
    )


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = campaigns_visible(request.user).select_related(
        "village", "village__grid", "project_manager"
    )
    phase = request.GET.get("phase", "")
    if phase in Phase.values:
        campaigns = campaigns.filter(phase=phase)
    page = paginate(request, campaigns.order_by("-starts_on", "-id"))
    figures = metrics.campaign_figures(campaigns.filter(pk__in=[c.pk for c in page.object_list]))
    return render(
        request,
        "grid/campaign_list.html",
        {
            "rows": [(c, figures.get(c.pk, metrics.CampaignFigures())) for c in page.object_list],
            "page_obj": page,
            "phase": phase,
            "phases": Phase.choices,
            "query": query_without_page(request),
            "can_add": request.user.has_perm("grid.add_villagecreditcampaign"),
        },
    )


@login_required
@permission_required("grid.add_villagecreditcampaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("village"):
        initial["village"] = request.GET["village"]
    form = CampaignForm(
        request.POST if request.method == "POST" else None, initial=initial, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = campaign_create(
                actor=request.user,
                village=data["village"],
                name=data["name"],
                project_manager=data["project_manager"],
                product=data["product"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                tolerance=data["tolerance"],
                credit_months=data["credit_months"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Campaign created. Choose the evaluators and households."))
            return redirect("grid:campaign", pk=campaign.pk)
    return render(
        request,
        "grid/form_page.html",
        {
            "form": form,
            "title": _("New whole-village credit campaign"),
            "cancel": reverse("grid:campaigns"),
        },
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    form = CampaignEditForm(
        request.POST if request.method == "POST" else None, campaign=campaign, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign_update(actor=request.user, campaign=campaign, **form.terms())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("grid:campaign", pk=campaign.pk)
    return render(
        request,
        "grid/form_page.html",
        {
            "form": form,
            "title": _("Edit the campaign"),
            "cancel": reverse("grid:campaign", args=[campaign.pk]),
        },
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    figures = metrics.campaign_figures(campaigns_visible(request.user).filter(pk=campaign.pk))
    evaluators = list(campaign.evaluator_slots.select_related("user").order_by("slot"))
    progress = metrics.plan_progress(campaign)
    can_change = request.user.has_perm("grid.change_villagecreditcampaign")
    evaluators_form = None
    if can_change and campaign.phase == Phase.PREPARATION:
        evaluators_form = EvaluatorsForm(
            initial=dict(
                zip(("first", "second", "third"), [e.user_id for e in evaluators], strict=False)
            ),
            campaign=campaign,
        )
    return render(
        request,
        "grid/campaign_detail.html",
        {
            "campaign": campaign,
            "figures": figures.get(campaign.pk, metrics.CampaignFigures()),
            "evaluators": evaluators,
            "is_evaluator": any(e.user_id == request.user.pk for e in evaluators),
            "weeks": progress["weeks"],
            "months": progress["months"],
            "can_change": can_change,
            "evaluators_form": evaluators_form,
            "guards": {
                "evaluators": len(evaluators) == 3,
                "households": campaign.has_target_households,
                "decisions": campaign.has_no_pending_decisions,
            },
        },
    )


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def campaign_evaluators(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    form = EvaluatorsForm(request.POST, campaign=campaign)
    if form.is_valid():
        chosen = [form.cleaned_data[name] for name in ("first", "second", "third")]
        try:
            campaign_evaluators_set(actor=request.user, campaign=campaign, evaluators=chosen)
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Evaluators saved."))
    else:
        messages.error(request, _("Choose three evaluators."))
    return redirect("grid:campaign", pk=campaign.pk)


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def campaign_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """Target every household of the village (new ones only; screening follows at once)."""
    campaign = campaign_get(user=request.user, pk=pk)
    try:
        added = campaign_households_add(actor=request.user, campaign=campaign)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("%(count)s households added.") % {"count": added})
    return back(request, reverse("grid:campaign_households", args=[campaign.pk]))


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def campaign_screen_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    try:
        excluded = campaign_screen(actor=request.user, campaign=campaign)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(
            request, _("Screening done: %(count)s households excluded.") % {"count": excluded}
        )
    return back(request, reverse("grid:campaign_households", args=[campaign.pk]))


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def campaign_transition(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    services = {"crediting": campaign_start_crediting, "follow_up": campaign_start_follow_up}
    service = services.get(request.POST.get("to", ""))
    if service is None:
        messages.error(request, _("Unknown step."))
        return redirect("grid:campaign", pk=campaign.pk)
    try:
        changed = service(actor=request.user, campaign=campaign)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(
            request, _("The campaign is now in %(phase)s.") % {"phase": changed.get_phase_display()}
        )
    return redirect("grid:campaign", pk=campaign.pk)


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_GET
def campaign_households(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    entries = _entries(campaign).select_related("excluded_by")
    stage = request.GET.get("stage", "")
    if stage in STAGE_FILTERS:
        entries = entries.filter(STAGE_FILTERS[stage])
    page = paginate(request, entries)
    can_change = request.user.has_perm("grid.change_villagecreditcampaign")
    return render(
        request,
        "grid/campaign_households.html",
        {
            "campaign": campaign,
            "page_obj": page,
            "stage": stage,
            "query": query_without_page(request),
            "can_change": can_change,
            "exclude_form": ExcludeForm(),
            "open_phase": campaign.phase in (Phase.PREPARATION, Phase.CREDITING),
        },
    )


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def entry_exclude(request: HttpRequest, pk: int) -> HttpResponse:
    entry = entry_get(user=request.user, pk=pk)
    form = ExcludeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason (staff only)."))
    else:
        try:
            campaign_household_exclude(
                actor=request.user, entry=entry, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Household excluded."))
    return back(request, reverse("grid:campaign_households", args=[entry.campaign_id]))


# --- back-to-back evaluation -----------------------------------------------------------------


def _evaluation_rows(request: HttpRequest, campaign: VillageCreditCampaign, entries) -> list:
    """(entry, own evaluation, others revealed) per entry, by the back-to-back rule.

    The evaluations come only from ``evaluations_visible``: before the third evaluation is in,
    nothing of the others' entries reaches the template, so nothing can leak into the HTML.
    """
    entries = list(
        entries.prefetch_related(
            Prefetch(
                "evaluations",
                queryset=evaluations_visible(request.user, campaign)
                .select_related("evaluator")
                .order_by("evaluator_id"),
                to_attr="visible_evaluations",
            )
        )
    )
    rows = []
    for entry in entries:
        own = next(
            (e for e in entry.visible_evaluations if e.evaluator_id == request.user.pk), None
        )
        revealed = entry.visible_evaluations if entry.evaluated_at else []
        form = None
        if entry.evaluated_at is None and campaign.phase == Phase.CREDITING:
            form = EvaluationForm(
                initial={
                    "rating": own.rating if own else "",
                    "suggested_limit": own.suggested_limit if own else None,
                    "comment": own.comment if own else "",
                },
                prefix=f"e{entry.pk}",
            )
        rows.append({"entry": entry, "own": own, "revealed": revealed, "form": form})
    return rows


@login_required
@permission_required("grid.evaluate_household", raise_exception=True)
@require_GET
def campaign_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    if request.user.pk not in evaluator_ids(campaign):
        raise PermissionDenied
    entries = _entries(campaign).filter(excluded_reason="")
    todo = request.GET.get("show", "")
    if todo == "mine":
        entries = entries.exclude(evaluations__evaluator=request.user).filter(
            evaluated_at__isnull=True
        )
    page = paginate(request, entries)
    return render(
        request,
        "grid/campaign_evaluate.html",
        {
            "campaign": campaign,
            "rows": _evaluation_rows(
                request, campaign, entries.filter(pk__in=[e.pk for e in page.object_list])
            ),
            "page_obj": page,
            "show": todo,
            "query": query_without_page(request),
        },
    )


@login_required
@permission_required("grid.evaluate_household", raise_exception=True)
@require_POST
def entry_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    entry = entry_get(user=request.user, pk=pk)
    campaign = entry.campaign
    if request.user.pk not in evaluator_ids(campaign):
        raise PermissionDenied
    form = EvaluationForm(request.POST, prefix=f"e{entry.pk}")
    if form.is_valid():
        try:
            evaluation_submit(actor=request.user, entry=entry, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Evaluation saved."))
    if not request.htmx:
        if form.errors:
            for errors in form.errors.values():
                messages.error(request, errors[0])
        return back(request, reverse("grid:campaign_evaluate", args=[campaign.pk]))
    fresh = campaign.entries.filter(pk=entry.pk).select_related("household", "household__head")
    row = _evaluation_rows(request, campaign, fresh)[0]
    if form.errors:
        row["form"] = form
    # Always 200 for HTMX: it swaps only successful answers, and the row with its errors is
    # what the evaluator must see. Nothing was saved when the row carries errors.
    return render(
        request,
        "grid/campaign_evaluate_row.html",
        {"row": row, "campaign": campaign, "saved": not form.errors},
    )


# --- reconciliation and the batch-credit group -------------------------------------------------


def _explain(entry: CampaignHousehold) -> dict | None:
    """The stored rule inputs of a reconciled household, shaped for the page."""
    data = entry.reconcile_inputs
    if entry.reconciled_at is None or not data:
        return None
    return {
        "spread": Decimal(data["spread"]),
        "median": Decimal(data["median"]),
        "mean": Decimal(data["mean"]),
        "threshold": Decimal(data["threshold"]),
        "tolerance_percent": metrics.percent(Decimal(data["tolerance"])),
        "limits_close": data["limits_close"],
        "ratings": [
            str(CreditRating(r).label) if r in CreditRating.values else r for r in data["ratings"]
        ],
    }


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_GET
def campaign_results(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    entries = _entries(campaign).filter(excluded_reason="", evaluated_at__isnull=False)
    stage = request.GET.get("stage", "")
    if stage in STAGE_FILTERS:
        entries = entries.filter(STAGE_FILTERS[stage])
    page = paginate(request, entries.select_related("decided_by"))
    rows = _evaluation_rows(
        request, campaign, entries.filter(pk__in=[e.pk for e in page.object_list])
    )
    for row in rows:
        row["explain"] = _explain(row["entry"])
    is_evaluator = request.user.pk in evaluator_ids(campaign)
    can_decide = (
        request.user.has_perm("grid.decide_credit")
        and not is_evaluator
        and campaign.phase == Phase.CREDITING
    )
    waiting = campaign.entries.filter(excluded_reason="", evaluated_at__isnull=True).count()
    to_reconcile = campaign.entries.filter(STAGE_FILTERS["to_reconcile"]).count()
    return render(
        request,
        "grid/campaign_results.html",
        {
            "campaign": campaign,
            "rows": rows,
            "page_obj": page,
            "stage": stage,
            "query": query_without_page(request),
            "waiting": waiting,
            "to_reconcile": to_reconcile,
            "can_reconcile": request.user.has_perm("grid.change_villagecreditcampaign")
            and campaign.phase == Phase.CREDITING,
            "can_decide": can_decide,
            "decision_form": DecisionForm() if can_decide else None,
        },
    )


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def campaign_reconcile_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    try:
        counts = campaign_reconcile(actor=request.user, campaign=campaign)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(
            request,
            _(
                "%(reconciled)s households reconciled: %(close)s close, %(compromise)s to the "
                "batch-credit group."
            )
            % counts,
        )
    return redirect("grid:campaign_results", pk=campaign.pk)


@login_required
@permission_required("grid.decide_credit", raise_exception=True)
@require_POST
def entry_decide(request: HttpRequest, pk: int) -> HttpResponse:
    entry = entry_get(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
    else:
        try:
            campaign_household_decide(actor=request.user, entry=entry, **form.cleaned_data)
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(
                request, _("Decision recorded for %(name)s.") % {"name": entry.household}
            )
    return back(request, reverse("grid:campaign_results", args=[entry.campaign_id]))


# --- the plan --------------------------------------------------------------------------------


@login_required
@permission_required("grid.view_villagecreditcampaign", raise_exception=True)
@require_http_methods(["GET", "POST"])
def campaign_plan(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(user=request.user, pk=pk)
    can_change = request.user.has_perm("grid.change_villagecreditcampaign")
    form = PlanDayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                campaign_plan_day_set(actor=request.user, campaign=campaign, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Plan saved."))
                return redirect("grid:campaign_plan", pk=campaign.pk)
    progress = metrics.plan_progress(campaign)
    return render(
        request,
        "grid/campaign_plan.html",
        {
            "campaign": campaign,
            "progress": progress,
            "plans": {p.day: p for p in campaign.plan_days.all()},
            "form": form,
            "can_change": can_change,
        },
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.change_villagecreditcampaign", raise_exception=True)
@require_POST
def plan_day_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = CampaignDayPlan.objects.filter(pk=pk).first()
    campaign = campaign_get(user=request.user, pk=plan.campaign_id if plan else 0)
    try:
        campaign_plan_day_delete(actor=request.user, plan=plan)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("Day removed from the plan."))
    return redirect("grid:campaign_plan", pk=campaign.pk)


urlpatterns = [
    path("campaigns/", campaign_list, name="campaigns"),
    path("campaigns/new/", campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/evaluators/", campaign_evaluators, name="campaign_evaluators"),
    path("campaigns/<int:pk>/targets/", campaign_targets, name="campaign_targets"),
    path("campaigns/<int:pk>/screen/", campaign_screen_view, name="campaign_screen"),
    path("campaigns/<int:pk>/transition/", campaign_transition, name="campaign_transition"),
    path("campaigns/<int:pk>/households/", campaign_households, name="campaign_households"),
    path("campaigns/<int:pk>/evaluate/", campaign_evaluate, name="campaign_evaluate"),
    path("campaigns/<int:pk>/results/", campaign_results, name="campaign_results"),
    path("campaigns/<int:pk>/reconcile/", campaign_reconcile_view, name="campaign_reconcile"),
    path("campaigns/<int:pk>/plan/", campaign_plan, name="campaign_plan"),
    path("plan-days/<int:pk>/delete/", plan_day_delete, name="plan_day_delete"),
    path("entries/<int:pk>/exclude/", entry_exclude, name="entry_exclude"),
    path("entries/<int:pk>/evaluate/", entry_evaluate, name="entry_evaluate"),
    path("entries/<int:pk>/decide/", entry_decide, name="entry_decide"),
]
