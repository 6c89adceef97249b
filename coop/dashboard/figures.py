"""The dashboard's figures, section by section, aggregated in PostgreSQL.

Every section starts from the owning app's scoped selector (``loans_visible``, ``cases_visible``,
``households_visible`` …), narrows it by the filters, and aggregates with conditional
aggregation: a fixed number of queries per section whatever the number of rows. Each figure is a
named *slice* — a Q on that same scoped queryset — and the drill-down list of a figure is the
queryset filtered by the same slice (``coop.dashboard.drills``), so the figure and its list agree
by construction; the tests check it on data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coop.dashboard import rollups
from coop.dashboard.filters import DashboardFilters, bank_today
from coop.dashboard.grading import grade
from coop.dashboard.sql import village_figures
from coop.models import (
    AccountManagerDay,
    AccountManagerMarketingMonth,
    OrgUnit,
    TaskRun,
    User,
)
from coop.money import format_yuan
from coop.roles import Role
from coop.scoping import sees_whole_bank, visible_org_unit_ids
from customers.models import Complaint
from customers.selectors import customers_visible
from customers.selectors_relationship import visits_visible
from customers.services.service import complaints_visible, service_interactions_visible
from grid.metrics import CampaignFigures, Figures
from grid.models import CampaignHousehold, Grid, VillageCreditCampaign
from grid.selectors import campaigns_visible, households_visible, villages_visible
from loans.models import NPL_CLASSES, Classification, Loan, Product, ProductTier
from loans.selectors_lifecycle import DISBURSED_LIVE_STATES, loans_visible
from risk.models import WORKING_STAGES, ApprovalCase, ApprovalLog, Stage
from risk.policy import case_scope_q
from risk.selectors import PercentileCont, cases_visible, sla_targets

ZERO = Decimal("0.00")
RATIO = Decimal("0.0001")
CLASSIFY_TASK = "loans.tasks.loans_classify_nightly"

# --- presentation types -------------------------------------------------------------------------


@dataclass
class Cell:
    value: Any
    display: str = ""
    drill: str = ""

    def __post_init__(self):
        if not self.display:
            self.display = "" if self.value is None else str(self.value)


@dataclass
class Figure:
    key: str
    label: str
    value: Any
    display: str
    drill: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[list[Cell]]

    def body_html(self) -> str:
        """The table's rows as HTML. A village table has thousands of cells, and a template
        loop over them costs more than all the page's queries together."""
        rows = []
        for row in self.rows:
            cells = []
            for n, cell in enumerate(row):
                display = escape(cell.display)
                if cell.drill:
                    display = f'<a href="{escape(cell.drill)}" class="dash-cell-link">{display}</a>'
                cells.append(f'<td class="amount">{display}</td>' if n else f"<td>{display}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return mark_safe("\n".join(rows))  # noqa: S308 - every value is escaped above


@dataclass
class Section:
    key: str
    title: str
    freshness: str
    as_of: dt.datetime | None = None
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    available: bool = True

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def money(value: Decimal | None) -> Cell:
    value = value if value is not None else ZERO
    return Cell(value, format_yuan(value))


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, ROUND_HALF_UP)


def percent_display(value: Decimal | None) -> str:
    return "–" if value is None else f"{value * 100:.2f}%"


def count_cell(n: int, url: str = "") -> Cell:
    return Cell(n, f"{n:,}", url)


def count_figure(key: str, label: str, n: int, url: str) -> Figure:
    return Figure(key, label, n, f"{n:,}", url)


def rate_display(value: Decimal | None) -> str:
    """A percentage already in percent (72.1 → "72.1%")."""
    return "–" if value is None else f"{value}%"


def plain_display(value) -> str:
    return "–" if value is None else str(value)


class Drill:
    """Builds drill-down URLs for one request's filters (``filters.querystring`` with the
    figure's own parameters). A page holds thousands of them: the path of each kind and the
    filters' parameters are worked out once."""

    def __init__(self, filters: DashboardFilters):
        self.filters = filters
        self.encoded = urlencode(filters.params())
        self.paths: dict[str, str] = {}

    def __call__(self, kind: str, **params) -> str:
        path = self.paths.get(kind)
        if path is None:
            path = self.paths[kind] = reverse("dashboard:drill", args=[kind])
        extra = {k: str(v) for k, v in params.items() if v is not None and str(v) != ""}
        if not extra:
            return f"{path}?{self.encoded}"
        # The filters always hold the period, and the figure's parameters never repeat a
        # filter's name: encoding them apart gives the query string of the union.
        return f"{path}?{self.encoded}&{urlencode(extra)}"


LIVE_LABEL = gettext_lazy("Live: computed from the current data on every request.")


def rollup_scope_q(user, field: str) -> Q:
    """The user's scope on a pre-aggregated table's branch column: the branch-wide roles that see
    the dashboard see by branch (``customer_scope_q``, ``grid_scope_q`` and the loan selectors
    alike), head office everything."""
    if sees_whole_bank(user):
        return Q()
    return Q(**{f"{field}__in": visible_org_unit_ids(user)})


def stamp_display(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- loan book ----------------------------------------------------------------------------------


LIVE = Q(state__in=DISBURSED_LIVE_STATES)
DPD_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("1_30", "1–30", 1, 30),
    ("31_60", "31–60", 31, 60),
    ("61_90", "61–90", 61, 90),
    ("91_180", "91–180", 91, 180),
    ("180_plus", "180+", 181, None),
)


def loans_base(user, filters: DashboardFilters) -> QuerySet[Loan]:
    return loans_visible(user).filter(
        filters.branch_q("branch_id"),
        filters.product_q("product_id"),
        filters.grid_customers_q("customer__"),
    )


def loan_slice(name: str, filters: DashboardFilters) -> tuple[Q, str] | None:
    """(condition, summed field) of a named loan figure; None for an unknown name."""
    if name == "outstanding":
        return LIVE, "outstanding_principal"
    if name == "npl":
        return LIVE & Q(classification__in=NPL_CLASSES), "outstanding_principal"
    if name == "overdue":
        return LIVE & Q(days_past_due__gte=1), "outstanding_principal"
    if name == "disbursed":
        return (
            Q(disbursed_on__gte=filters.date_from, disbursed_on__lte=filters.date_to),
            "principal",
        )
    if name.startswith("class_") and name[6:] in Classification.values:
        return LIVE & Q(classification=name[6:]), "outstanding_principal"
    for key, _label, low, high in DPD_BUCKETS:
        if name == f"dpd_{key}":
            condition = LIVE & Q(days_past_due__gte=low)
            if high is not None:
                condition &= Q(days_past_due__lte=high)
            return condition, "outstanding_principal"
    return None


LOAN_FIGURES = (
    "outstanding",
    "disbursed",
    "npl",
    "overdue",
    *(f"class_{c}" for c in Classification.values),
    *(f"dpd_{b[0]}" for b in DPD_BUCKETS),
)


def with_tier(queryset: QuerySet[Loan]) -> QuerySet[Loan]:
    """The product tier a loan's principal falls in (farmer microcredit: 一般/较好/优秀), "" when
    the product has no tier for that amount. The catalogue's tiers are a handful of rows: one
    query reads them and a CASE expression places each loan, instead of a subquery per loan."""
    whens = [
        When(
            product_id=tier.product_id,
            principal__gte=tier.min_amount,
            principal__lte=tier.max_amount,
            then=Value(tier.rating),
        )
        for tier in ProductTier.objects.order_by("product_id", "max_amount", "pk")
    ]
    if not whens:
        return queryset.annotate(tier=Value("", output_field=CharField()))
    return queryset.annotate(tier=Case(*whens, default=Value(""), output_field=CharField()))


def dpd_bucket() -> Case:
    """The days-past-due bucket of a loan ("" when not past due), as a CASE over DPD_BUCKETS."""
    whens = []
    for key, _label, low, high in DPD_BUCKETS:
        condition = Q(days_past_due__gte=low)
        if high is not None:
            condition &= Q(days_past_due__lte=high)
        whens.append(When(condition, then=Value(key)))
    return Case(*whens, default=Value(""), output_field=CharField())


def _in_slice(name: str, state: str, classification: str, bucket: str) -> bool:
    """``loan_slice``'s conditions on a group of loans (the live slices; the tests hold each
    figure equal to the list ``loan_slice`` selects)."""
    if state not in DISBURSED_LIVE_STATES:
        return False
    if name == "outstanding":
        return True
    if name == "npl":
        return classification in NPL_CLASSES
    if name == "overdue":
        return bucket != ""
    if name.startswith("class_"):
        return classification == name[6:]
    return name == f"dpd_{bucket}"


def classification_as_of() -> dt.datetime | None:
    run = (
        TaskRun.objects.filter(task_name=CLASSIFY_TASK, status=TaskRun.Status.OK)
        .order_by("-started_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return run


def loan_book(user, filters: DashboardFilters, drill: Drill) -> Section:
    """Five queries: the tiers, the book in groups, the products' names, the last nightly run
    and the last month-end snapshot."""
    base = loans_base(user, filters)
    disbursed, _summed = loan_slice("disbursed", filters)
    # One pass: the book grouped by state, class and days-past-due bucket (a few dozen groups),
    # each slice then adds up its groups.
    # One pass: the book grouped by state, class, days-past-due bucket, product and tier (a few
    # hundred groups); each figure and the product table then add up their groups.
    groups = list(
        with_tier(base.filter(LIVE | disbursed))
        .annotate(bucket=dpd_bucket())
        .values("state", "classification", "bucket", "product_id", "tier")
        .annotate(
            n=Count("pk", filter=LIVE),
            outstanding=Coalesce(Sum("outstanding_principal", filter=LIVE), ZERO),
            disbursed_n=Count("pk", filter=disbursed),
            disbursed_sum=Coalesce(Sum("principal", filter=disbursed), ZERO),
        )
        .order_by()
    )
    row = {
        "disbursed__n": sum(g["disbursed_n"] for g in groups),
        "disbursed__sum": sum((g["disbursed_sum"] for g in groups), ZERO),
    }
    for name in LOAN_FIGURES:
        if name == "disbursed":
            continue
        chosen = [
            g for g in groups if _in_slice(name, g["state"], g["classification"], g["bucket"])
        ]
        row[f"{name}__n"] = sum(g["n"] for g in chosen)
        row[f"{name}__sum"] = sum((g["outstanding"] for g in chosen), ZERO)

    def fig(name: str, label: str) -> list[Figure]:
        n, total = row[f"{name}__n"], row[f"{name}__sum"]
        url = drill("loans", slice=name)
        return [
            Figure(f"{name}_count", _("%(figure)s: loans") % {"figure": label}, n, f"{n:,}", url),
            Figure(
                f"{name}_amount",
                _("%(figure)s: amount") % {"figure": label},
                total,
                format_yuan(total),
                url,
            ),
        ]

    npl_ratio = ratio(row["npl__sum"], row["outstanding__sum"]) or Decimal("0.0000")
    section = Section(
        key="loans",
        title=_("Loan book"),
        freshness="",
        figures=[
            *fig("outstanding", _("Outstanding")),
            *fig("disbursed", _("Disbursed in the period")),
            *fig("npl", _("Non-performing")),
            *fig("overdue", _("Overdue")),
            Figure(
                "npl_ratio",
                _("NPL ratio"),
                npl_ratio,
                percent_display(npl_ratio),
                drill("loans", slice="npl"),
            ),
        ],
    )
    classes = Table(
        "loan_classes",
        _("Five-category classification"),
        [("class", _("Class")), ("count", _("Loans")), ("outstanding", _("Outstanding"))],
        [],
    )
    for code, label in Classification.choices:
        url = drill("loans", slice=f"class_{code}")
        classes.rows.append(
            [
                Cell(code, str(label)),
                Cell(row[f"class_{code}__n"], f"{row[f'class_{code}__n']:,}", url),
                Cell(row[f"class_{code}__sum"], format_yuan(row[f"class_{code}__sum"]), url),
            ]
        )
    buckets = Table(
        "loan_dpd",
        _("Overdue by days past due"),
        [("bucket", _("Days past due")), ("count", _("Loans")), ("outstanding", _("Outstanding"))],
        [],
    )
    for key, label, _low, _high in DPD_BUCKETS:
        url = drill("loans", slice=f"dpd_{key}")
        n, total = row[f"dpd_{key}__n"], row[f"dpd_{key}__sum"]
        buckets.rows.append(
            [Cell(key, label), Cell(n, f"{n:,}", url), Cell(total, format_yuan(total), url)]
        )

    tiers = dict(ProductTier._meta.get_field("rating").choices)
    live_groups: dict[tuple[int, str], dict] = {}
    for g in groups:
        if g["state"] in DISBURSED_LIVE_STATES:
            item = live_groups.setdefault(
                (g["product_id"], g["tier"]),
                {"product_id": g["product_id"], "tier": g["tier"], "n": 0, "total": ZERO},
            )
            item["n"] += g["n"]
            item["total"] += g["outstanding"]
    # Ordered by the database, as the table always was (its collation, not Python's).
    names = list(
        Product.objects.filter(pk__in={key[0] for key in live_groups})
        .order_by("name", "pk")
        .values_list("pk", "name")
    )
    rank = {pk: n for n, (pk, _name) in enumerate(names)}
    by_product = sorted(
        (
            {**item, "product__name": dict(names)[item["product_id"]]}
            for item in live_groups.values()
            if item["n"]
        ),
        key=lambda item: (rank[item["product_id"]], item["tier"]),
    )
    products = Table(
        "loan_products",
        _("Outstanding by product and tier"),
        [
            ("product", _("Product")),
            ("tier", _("Tier")),
            ("count", _("Loans")),
            ("outstanding", _("Outstanding")),
        ],
        [],
    )
    for item in by_product:
        url = drill(
            "loans", slice="outstanding", row_product=item["product_id"], tier=item["tier"] or "-"
        )
        products.rows.append(
            [
                Cell(item["product_id"], item["product__name"]),
                Cell(item["tier"], str(tiers.get(item["tier"], "–"))),
                Cell(item["n"], f"{item['n']:,}", url),
                Cell(item["total"], format_yuan(item["total"]), url),
            ]
        )
    section.tables = [classes, buckets, products]
    as_of = classification_as_of()
    section.as_of = as_of
    if as_of:
        stamp = timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")
        section.freshness = _(
            "Balances are live; days past due and classification as of the nightly run "
            "finished %(time)s."
        ) % {"time": stamp}
    else:
        section.freshness = _(
            "Balances are live; days past due and classification as last set (the nightly "
            "run has not been recorded yet)."
        )
    snapshot = rollups.last_month_end_refresh()
    if snapshot is not None:
        section.notes.append(
            _(
                "NPL trend: past month ends from the month-end snapshot refreshed %(time)s; "
                "the current month is live."
            )
            % {"time": stamp_display(snapshot)}
        )
    section.charts = {
        "classes": [
            {
                "name": str(label),
                "value": str(row[f"class_{code}__sum"]),
                "url": drill("loans", slice=f"class_{code}"),
            }
            for code, label in Classification.choices
        ],
        "dpd": [
            {
                "name": label,
                "value": row[f"dpd_{key}__n"],
                "url": drill("loans", slice=f"dpd_{key}"),
            }
            for key, label, _l, _h in DPD_BUCKETS
        ],
        "trend_url": reverse("dashboard:npl_trend") + "?" + filters.querystring(),
    }
    return section


# --- approval -----------------------------------------------------------------------------------


OUTCOMES: dict[str, Q] = {
    "open": Q(state__in=WORKING_STAGES),
    "approved": Q(state=Stage.APPROVED),
    "rejected": Q(state=Stage.REJECTED),
    "withdrawn": Q(state=Stage.WITHDRAWN),
}


def outcome_labels() -> dict[str, str]:
    return {
        "open": _("In progress"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        "withdrawn": _("Withdrawn"),
    }


def cases_base(user, filters: DashboardFilters) -> QuerySet[ApprovalCase]:
    return cases_visible(user).filter(
        filters.branch_q("branch_id"),
        filters.product_q("application__product_id"),
        filters.grid_customers_q("customer__"),
    )


def case_slice(name: str, filters: DashboardFilters, now: dt.datetime) -> Q | None:
    """Cases opened in the period (by outcome), or open now and over their stage's target."""
    opened = Q(opened_at__gte=filters.start_at, opened_at__lt=filters.end_at)
    if name == "opened":
        return opened
    if name in OUTCOMES:
        return opened & OUTCOMES[name]
    if name == "over_target":
        return Q(state__in=WORKING_STAGES, stage_due_at__lt=now)
    return None


def stage_visits_base(user, filters: DashboardFilters):
    """Stays in a stage that ended in the period (one ApprovalLog row each), like
    ``risk.selectors.stage_timing`` counts them."""
    scope = case_scope_q(user, "case__")
    if scope is None:
        return ApprovalLog.objects.none()
    return ApprovalLog.objects.filter(
        scope,
        filters.branch_q("case__branch_id"),
        filters.product_q("case__application__product_id"),
        filters.grid_customers_q("case__customer__"),
        from_state__in=WORKING_STAGES,
        created_at__gte=filters.start_at,
        created_at__lt=filters.end_at,
    )


def approval(user, filters: DashboardFilters, drill: Drill, now: dt.datetime) -> Section:
    """Four queries: routes × outcomes, stage timing, cases over target, the stage targets."""
    base = cases_base(user, filters)
    routes = {}
    for route in ApprovalCase._meta.get_field("route").choices:
        routes[route[0]] = route[1]
    aggregates = {}
    for name in ("opened", *OUTCOMES):
        aggregates[name] = Count("pk", filter=case_slice(name, filters, now))
    by_route = {
        item["route"]: item
        for item in base.filter(case_slice("opened", filters, now))
        .order_by()
        .values("route")
        .annotate(**aggregates)
    }
    labels = outcome_labels()
    outcome_table = Table(
        "approval_routes",
        _("Applications by route and outcome"),
        [("route", _("Route")), ("opened", _("Opened"))] + [(k, labels[k]) for k in OUTCOMES],
        [],
    )
    totals = dict.fromkeys(("opened", *OUTCOMES), 0)
    for code, label in routes.items():
        item = by_route.get(code, {})
        cells = [Cell(code, str(label))]
        for name in ("opened", *OUTCOMES):
            n = item.get(name, 0)
            totals[name] += n
            cells.append(count_cell(n, drill("cases", slice=name, route=code)))
        outcome_table.rows.append(cells)

    targets = sla_targets()
    timing_rows = (
        stage_visits_base(user, filters)
        .values("from_state")
        .annotate(
            visits=Count("id"),
            avg_seconds=Avg("seconds_in_stage"),
            p90_seconds=PercentileCont("seconds_in_stage", 0.9),
        )
        .order_by()
    )
    order = {stage: i for i, stage in enumerate(WORKING_STAGES)}
    timing = Table(
        "approval_timing",
        _("Time per stage"),
        [
            ("stage", _("Stage")),
            ("visits", _("Completed stays")),
            ("avg_hours", _("Average (hours)")),
            ("p90_hours", _("90th percentile (hours)")),
            ("target_hours", _("Target (hours)")),
        ],
        [],
    )
    for item in sorted(timing_rows, key=lambda r: order[r["from_state"]]):
        stage = item["from_state"]
        avg_h = Decimal(str(item["avg_seconds"] / 3600)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        p90_h = Decimal(str(item["p90_seconds"] / 3600)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        url = drill("stage_visits", stage=stage)
        timing.rows.append(
            [
                Cell(stage, str(Stage(stage).label)),
                Cell(item["visits"], f"{item['visits']:,}", url),
                Cell(avg_h, f"{avg_h}", url),
                Cell(p90_h, f"{p90_h}", url),
                Cell(targets.get(stage), str(targets.get(stage, "–"))),
            ]
        )

    over = {
        item["state"]: item["n"]
        for item in base.filter(case_slice("over_target", filters, now))
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
    }
    over_table = Table(
        "approval_over_target",
        _("Open cases over their stage target"),
        [("stage", _("Stage")), ("count", _("Cases")), ("target_hours", _("Target (hours)"))],
        [],
    )
    for stage in WORKING_STAGES:
        if stage in over:
            over_table.rows.append(
                [
                    Cell(stage, str(Stage(stage).label)),
                    count_cell(over[stage], drill("cases", slice="over_target", stage=stage)),
                    Cell(targets.get(stage), str(targets.get(stage, "–"))),
                ]
            )
    over_total = sum(over.values())
    return Section(
        key="approval",
        title=_("Approval"),
        freshness=str(LIVE_LABEL),
        figures=[
            count_figure(
                "opened", _("Applications opened"), totals["opened"], drill("cases", slice="opened")
            ),
            count_figure(
                "approved", labels["approved"], totals["approved"], drill("cases", slice="approved")
            ),
            count_figure(
                "rejected", labels["rejected"], totals["rejected"], drill("cases", slice="rejected")
            ),
            count_figure(
                "over_target",
                _("Over stage target now"),
                over_total,
                drill("cases", slice="over_target"),
            ),
        ],
        tables=[outcome_table, timing, over_table],
        charts={
            "timing": [
                {
                    "name": row[0].display,
                    "avg": str(row[2].value),
                    "p90": str(row[3].value),
                    "target": row[4].value,
                }
                for row in timing.rows
            ]
        },
    )


# --- grid and whole-village credit ---------------------------------------------------------------


def households_base(user, filters: DashboardFilters):
    queryset = households_visible(user).filter(filters.branch_q("village__grid__branch_id"))
    if filters.grid:
        queryset = queryset.filter(village__grid=filters.grid)
    return queryset


def household_slice(name: str) -> Q | None:
    """The same definitions as ``grid.metrics.household_figures`` (the tests hold them equal)."""
    entries = CampaignHousehold.objects.filter(household=OuterRef("pk"))
    if name == "all":
        return Q()
    if name == "filed":
        return Q(completeness__gte=100)
    if name == "pre_credited":
        return Q(Exists(entries.filter(pre_credited_at__isnull=False)))
    if name == "signed":
        return Q(Exists(entries.filter(signing=CampaignHousehold.Signing.SIGNED)))
    return None


def campaigns_base(user, filters: DashboardFilters):
    queryset = campaigns_visible(user).filter(
        filters.branch_q("village__grid__branch_id"), filters.product_q("product_id")
    )
    if filters.grid:
        queryset = queryset.filter(village__grid=filters.grid)
    # Campaigns running in the period, and those not yet in follow-up whatever their plan said.
    return queryset.filter(
        Q(starts_on__lte=filters.date_to)
        & (Q(ends_on__gte=filters.date_from) | ~Q(phase=VillageCreditCampaign.Phase.FOLLOW_UP))
    )


def campaign_entry_slice(name: str) -> Q | None:
    """The same definitions as ``grid.metrics.campaign_figures``."""
    if name == "all":
        return Q()
    if name == "pre_credited":
        return Q(excluded_reason="", pre_credited_at__isnull=False)
    if name == "signed":
        return Q(signing=CampaignHousehold.Signing.SIGNED)
    return None


def _figures_cells(figures: Figures, url: Callable[[str], str]) -> list[Cell]:
    return [
        count_cell(figures.households, url("all")),
        count_cell(figures.filed, url("filed")),
        count_cell(figures.pre_credited, url("pre_credited")),
        count_cell(figures.signed, url("signed")),
        Cell(figures.filing_rate, rate_display(figures.filing_rate)),
        Cell(figures.coverage_rate, rate_display(figures.coverage_rate)),
    ]


def grid_section(user, filters: DashboardFilters, drill: Drill) -> Section:
    """Five queries: villages, when the village rollup was refreshed, the households by village
    (from the rollup, or live before its first refresh; added up to grid and branch here), the
    campaigns and their entries."""
    villages = list(
        villages_visible(user)
        .filter(filters.branch_q("grid__branch_id"))
        .filter(Q(grid=filters.grid) if filters.grid else Q())
        .select_related("grid", "grid__branch")
        .order_by("grid__branch__code", "grid__code", "name")
    )
    as_of = rollups.as_of(rollups.VILLAGES).get(rollups.VILLAGES)
    if as_of is None:
        by_village = village_figures(households_base(user, filters))
    else:
        by_village = {
            village: figures
            for village, _grid, _branch, figures in rollups.village_rollup_rows(
                village_id__in=[v.pk for v in villages]
            )
        }
    by_grid: dict[int, Figures] = {}
    by_branch: dict[int, Figures] = {}
    grids: dict[int, Grid] = {}
    branches: dict[int, OrgUnit] = {}
    total = Figures()
    for village in villages:
        figures = by_village.get(village.pk, Figures())
        grids[village.grid_id] = village.grid
        branches[village.grid.branch_id] = village.grid.branch
        by_grid.setdefault(village.grid_id, Figures()).add(figures)
        by_branch.setdefault(village.grid.branch_id, Figures()).add(figures)
        total.add(figures)
    columns = [
        ("households", _("Households")),
        ("filed", _("Filed")),
        ("pre_credited", _("Credited")),
        ("signed", _("Signed")),
        ("filing_rate", _("Filing rate")),
        ("coverage_rate", _("Coverage rate")),
    ]

    def table(key, title, label, items, level):
        result = Table(key, title, [("name", label), *columns], [])
        for pk, name, figures in items:
            result.rows.append(
                [Cell(pk, name)]
                + _figures_cells(
                    figures,
                    lambda s, pk=pk: drill("households", status=s, level=level, unit=pk),
                )
            )
        return result

    branch_table = table(
        "grid_branches",
        _("Coverage and filing by branch"),
        _("Branch"),
        [(pk, branches[pk].name, f) for pk, f in by_branch.items()],
        "branch",
    )
    grid_table = table(
        "grid_grids",
        _("Coverage and filing by grid"),
        _("Grid"),
        [(pk, grids[pk].name, f) for pk, f in by_grid.items()],
        "grid",
    )
    village_table = table(
        "grid_villages",
        _("Coverage and filing by village"),
        _("Village"),
        [(v.pk, f"{v.town} {v.name}", by_village.get(v.pk, Figures())) for v in villages],
        "village",
    )

    campaigns = list(
        campaigns_base(user, filters).select_related("village").order_by("-starts_on", "-id")
    )
    # ``grid.metrics.campaign_figures``' counts (the tests hold them equal) without the drawn
    # amounts, which this table does not show and which cost a join through every loan.
    progress = {
        row["campaign_id"]: CampaignFigures(
            households=row["n"],
            pre_credited=row["pre"],
            signed=row["signed"],
            granted=row["granted"] or ZERO,
        )
        for row in CampaignHousehold.objects.filter(campaign_id__in=[c.pk for c in campaigns])
        .values("campaign_id")
        .annotate(
            n=Count("pk", filter=campaign_entry_slice("all")),
            pre=Count("pk", filter=campaign_entry_slice("pre_credited")),
            signed=Count("pk", filter=campaign_entry_slice("signed")),
            granted=Sum("credit_line__limit"),
        )
        .order_by()
    }
    phases = dict(VillageCreditCampaign.Phase.choices)
    campaign_table = Table(
        "grid_campaigns",
        _("Whole-village credit campaigns"),
        [
            ("campaign", _("Campaign")),
            ("phase", _("Phase")),
            ("households", _("Target households")),
            ("pre_credited", _("Credited")),
            ("signed", _("Signed")),
            ("coverage_rate", _("Coverage rate")),
            ("granted", _("Granted")),
        ],
        [],
    )
    for campaign in campaigns:
        figures = progress.get(campaign.pk) or CampaignFigures()

        def url(status, pk=campaign.pk):
            return drill("campaign_entries", status=status, campaign=pk)

        campaign_table.rows.append(
            [
                Cell(campaign.pk, campaign.name, reverse("grid:campaign", args=[campaign.pk])),
                Cell(campaign.phase, str(phases.get(campaign.phase, campaign.phase))),
                count_cell(figures.households, url("all")),
                count_cell(figures.pre_credited, url("pre_credited")),
                count_cell(figures.signed, url("signed")),
                Cell(
                    figures.coverage_rate,
                    rate_display(figures.coverage_rate),
                ),
                money(figures.granted),
            ]
        )
    section = Section(
        key="grid",
        title=_("Grid and whole-village credit"),
        freshness=str(LIVE_LABEL)
        if as_of is None
        else _("Household counts as of %(time)s (refreshed every 10 minutes); campaigns are live.")
        % {"time": stamp_display(as_of)},
        as_of=as_of,
        figures=[
            Figure(
                "households",
                _("Households"),
                total.households,
                f"{total.households:,}",
                drill("households", status="all"),
            ),
            Figure(
                "filed",
                _("Filed"),
                total.filed,
                f"{total.filed:,}",
                drill("households", status="filed"),
            ),
            Figure(
                "pre_credited",
                _("Credited"),
                total.pre_credited,
                f"{total.pre_credited:,}",
                drill("households", status="pre_credited"),
            ),
            Figure(
                "coverage_rate",
                _("Coverage rate"),
                total.coverage_rate,
                rate_display(total.coverage_rate),
                drill("households", status="pre_credited"),
            ),
            Figure(
                "filing_rate",
                _("Filing rate"),
                total.filing_rate,
                rate_display(total.filing_rate),
                drill("households", status="filed"),
            ),
        ],
        tables=[branch_table, grid_table, village_table, campaign_table],
        notes=[_("Coverage and filing are to date; the period does not apply to them.")],
    )
    section.charts = {
        "coverage": [
            {
                "name": row[0].display,
                "coverage": str(row[6].value or 0),
                "filing": str(row[5].value or 0),
            }
            for row in (branch_table.rows if len(branch_table.rows) > 1 else grid_table.rows)
        ]
    }
    return section


# --- service ------------------------------------------------------------------------------------


def interactions_base(user, filters: DashboardFilters):
    queryset = service_interactions_visible(user).filter(
        filters.branch_q("branch_id"),
        served_at__gte=filters.start_at,
        served_at__lt=filters.end_at,
    )
    if filters.grid:
        queryset = queryset.filter(filters.grid_customers_q("customer__"))
    return queryset


def complaints_base(user, filters: DashboardFilters):
    queryset = complaints_visible(user).filter(filters.branch_q("branch_id"))
    if filters.grid:
        queryset = queryset.filter(filters.grid_customers_q("customer__"))
    return queryset


def complaint_slice(name: str, filters: DashboardFilters, now: dt.datetime) -> Q | None:
    if name == "open":
        return Q(state__in=Complaint.OPEN_STATES)
    if name == "overdue":
        return Q(state__in=Complaint.OPEN_STATES, due_at__lt=now)
    if name == "received":
        return Q(received_at__gte=filters.start_at, received_at__lt=filters.end_at)
    if name == "resolved":
        return Q(resolved_at__gte=filters.start_at, resolved_at__lt=filters.end_at)
    return None


def interaction_slice(name: str) -> Q | None:
    if name == "all":
        return Q()
    if name == "rated":
        return Q(rating__isnull=False)
    return None


def service(user, filters: DashboardFilters, drill: Drill, now: dt.datetime) -> Section:
    """Two queries: counter interactions, complaints."""
    counter = interactions_base(user, filters).aggregate(
        n=Count("pk"), rated=Count("pk", filter=Q(rating__isnull=False)), avg=Avg("rating")
    )
    resolution = ExpressionWrapper(
        F("resolved_at") - F("received_at"), output_field=DurationField()
    )
    aggregates = {
        name: Count("pk", filter=complaint_slice(name, filters, now))
        for name in ("open", "overdue", "received", "resolved")
    }
    aggregates["resolution"] = Avg(resolution, filter=complaint_slice("resolved", filters, now))
    complaints = complaints_base(user, filters).aggregate(**aggregates)
    avg_rating = (
        None
        if counter["avg"] is None
        else Decimal(str(counter["avg"])).quantize(Decimal("0.01"), ROUND_HALF_UP)
    )
    hours = None
    if complaints["resolution"] is not None:
        hours = Decimal(complaints["resolution"].total_seconds() / 3600).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )
    return Section(
        key="service",
        title=_("Service"),
        freshness=str(LIVE_LABEL),
        figures=[
            count_figure(
                "interactions",
                _("Counter interactions"),
                counter["n"],
                drill("interactions", status="all"),
            ),
            count_figure(
                "rated",
                _("Rated by the customer"),
                counter["rated"],
                drill("interactions", status="rated"),
            ),
            Figure(
                "avg_rating",
                _("Average rating (1–5)"),
                avg_rating,
                plain_display(avg_rating),
                drill("interactions", status="rated"),
            ),
            count_figure(
                "complaints_received",
                _("Complaints received"),
                complaints["received"],
                drill("complaints", status="received"),
            ),
            count_figure(
                "complaints_open",
                _("Complaints open"),
                complaints["open"],
                drill("complaints", status="open"),
            ),
            count_figure(
                "complaints_overdue",
                _("Complaints overdue"),
                complaints["overdue"],
                drill("complaints", status="overdue"),
            ),
            count_figure(
                "complaints_resolved",
                _("Complaints resolved"),
                complaints["resolved"],
                drill("complaints", status="resolved"),
            ),
            Figure(
                "resolution_hours",
                _("Average resolution time (hours)"),
                hours,
                plain_display(hours),
                drill("complaints", status="resolved"),
            ),
        ],
        notes=[_("Open and overdue complaints are as of now; the product filter does not apply.")],
    )


# --- account managers ---------------------------------------------------------------------------


def account_managers(user, filters: DashboardFilters):
    units = filters.branch_unit_ids or tuple(visible_org_unit_ids(user))
    queryset = User.objects.filter(
        is_active=True, groups__name=Role.ACCOUNT_MANAGER, org_unit_id__in=units
    )
    if filters.grid:
        queryset = queryset.filter(pk=filters.grid.account_manager_id)
    return queryset.select_related("org_unit").order_by("username").distinct()


def new_customers_base(user, filters: DashboardFilters):
    return customers_visible(user).filter(
        created_at__gte=filters.start_at, created_at__lt=filters.end_at
    )


def am_visits_base(user, filters: DashboardFilters):
    return visits_visible(user).filter(
        visited_on__gte=filters.date_from, visited_on__lte=filters.date_to
    )


def am_entries_base(user, filters: DashboardFilters):
    """Pre-credited entries (to the end of the period) in the grids each manager owns: the
    marketing success rate is signed ÷ pre-credited, as ``grid.metrics.Performance`` has it."""
    from grid.selectors import entries_visible

    return entries_visible(user).filter(excluded_reason="", pre_credited_at__lt=filters.end_at)


def months_in(filters: DashboardFilters) -> Decimal:
    days = (filters.date_to - filters.date_from).days + 1
    return (Decimal(days) / Decimal("30.4375")).quantize(Decimal("0.01"), ROUND_HALF_UP)


def drill_kinds() -> set[str]:
    from coop.dashboard.drills import KINDS

    return set(KINDS)


def _ranking_live(user, filters: DashboardFilters, ids: list[int]) -> dict:
    """The period measures computed live: five queries."""
    from coop.dashboard import aftercare

    new_customers = dict(
        new_customers_base(user, filters)
        .filter(owner_id__in=ids)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    npl = Q(classification__in=NPL_CLASSES) & LIVE
    disbursed = loan_slice("disbursed", filters)[0]
    loans = {
        item["account_manager_id"]: item
        for item in loans_base(user, filters)
        .filter(account_manager_id__in=ids)
        .order_by()
        .values("account_manager_id")
        .annotate(
            disbursed=Count("pk", filter=disbursed),
            disbursed_sum=Coalesce(Sum("principal", filter=disbursed), ZERO),
            live_sum=Coalesce(Sum("outstanding_principal", filter=LIVE), ZERO),
            npl_sum=Coalesce(Sum("outstanding_principal", filter=npl), ZERO),
        )
    }
    marketing = {
        item["campaign__village__grid__account_manager_id"]: item
        for item in am_entries_base(user, filters)
        .filter(campaign__village__grid__account_manager_id__in=ids)
        .order_by()
        .values("campaign__village__grid__account_manager_id")
        .annotate(
            pre=Count("pk"),
            signed=Count("pk", filter=Q(signed_at__lt=filters.end_at)),
        )
    }
    return {
        "new_customers": new_customers,
        "loans": loans,
        "marketing": marketing,
        "compliance": aftercare.am_inspection_compliance(user, filters, ids),
    }


def _ranking_rollup(user, filters: DashboardFilters, ids: list[int]) -> dict:
    """The period measures from ``AccountManagerDay`` (two queries) and the managers' current
    book live (one query over the live loans). The branch filter narrows loans and inspections
    but not customers and marketing, exactly as the live measures do; scope narrows them all."""
    scope = rollup_scope_q(user, "branch_id")
    narrowed = scope & filters.branch_q("branch_id") & filters.product_q("product_id")
    days = AccountManagerDay.objects.filter(account_manager_id__in=ids).order_by()
    period = {
        row["account_manager_id"]: row
        for row in days.filter(day__gte=filters.date_from, day__lte=filters.date_to)
        .values("account_manager_id")
        .annotate(
            n_customers=Coalesce(Sum("new_customers", filter=scope), 0),
            n_loans=Coalesce(Sum("loans_disbursed", filter=narrowed), 0),
            sum_loans=Coalesce(Sum("disbursed", filter=narrowed), ZERO),
            n_on_time=Coalesce(Sum("inspections_on_time", filter=narrowed), 0),
            n_late=Coalesce(Sum("inspections_late", filter=narrowed), 0),
            n_overdue=Coalesce(Sum("inspections_overdue", filter=narrowed), 0),
        )
    }
    # Marketing counts from the beginning: the last month end before the period's end, read
    # from the running totals, plus the days after it.
    before = filters.date_to.replace(day=1) - dt.timedelta(days=1)
    marketing: dict[int, dict] = {}
    to_date = (
        AccountManagerMarketingMonth.objects.filter(
            scope, account_manager_id__in=ids, month_end=before
        )
        .values("account_manager_id")
        .annotate(pre=Sum("pre_credited"), n_signed=Sum("signed"))
        .order_by()
    )
    recent = (
        days.filter(
            scope,
            Q(pre_credited__gt=0) | Q(signed__gt=0),
            day__gt=before,
            day__lte=filters.date_to,
        )
        .values("account_manager_id")
        .annotate(pre=Sum("pre_credited"), n_signed=Sum("signed"))
    )
    for row in [*to_date, *recent]:
        found = marketing.setdefault(row["account_manager_id"], {"pre": 0, "n_signed": 0})
        found["pre"] += row["pre"]
        found["n_signed"] += row["n_signed"]
    npl = Q(classification__in=NPL_CLASSES)
    book = {
        item["account_manager_id"]: item
        for item in loans_base(user, filters)
        .filter(LIVE, account_manager_id__in=ids)
        .order_by()
        .values("account_manager_id")
        .annotate(
            live_sum=Coalesce(Sum("outstanding_principal"), ZERO),
            npl_sum=Coalesce(Sum("outstanding_principal", filter=npl), ZERO),
        )
    }
    loans = {}
    compliance = {}
    for pk in ids:
        row = period.get(pk, {})
        loans[pk] = {
            "disbursed": row.get("n_loans", 0),
            "disbursed_sum": row.get("sum_loans", ZERO),
            **book.get(pk, {}),
        }
        expected = row.get("n_on_time", 0) + row.get("n_late", 0) + row.get("n_overdue", 0)
        if expected:
            compliance[pk] = ratio(row["n_on_time"], expected)
    return {
        "new_customers": {pk: row["n_customers"] for pk, row in period.items()},
        "loans": loans,
        "marketing": {
            pk: {"pre": row["pre"], "signed": row["n_signed"]} for pk, row in marketing.items()
        },
        "compliance": compliance,
    }


def account_manager_ranking(user, filters: DashboardFilters, drill: Drill) -> Section:
    """The managers, when the rollup was refreshed, then the measures: from the rollup (four
    queries) or live before its first refresh and for a grid (six), visits and survey scores
    live (two)."""
    from coop.dashboard import aftercare

    managers = list(account_managers(user, filters))
    ids = [m.pk for m in managers]
    as_of = None
    if not filters.grid and filters.date_to <= rollups.marketing_horizon(bank_today()):
        as_of = rollups.as_of(rollups.ACCOUNT_MANAGERS).get(rollups.ACCOUNT_MANAGERS)
    found = (
        _ranking_live(user, filters, ids) if as_of is None else _ranking_rollup(user, filters, ids)
    )
    new_customers, loans = found["new_customers"], found["loans"]
    marketing, compliance = found["marketing"], found["compliance"]
    visits = dict(
        am_visits_base(user, filters)
        .filter(staff_id__in=ids)
        .order_by()
        .values("staff_id")
        .annotate(n=Count("pk"))
        .values_list("staff_id", "n")
    )
    survey_scores = aftercare.am_survey_scores(user, filters, ids)
    months = months_in(filters)
    table = Table(
        "account_managers",
        _("Account manager ranking"),
        [
            ("rank", _("Rank")),
            ("name", _("Account manager")),
            ("unit", _("Unit")),
            ("new_customers", _("New customers")),
            ("success_rate", _("Marketing success rate")),
            ("visits", _("Visits")),
            ("loans", _("Loans disbursed")),
            ("disbursed", _("Amount disbursed")),
            ("npl_ratio", _("NPL ratio")),
            ("inspection_compliance", _("Inspections on time")),
            ("survey_score", _("Survey satisfaction (1–5)")),
            ("score", _("Score")),
            ("grade", _("Grade")),
        ],
        [],
    )
    rows = []
    for manager in managers:
        loan = loans.get(manager.pk, {})
        market = marketing.get(manager.pk, {})
        success = ratio(market.get("signed", 0), market.get("pre", 0))
        npl_ratio = ratio(loan.get("npl_sum", ZERO), loan.get("live_sum", ZERO))
        measures = {
            "new_customers": new_customers.get(manager.pk, 0),
            "success_rate": success,
            "visits": visits.get(manager.pk, 0),
            "loans": loan.get("disbursed", 0),
            "npl": npl_ratio,
            "inspection_compliance": compliance.get(manager.pk),
            "survey_score": survey_scores.get(manager.pk),
        }
        result = grade(measures, months=months)
        rows.append((manager, measures, loan, result))
    rows.sort(key=lambda r: (-(r[3].score or Decimal(-1)), r[0].username))
    for rank, (manager, measures, loan, result) in enumerate(rows, start=1):
        table.rows.append(
            [
                Cell(rank, str(rank)),
                Cell(manager.pk, manager.display_name),
                Cell(manager.org_unit_id, manager.org_unit.name),
                Cell(
                    measures["new_customers"],
                    f"{measures['new_customers']:,}",
                    drill("customers", owner=manager.pk),
                ),
                Cell(
                    measures["success_rate"],
                    percent_display(measures["success_rate"]),
                    drill("campaign_entries", status="signed", am=manager.pk),
                ),
                count_cell(measures["visits"], drill("visits", staff=manager.pk)),
                count_cell(measures["loans"], drill("loans", slice="disbursed", am=manager.pk)),
                Cell(
                    loan.get("disbursed_sum", ZERO),
                    format_yuan(loan.get("disbursed_sum", ZERO)),
                    drill("loans", slice="disbursed", am=manager.pk),
                ),
                Cell(
                    measures["npl"],
                    percent_display(measures["npl"]),
                    drill("loans", slice="npl", am=manager.pk),
                ),
                Cell(
                    measures["inspection_compliance"],
                    percent_display(measures["inspection_compliance"]),
                    drill("inspections", status="on_time", am=manager.pk)
                    if "inspections" in drill_kinds()
                    else "",
                ),
                Cell(measures["survey_score"], plain_display(measures["survey_score"])),
                Cell(result.score, plain_display(result.score)),
                Cell(result.grade, result.grade or "–"),
            ]
        )
    return Section(
        key="people",
        title=_("Account managers"),
        freshness=str(LIVE_LABEL)
        if as_of is None
        else _(
            "New customers, marketing, loans disbursed and inspections as of %(time)s "
            "(refreshed every 10 minutes); visits, NPL and survey scores are live."
        )
        % {"time": stamp_display(as_of)},
        as_of=as_of,
        tables=[table],
        notes=[
            _(
                "The grade weighs the measures by the bank's configured weights and bands "
                "(settings COOP_DASHBOARD_GRADING)."
            )
        ],
    )


# --- the whole dashboard --------------------------------------------------------------------------

SECTIONS = ("loans", "approval", "grid", "postloan", "service", "surveys", "people")


def build_sections(
    user, filters: DashboardFilters, *, only: tuple[str, ...] = SECTIONS, now=None
) -> list[Section]:
    """The sections the user may see, in page order; ``only`` limits the work to some of them
    (exports and the API's ``sections`` parameter)."""
    now = now or timezone.now()
    drill = Drill(filters)
    builders: dict[str, Callable[[], Section]] = {
        "loans": lambda: loan_book(user, filters, drill),
        "approval": lambda: approval(user, filters, drill, now),
        "grid": lambda: grid_section(user, filters, drill),
        "service": lambda: service(user, filters, drill, now),
        "people": lambda: account_manager_ranking(user, filters, drill),
    }
    from coop.dashboard import aftercare

    builders.update(aftercare.builders(user, filters, drill, now))
    return [builders[key]() for key in SECTIONS if key in only and key in builders]
