"""Pages of the grid structure: coverage of all grids, my grid, a grid, a village, the
performance of account managers, follow-ups due, the blacklist and the filing requirements."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.dashboard import rollups
from coop.models import OrgUnit
from coop.services import DomainError
from customers.forms_due_contacts import ContactDoneForm
from grid import metrics
from grid.forms import (
    FilingRequirementForm,
    GridEditForm,
    GridForm,
    LiftForm,
    OfficerForm,
    PeriodForm,
    VillageForm,
    add_domain_error,
)
from grid.models import FilingRequirement, GridOfficer, Household
from grid.selectors import (
    blacklist_get,
    blacklist_visible,
    campaigns_visible,
    grid_get,
    grids_visible,
    own_grids,
    village_get,
)
from grid.services.followups import followup_complete
from grid.services.structure import (
    blacklist_lift,
    filing_requirement_update,
    grid_create,
    grid_officer_add,
    grid_officer_remove,
    grid_update,
    village_create,
)
from grid.views.common import back, paginate, query_without_page, refused, today


def _grid_rows(grids) -> list:
    """(grid, figures) for a page of grids: the page's query plus three for the figures."""
    grids = list(grids)
    figures = metrics.household_figures(
        Household.objects.filter(village__grid__in=[g.pk for g in grids]), "grid"
    )
    return [(grid, figures.get(grid.pk, metrics.Figures())) for grid in grids]


def _coverage_figures(grids) -> tuple[dict, dict | None, object]:
    """(figures by branch, figures by grid or None, as of) for the coverage page over ``grids``.

    From the village rollup the beat refreshes every ten minutes (two queries, whatever the
    size of the bank), stating when. Before its first refresh the branch figures are computed
    live (three queries) and the grid figures are left to the page (``_grid_rows``). A whole
    county's households, campaign entries and loans take a quarter of a second to aggregate
    live, so the overview of every grid reads the rollup; a grid's own page stays live.
    """
    as_of = rollups.as_of(rollups.VILLAGES).get(rollups.VILLAGES)
    if as_of is None:
        households = Household.objects.filter(village__grid__in=grids.values("pk"))
        return metrics.household_figures(households, "branch"), None, None
    by_branch: dict[int, metrics.Figures] = {}
    by_grid: dict[int, metrics.Figures] = {}
    for _village, grid_id, branch_id, figures in rollups.village_rollup_rows(
        grid_id__in=grids.values("pk")
    ):
        by_branch.setdefault(branch_id, metrics.Figures()).add(figures)
        by_grid.setdefault(grid_id, metrics.Figures()).add(figures)
    return by_branch, by_grid, as_of


@login_required
@permission_required("grid.view_grid", raise_exception=True)
@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    """The bank's grids as a tree: branch subtotals, then the grids of the page."""
    grids = grids_visible(request.user)
    branch_figures, grid_figures, as_of = _coverage_figures(grids)
    branches = OrgUnit.objects.filter(pk__in=grids.values("branch_id")).order_by("path")
    branch_rows = [(b, branch_figures.get(b.pk, metrics.Figures())) for b in branches]
    page = paginate(
        request,
        grids.select_related("branch", "account_manager")
        .annotate(village_count=Count("villages", distinct=True))
        .order_by("branch__path", "code"),
    )
    return render(
        request,
        "grid/coverage.html",
        {
            "branch_rows": branch_rows,
            "total": metrics.total_of(branch_figures),
            "rows": _grid_rows(page.object_list)
            if grid_figures is None
            else [
                (grid, grid_figures.get(grid.pk, metrics.Figures())) for grid in page.object_list
            ],
            "as_of": as_of,
            "page_obj": page,
            "query": query_without_page(request),
            "can_add": request.user.has_perm("grid.add_grid"),
        },
    )


@login_required
@permission_required("grid.view_grid", raise_exception=True)
@require_GET
def my_grid(request: HttpRequest) -> HttpResponse:
    grids = (
        own_grids(request.user)
        .select_related("branch", "account_manager")
        .annotate(village_count=Count("villages", distinct=True))
    )
    on = today()
    return render(
        request,
        "grid/my_grid.html",
        {
            "rows": _grid_rows(grids.order_by("code")[:50]),
            "followups": metrics.followups_due(request.user, on)[:50],
            "on": on,
            "done_form": ContactDoneForm(),
            "here": request.get_full_path(),
        },
    )


@login_required
@permission_required("grid.view_grid", raise_exception=True)
@require_GET
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grid = grid_get(user=request.user, pk=pk)
    villages = list(grid.villages.order_by("town", "name"))
    figures = metrics.household_figures(Household.objects.filter(village__grid=grid), "village")
    officers = grid.officers.filter(is_active=True).select_related("user").order_by("role", "name")
    campaigns = list(
        campaigns_visible(request.user)
        .filter(village__grid=grid)
        .select_related("village", "project_manager")
        .order_by("-starts_on", "-id")[:20]
    )
    campaign_figures = metrics.campaign_figures(
        campaigns_visible(request.user).filter(pk__in=[c.pk for c in campaigns])
    )
    performance = metrics.grid_performance(
        grids_visible(request.user).filter(pk=grid.pk), "month", today()
    )
    return render(
        request,
        "grid/grid_detail.html",
        {
            "grid": grid,
            "village_rows": [(v, figures.get(v.pk, metrics.Figures())) for v in villages],
            "total": metrics.total_of(figures),
            "officers": officers,
            "campaign_rows": [
                (c, campaign_figures.get(c.pk, metrics.CampaignFigures())) for c in campaigns
            ],
            "performance": performance[0] if performance else None,
            "officer_form": OfficerForm(grid=grid),
            "village_form": VillageForm(),
            "can_edit": request.user.has_perm("grid.change_grid"),
            "can_add_officer": request.user.has_perm("grid.add_gridofficer"),
            "can_remove_officer": request.user.has_perm("grid.change_gridofficer"),
            "can_add_village": request.user.has_perm("grid.add_village"),
        },
    )


@login_required
@permission_required("grid.add_grid", raise_exception=True)
@require_http_methods(["GET", "POST"])
def grid_new(request: HttpRequest) -> HttpResponse:
    form = GridForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            grid = grid_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Grid %(code)s created.") % {"code": grid.code})
            return redirect("grid:detail", pk=grid.pk)
    return render(
        request,
        "grid/form_page.html",
        {"form": form, "title": _("New grid"), "cancel": reverse("grid:coverage")},
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.change_grid", raise_exception=True)
@require_http_methods(["GET", "POST"])
def grid_edit(request: HttpRequest, pk: int) -> HttpResponse:
    grid = grid_get(user=request.user, pk=pk)
    initial = {
        "name": grid.name,
        "account_manager": grid.account_manager_id,
        "area": grid.area,
        "is_active": grid.is_active,
    }
    form = GridEditForm(
        request.POST if request.method == "POST" else None, initial=initial, grid=grid
    )
    if request.method == "POST" and form.is_valid():
        try:
            grid_update(actor=request.user, grid=grid, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Grid saved."))
            return redirect("grid:detail", pk=grid.pk)
    return render(
        request,
        "grid/form_page.html",
        {
            "form": form,
            "title": _("Edit grid %(code)s") % {"code": grid.code},
            "cancel": reverse("grid:detail", args=[grid.pk]),
        },
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.add_gridofficer", raise_exception=True)
@require_POST
def officer_add(request: HttpRequest, pk: int) -> HttpResponse:
    grid = grid_get(user=request.user, pk=pk)
    form = OfficerForm(request.POST, grid=grid)
    if form.is_valid():
        try:
            grid_officer_add(actor=request.user, grid=grid, **form.cleaned_data)
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Officer added."))
    else:
        for errors in form.errors.values():
            messages.error(request, errors[0])
    return redirect("grid:detail", pk=grid.pk)


@login_required
@permission_required("grid.change_gridofficer", raise_exception=True)
@require_POST
def officer_remove(request: HttpRequest, pk: int) -> HttpResponse:
    officer = GridOfficer.objects.select_related("grid").filter(pk=pk).first()
    # The officer's grid must be in scope: the 404 below comes from grid_get.
    grid = grid_get(user=request.user, pk=officer.grid_id if officer else 0)
    try:
        grid_officer_remove(actor=request.user, officer=officer)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("%(name)s is no longer on duty.") % {"name": officer.name})
    return redirect("grid:detail", pk=grid.pk)


@login_required
@permission_required("grid.add_village", raise_exception=True)
@require_POST
def village_new(request: HttpRequest, pk: int) -> HttpResponse:
    grid = grid_get(user=request.user, pk=pk)
    form = VillageForm(request.POST)
    if form.is_valid():
        try:
            village = village_create(actor=request.user, grid=grid, **form.cleaned_data)
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Village %(name)s added.") % {"name": village})
    else:
        messages.error(request, _("Give the town and the village."))
    return redirect("grid:detail", pk=grid.pk)


@login_required
@permission_required("grid.view_village", raise_exception=True)
@require_GET
def village_detail(request: HttpRequest, pk: int) -> HttpResponse:
    village = village_get(user=request.user, pk=pk)
    households = village.households.select_related("head").order_by(
        "village_group", "head_name", "pk"
    )
    status = request.GET.get("filed", "")
    if status == "yes":
        households = households.filter(completeness__gte=100)
    elif status == "no":
        households = households.filter(completeness__lt=100)
    query = (request.GET.get("q") or "").strip()[:50]
    if query:
        households = households.filter(
            Q(head_name__icontains=query) | Q(village_group__icontains=query)
        )
    page = paginate(request, households)
    figures = metrics.household_figures(Household.objects.filter(village=village), "village")
    return render(
        request,
        "grid/village_detail.html",
        {
            "village": village,
            "figures": figures.get(village.pk, metrics.Figures()),
            "page_obj": page,
            "filed": status,
            "q": query,
            "query": query_without_page(request),
            "campaigns": campaigns_visible(request.user)
            .filter(village=village)
            .order_by("-starts_on", "-id")[:10],
            "can_add": request.user.has_perm("grid.add_household"),
        },
    )


@login_required
@permission_required("grid.view_grid", raise_exception=True)
@require_GET
def performance(request: HttpRequest) -> HttpResponse:
    """日管理、月督促、季考核 (seed 004): per grid and period."""
    form = PeriodForm(request.GET or None)
    period, on = "month", today()
    if form.is_valid():
        period = form.cleaned_data.get("period") or "month"
        on = form.cleaned_data.get("on") or on
    start, end = metrics.period_range(period, on)
    grids = grids_visible(request.user).filter(is_active=True)
    page = paginate(request, grids.order_by("code"))
    rows = metrics.grid_performance(
        grids.filter(pk__in=[g.pk for g in page.object_list]), period, on
    )
    return render(
        request,
        "grid/performance.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "period": period,
            "start": start,
            "last_day": end - timedelta(days=1),
            "query": query_without_page(request),
        },
    )


@login_required
@permission_required("grid.view_grid", raise_exception=True)
@require_GET
def followups(request: HttpRequest) -> HttpResponse:
    on = today()
    page = paginate(request, metrics.followups_due(request.user, on))
    return render(
        request,
        "grid/followups.html",
        {
            "page_obj": page,
            "on": on,
            "count": page.paginator.count,
            "query": query_without_page(request),
            "done_form": ContactDoneForm(),
            "here": request.get_full_path(),
        },
    )


@login_required
@permission_required("customers.add_visit", raise_exception=True)
@require_POST
def followup_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Close an open follow-up of the user's own grids with today's contact."""
    followup = metrics.followups_due(request.user, today()).filter(pk=pk).first()
    if followup is None:
        raise Http404
    form = ContactDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the channel and the outcome of the contact."))
        return back(request, reverse("grid:followups"))
    try:
        followup_complete(actor=request.user, followup=followup, **form.cleaned_data)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(
            request, _("Contact with %(name)s recorded.") % {"name": followup.household.head_name}
        )
    return back(request, reverse("grid:followups"))


@login_required
@permission_required("grid.view_blacklistentry", raise_exception=True)
@require_GET
def blacklist(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "active")
    entries = blacklist_visible(request.user).select_related(
        "customer", "household", "household__village", "added_by", "branch"
    )
    if show != "all":
        entries = entries.filter(is_active=True)
    page = paginate(request, entries.order_by("-added_at", "-id"))
    return render(
        request,
        "grid/blacklist.html",
        {
            "page_obj": page,
            "show": show,
            "lift_form": LiftForm(),
            "can_lift": request.user.has_perm("grid.change_blacklistentry"),
            "query": query_without_page(request),
        },
    )


@login_required
@permission_required("grid.change_blacklistentry", raise_exception=True)
@require_POST
def blacklist_lift_view(request: HttpRequest, pk: int) -> HttpResponse:
    entry = blacklist_get(user=request.user, pk=pk)
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for lifting."))
    else:
        try:
            blacklist_lift(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Lifted from the blacklist."))
    return back(request, reverse("grid:blacklist"))


@login_required
@permission_required("grid.view_filingrequirement", raise_exception=True)
@require_http_methods(["GET", "POST"])
def filing_requirements(request: HttpRequest) -> HttpResponse:
    requirements = list(FilingRequirement.objects.order_by("pk"))
    if request.method == "POST":
        if not request.user.has_perm("grid.change_filingrequirement"):
            raise PermissionDenied
        requirement = next(
            (r for r in requirements if str(r.pk) == request.POST.get("requirement")), None
        )
        form = FilingRequirementForm(request.POST)
        if requirement is None or not form.is_valid():
            messages.error(request, _("Choose a requirement and a weight from 1 to 10."))
        else:
            try:
                filing_requirement_update(
                    actor=request.user, requirement=requirement, **form.cleaned_data
                )
            except DomainError as exc:
                refused(request, exc)
            else:
                messages.success(request, _("Saved; every household's score was recomputed."))
        return redirect("grid:filing_requirements")
    return render(
        request,
        "grid/filing_requirements.html",
        {
            "requirements": requirements,
            "can_change": request.user.has_perm("grid.change_filingrequirement"),
        },
    )


urlpatterns = [
    path("", coverage, name="coverage"),
    path("mine/", my_grid, name="my_grid"),
    path("new/", grid_new, name="grid_new"),
    path("<int:pk>/", grid_detail, name="detail"),
    path("<int:pk>/edit/", grid_edit, name="grid_edit"),
    path("<int:pk>/officers/new/", officer_add, name="officer_add"),
    path("officers/<int:pk>/remove/", officer_remove, name="officer_remove"),
    path("<int:pk>/villages/new/", village_new, name="village_new"),
    path("villages/<int:pk>/", village_detail, name="village"),
    path("performance/", performance, name="performance"),
    path("follow-ups/", followups, name="followups"),
    path("follow-ups/<int:pk>/done/", followup_done, name="followup_done"),
    path("blacklist/", blacklist, name="blacklist"),
    path("blacklist/<int:pk>/lift/", blacklist_lift_view, name="blacklist_lift"),
    path("filing/", filing_requirements, name="filing_requirements"),
]
