"""Pages of the management dashboard: the dashboard, the drill-down lists, table exports and the
NPL trend for the chart.

Management sees the bank and may narrow it to a branch; a branch manager sees their branch and a
filter for another branch answers 404 (``coop.dashboard.filters``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from coop.dashboard import drills, exports
from coop.dashboard.figures import SECTIONS, build_sections
from coop.dashboard.filters import FilterError, filter_choices, parse_filters
from coop.dashboard.trend import npl_trend_for
from coop.money import format_yuan

# Held by head-office management and branch managers (coop.roles.CORE_ROLE_PERMISSIONS).
DASHBOARD_PERMISSION = "coop.view_management_dashboard"
PAGE_SIZE = 50


def _bad_filters(request: HttpRequest, error: FilterError) -> HttpResponse:
    return render(request, "coop/dashboard_error.html", {"errors": error.errors}, status=400)


@require_GET
@login_required
@permission_required(DASHBOARD_PERMISSION, raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    try:
        filters = parse_filters(request.user, request.GET)
    except FilterError as error:
        return _bad_filters(request, error)
    sections = build_sections(request.user, filters)
    charts = {section.key: section.charts for section in sections if section.charts}
    return render(
        request,
        "coop/dashboard.html",
        {
            "filters": filters,
            "choices": filter_choices(request.user, filters),
            "sections": sections,
            "charts": charts,
            "querystring": filters.querystring(),
        },
    )


@require_GET
@login_required
@permission_required(DASHBOARD_PERMISSION, raise_exception=True)
def drill(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        filters = parse_filters(request.user, request.GET)
    except FilterError as error:
        return _bad_filters(request, error)
    found = drills.drill_list(request.user, filters, kind, request.GET)
    summary = drills.totals(found)
    page = Paginator(found.queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"cells": found.row(item), "link": found.link(item) if found.link else ""} for item in page
    ]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "coop/dashboard_drill.html",
        {
            "drill": found,
            "count": summary["n"],
            "total": format_yuan(summary["total"]) if found.sum_field else "",
            "page": page,
            "rows": rows,
            "querystring": params.urlencode(),
            "back": filters.querystring(),
        },
    )


@require_GET
@login_required
@permission_required(DASHBOARD_PERMISSION, raise_exception=True)
def export(request: HttpRequest, section: str, table: str, fmt: str) -> HttpResponse:
    if section not in SECTIONS or fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        filters = parse_filters(request.user, request.GET)
    except FilterError as error:
        return _bad_filters(request, error)
    built = build_sections(request.user, filters, only=(section,))
    if not built:
        raise Http404
    found = next((t for t in built[0].tables if t.key == table), None)
    if found is None:
        raise Http404
    writer = exports.as_csv if fmt == "csv" else exports.as_xlsx
    return writer(built[0], found)


@require_GET
@login_required
@permission_required(DASHBOARD_PERMISSION, raise_exception=True)
def trend(request: HttpRequest) -> JsonResponse:
    try:
        filters = parse_filters(request.user, request.GET)
    except FilterError as error:
        return JsonResponse({"errors": error.errors}, status=400)
    rows = npl_trend_for(request.user, filters)
    return JsonResponse(
        {
            "months": [
                {
                    "month": row["month"],
                    "outstanding": str(row["outstanding"]),
                    "npl": str(row["npl"]),
                    "ratio": str(row["ratio"]),
                    "source": row["source"],
                }
                for row in rows
            ]
        }
    )


urlpatterns = [
    path("", index, name="index"),
    path("list/<slug:kind>/", drill, name="drill"),
    path("export/<slug:section>/<slug:table>.<slug:fmt>", export, name="export"),
    path("npl-trend/", trend, name="npl_trend"),
]
