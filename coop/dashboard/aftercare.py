"""Post-loan and survey sections, and the per-manager measures they feed into the ranking.

Built from the risk app's inspections and early warnings (``risk.inspection_selectors``) and the
surveys app's selectors and analysis. If one of them is not installed the section says so
instead of breaking the dashboard.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from coop.dashboard import drills
from coop.dashboard.figures import (
    Cell,
    Figure,
    Section,
    Table,
    count_cell,
    count_figure,
    percent_display,
    plain_display,
    ratio,
)
from coop.dashboard.filters import DashboardFilters


def _unavailable(key: str, title: str) -> Section:
    return Section(
        key=key,
        title=title,
        freshness="",
        available=False,
        notes=[_("This part of the system is not installed yet.")],
    )


# --- post-loan ----------------------------------------------------------------------------------


def _inspections():
    try:
        from risk import inspection_selectors
        from risk.models import EarlyWarningStatus, InspectionStatus
    except ImportError:  # pragma: no cover — the risk app without its post-loan part
        return None
    return inspection_selectors, InspectionStatus, EarlyWarningStatus


def inspections_base(user, filters: DashboardFilters):
    """Inspections due in the period, as ``risk.inspection_selectors.inspection_compliance``
    counts them (cancelled ones — the loan closed first — left out)."""
    selectors, status, _w = _inspections()
    return (
        selectors.inspections_visible(user)
        .filter(
            filters.branch_q("branch_id"),
            filters.product_q("loan__product_id"),
            filters.grid_customers_q("customer__"),
            due_on__gte=filters.date_from,
            due_on__lte=filters.date_to,
        )
        .exclude(status=status.CANCELLED)
    )


def inspection_slice(name: str) -> Q | None:
    _s, status, _w = _inspections()
    return {
        "all": Q(),
        "on_time": Q(status=status.COMPLETED, on_time=True),
        "late": Q(status=status.COMPLETED, on_time=False),
        "overdue": Q(status=status.OVERDUE),
        "due": Q(status=status.DUE),
    }.get(name)


def warnings_base(user, filters: DashboardFilters):
    selectors, _s, _w = _inspections()
    return selectors.warnings_visible(user).filter(
        filters.branch_q("branch_id"),
        filters.product_q("loan__product_id"),
        filters.grid_customers_q("customer__"),
    )


def warning_slice(name: str, filters: DashboardFilters) -> Q | None:
    _sel, _s, status = _inspections()
    return {
        "active": ~Q(status=status.CLOSED),
        "open": Q(status=status.OPEN),
        "acknowledged": Q(status=status.ACKNOWLEDGED),
        "raised": Q(raised_at__gte=filters.start_at, raised_at__lt=filters.end_at),
    }.get(name)


COMPLIANCE_SLICES = ("on_time", "late", "overdue", "due")


def postloan(user, filters: DashboardFilters, drill, now: dt.datetime) -> Section:
    """Three queries: compliance in total and per branch, and the warnings."""
    # "n_" names: ``on_time`` is also a field the slices filter on.
    aggregates = {
        f"n_{name}": Count("pk", filter=inspection_slice(name)) for name in COMPLIANCE_SLICES
    }
    rows = [
        {**row, **{name: row[f"n_{name}"] for name in COMPLIANCE_SLICES}}
        for row in inspections_base(user, filters)
        .values("branch_id", "branch__name", "branch__path")
        .annotate(**aggregates)
        .order_by("branch__path")
    ]
    total = {name: sum(row[name] for row in rows) for name in COMPLIANCE_SLICES}
    expected = total["on_time"] + total["late"] + total["overdue"]
    compliance = ratio(total["on_time"], expected)
    warnings = warnings_base(user, filters).aggregate(
        **{
            name: Count("pk", filter=warning_slice(name, filters))
            for name in ("active", "open", "acknowledged", "raised")
        }
    )
    labels = {
        "on_time": _("On time"),
        "late": _("Late"),
        "overdue": _("Overdue"),
        "due": _("Not yet due"),
    }
    table = Table(
        "postloan_branches",
        _("Inspection compliance by branch"),
        [("branch", _("Branch"))]
        + [(name, labels[name]) for name in COMPLIANCE_SLICES]
        + [("rate", _("On-time rate"))],
        [],
    )
    for row in rows:
        cells = [Cell(row["branch_id"], row["branch__name"])]
        for name in COMPLIANCE_SLICES:
            cells.append(
                count_cell(row[name], drill("inspections", status=name, unit=row["branch_id"]))
            )
        rate = ratio(row["on_time"], row["on_time"] + row["late"] + row["overdue"])
        cells.append(Cell(rate, percent_display(rate)))
        table.rows.append(cells)
    figures = [
        count_figure(
            f"inspections_{name}",
            labels[name],
            total[name],
            drill("inspections", status=name),
        )
        for name in COMPLIANCE_SLICES
    ]
    figures.append(
        Figure(
            "compliance_rate",
            _("On-time rate"),
            compliance,
            percent_display(compliance),
            drill("inspections", status="on_time"),
        )
    )
    figures += [
        count_figure(
            "warnings_active",
            _("Early warnings not closed"),
            warnings["active"],
            drill("warnings", status="active"),
        ),
        count_figure(
            "warnings_open",
            _("Early warnings open"),
            warnings["open"],
            drill("warnings", status="open"),
        ),
        count_figure(
            "warnings_raised",
            _("Early warnings raised in the period"),
            warnings["raised"],
            drill("warnings", status="raised"),
        ),
    ]
    return Section(
        key="postloan",
        title=_("Post-loan"),
        freshness=_("Live; an inspection turns overdue when the sweep runs after its due date."),
        figures=figures,
        tables=[table],
        notes=[
            _(
                "Inspections due in the period; the on-time rate is on time ÷ (on time + late + "
                "overdue). Early warnings not closed are as of now."
            )
        ],
        charts={
            "compliance": [
                {"name": str(labels[name]), "value": total[name]} for name in COMPLIANCE_SLICES
            ]
        },
    )


def am_inspection_compliance(user, filters: DashboardFilters, ids: list[int]) -> dict:
    """{manager id: on-time fraction or None}; {} when inspections are not installed."""
    if _inspections() is None:
        return {}
    aggregates = {
        f"n_{name}": Count("pk", filter=inspection_slice(name)) for name in COMPLIANCE_SLICES
    }
    result = {}
    for row in (
        inspections_base(user, filters)
        .filter(assigned_to_id__in=ids)
        .values("assigned_to_id")
        .annotate(**aggregates)
        .order_by()
    ):
        result[row["assigned_to_id"]] = ratio(
            row["n_on_time"], row["n_on_time"] + row["n_late"] + row["n_overdue"]
        )
    return result


def _inspection_drill(user, filters, params, now):
    condition = inspection_slice(params.get("status", ""))
    if condition is None:
        raise drills.Http404
    queryset = inspections_base(user, filters).filter(condition)
    if (unit := drills.int_param(params, "unit")) is not None:
        queryset = queryset.filter(branch_id=unit)
    if (am := drills.int_param(params, "am")) is not None:
        queryset = queryset.filter(assigned_to_id=am)
    return drills.DrillList(
        title=_("Post-loan inspections"),
        queryset=queryset.select_related("loan", "customer", "branch", "assigned_to").order_by(
            "due_on", "pk"
        ),
        columns=[
            _("Loan number"),
            _("Customer"),
            _("Branch"),
            _("Account manager"),
            _("Kind"),
            _("Due on"),
            _("Completed on"),
            _("Status"),
        ],
        row=lambda i: [
            i.loan.number,
            i.customer.name,
            i.branch.name,
            i.assigned_to.display_name,
            i.get_kind_display(),
            i.due_on.isoformat(),
            i.completed_on.isoformat() if i.completed_on else "",
            i.get_status_display(),
        ],
        link=lambda i: reverse("risk:inspection", args=[i.pk]),
    )


def _warning_drill(user, filters, params, now):
    condition = warning_slice(params.get("status", ""), filters)
    if condition is None:
        raise drills.Http404
    return drills.DrillList(
        title=_("Early warnings"),
        queryset=warnings_base(user, filters)
        .filter(condition)
        .select_related("loan", "customer", "branch")
        .order_by("-raised_at", "-pk"),
        columns=[_("Loan number"), _("Customer"), _("Branch"), _("Raised"), _("Status")],
        row=lambda w: [
            w.loan.number,
            w.customer.name,
            w.branch.name,
            drills.stamp(w.raised_at),
            w.get_status_display(),
        ],
        link=lambda w: reverse("risk:warning", args=[w.pk]),
    )


# --- surveys ------------------------------------------------------------------------------------


def _surveys():
    try:
        from surveys import analysis, selectors
        from surveys.models import Answer, ImprovementItem
    except ImportError:  # pragma: no cover — before the surveys app is installed
        return None
    return selectors, analysis, ImprovementItem, Answer


def improvements_base(user, filters: DashboardFilters):
    selectors, _a, _item, _ans = _surveys()
    return selectors.improvements_visible(user).filter(filters.branch_q("org_unit_id"))


def improvement_slice(name: str, today: dt.date) -> Q | None:
    _s, _a, item, _ans = _surveys()
    open_q = ~Q(state=item.State.CLOSED)
    return {"open": open_q, "overdue": open_q & Q(due_on__lt=today)}.get(name)


SURVEY_CACHE_SECONDS = 600


def survey_narrowing(filters: DashboardFilters):
    """The dashboard's filters on survey answers: invitations of the chosen branch (with its
    outlets) or grid, to customers holding a loan of the chosen product, answered by the end
    of the period."""
    from surveys.analysis import Narrowing

    return Narrowing(
        unit_ids=filters.branch_unit_ids,
        grid_id=filters.grid.pk if filters.grid else None,
        product_id=filters.product.pk if filters.product else None,
        until=filters.end_at,
    )


def _survey_results(user, filters: DashboardFilters) -> dict:
    """The latest campaign's index, its change, the indicator table and the quadrant chart, in
    the user's scope narrowed by the filters (``survey_narrowing``). They change only when
    answers arrive, and reading them means summing every answer of two campaigns, so they are
    cached: the key holds the filters and the newest response id (a new answer recomputes at
    once) and the entry lives at most ten minutes."""
    from django.core.cache import cache
    from django.db.models import Max
    from django.utils import timezone
    from django.utils.translation import get_language

    from coop.roles import user_roles
    from coop.scoping import scope_root

    selectors, analysis, _item, _ans = _surveys()
    from surveys.models import Response

    newest = Response.objects.aggregate(newest=Max("pk"))["newest"] or 0
    root = scope_root(user)
    key = "dashboard:surveys:{}:{}:{}:{}:{}".format(
        root.pk if root else 0,
        ",".join(user_roles(user)),
        get_language(),
        newest,
        filters.querystring(),
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    result: dict = {"figures": [], "tables": [], "charts": {}, "computed_at": timezone.now()}
    narrowing = survey_narrowing(filters)
    latest = selectors.latest_index(user, narrowing=narrowing)
    if latest is not None:
        campaign = latest["campaign"]
        # The analysis page narrowed the same way shows the same index and means.
        url = f"{reverse('surveys:analysis', args=[campaign.pk])}?{filters.querystring()}"
        result["figures"] = [
            Figure(
                "satisfaction_index",
                _("Satisfaction index (0–100)"),
                latest["index"],
                plain_display(latest["index"]),
                url,
            ),
            Figure(
                "index_change",
                _("Change on the previous campaign"),
                latest["change"],
                plain_display(latest["change"]),
                url,
            ),
            Figure(
                "valid_responses",
                _("Valid responses"),
                latest["valid"],
                f"{latest['valid']:,}",
                url,
            ),
        ]
        body = analysis.campaign_analysis(user=user, campaign=campaign, narrowing=narrowing)
        quadrant_names = {
            1: _("Keep up"),
            2: _("Improve first"),
            3: _("Lower priority"),
            4: _("Maintain"),
        }
        indicators = Table(
            "survey_indicators",
            _("Indicators of %(campaign)s") % {"campaign": campaign.name},
            [
                ("indicator", _("Indicator")),
                ("importance", _("Importance")),
                ("satisfaction", _("Satisfaction")),
                ("gap", _("Gap")),
                ("quadrant", _("Quadrant")),
                ("n", _("Answers")),
            ],
            [],
        )
        for row in body["indicators"]:
            indicators.rows.append(
                [
                    Cell(row["code"], f"{row['code']} {row['name']}", url),
                    Cell(row["importance_mean"]),
                    Cell(row["satisfaction_mean"]),
                    Cell(row["gap"]),
                    Cell(row["quadrant"], str(quadrant_names[row["quadrant"]])),
                    count_cell(row["n"]),
                ]
            )
        result["tables"] = [indicators]
        result["charts"] = {
            "quadrant": {
                "points": [
                    {
                        "name": f"{row['code']} {row['name']}",
                        "x": str(row["importance_mean"]),
                        "y": str(row["satisfaction_mean"]),
                        "url": url,
                    }
                    for row in body["indicators"]
                ],
                "x_mean": str(body["crosshair"]["importance"]),
                "y_mean": str(body["crosshair"]["satisfaction"]),
            }
        }
    cache.set(key, result, SURVEY_CACHE_SECONDS)
    return result


def surveys_section(user, filters: DashboardFilters, drill, now: dt.datetime) -> Section:
    from django.utils import timezone

    from coop.dashboard.filters import bank_today

    today = bank_today()
    results = _survey_results(user, filters)
    items = improvements_base(user, filters).aggregate(
        open=Count("pk", filter=improvement_slice("open", today)),
        overdue=Count("pk", filter=improvement_slice("overdue", today)),
    )
    figures = list(results["figures"])
    figures += [
        count_figure(
            "improvements_open",
            _("Open improvement items"),
            items["open"],
            drill("improvements", status="open"),
        ),
        count_figure(
            "improvements_overdue",
            _("Improvement items past due"),
            items["overdue"],
            drill("improvements", status="overdue"),
        ),
    ]
    notes = [
        _(
            "The index and the chart are those of the latest campaign with valid answers "
            "submitted by the end of the period; a chosen branch or grid keeps the customers "
            "invited there, a chosen product those holding a loan of it."
        )
    ]
    if not results["figures"]:
        notes.insert(0, _("No survey campaign has valid answers for these filters."))
    stamp = timezone.localtime(results["computed_at"]).strftime("%Y-%m-%d %H:%M")
    return Section(
        key="surveys",
        title=_("Surveys"),
        freshness=_(
            "Index and chart computed %(time)s, again as soon as new answers arrive (at most "
            "ten minutes old); improvement items live."
        )
        % {"time": stamp},
        as_of=results["computed_at"],
        figures=figures,
        tables=list(results["tables"]),
        charts=dict(results["charts"]),
        notes=notes,
    )


def am_survey_scores(user, filters: DashboardFilters, ids: list[int]) -> dict:
    """{manager id: mean satisfaction (1–5) over the valid answers, submitted in the period, of
    the customers they own}; {} when surveys are not installed. One query."""
    if _surveys() is None:
        return {}
    selectors, _a, _item, answer = _surveys()
    responses = selectors.responses_visible(user).filter(
        is_valid=True,
        submitted_at__gte=filters.start_at,
        submitted_at__lt=filters.end_at,
        invitation__customer__owner_id__in=ids,
    )
    rows = (
        answer.objects.filter(response__in=responses, satisfaction__isnull=False)
        .values("response__invitation__customer__owner_id")
        .annotate(mean=Avg("satisfaction"))
        .order_by()
    )
    return {
        row["response__invitation__customer__owner_id"]: Decimal(str(row["mean"])).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        for row in rows
    }


def _improvement_drill(user, filters, params, now):
    from coop.dashboard.filters import bank_today

    condition = improvement_slice(params.get("status", ""), bank_today())
    if condition is None:
        raise drills.Http404
    return drills.DrillList(
        title=_("Improvement items"),
        queryset=improvements_base(user, filters)
        .filter(condition)
        .select_related("org_unit", "owner")
        .order_by("due_on", "pk"),
        columns=[_("Problem"), _("Unit"), _("Owner"), _("Due"), _("Stage")],
        row=lambda i: [
            i.title,
            i.org_unit.name,
            i.owner.display_name if i.owner_id else "",
            i.due_on.isoformat(),
            i.get_state_display(),
        ],
        link=lambda i: reverse("surveys:improvement", args=[i.pk]),
    )


# --- wiring -------------------------------------------------------------------------------------


if _inspections() is not None:
    drills.register("inspections", _inspection_drill)
    drills.register("warnings", _warning_drill)
if _surveys() is not None:
    drills.register("improvements", _improvement_drill)


def builders(user, filters, drill, now) -> dict:
    result = {}
    if _inspections() is not None:
        result["postloan"] = lambda: postloan(user, filters, drill, now)
    else:
        result["postloan"] = lambda: _unavailable("postloan", _("Post-loan"))
    if _surveys() is not None:
        result["surveys"] = lambda: surveys_section(user, filters, drill, now)
    else:
        result["surveys"] = lambda: _unavailable("surveys", _("Surveys"))
    return result
