"""The lists behind the dashboard's figures.

A drill-down is the section's scoped base queryset filtered by the figure's slice — the very Q
the section aggregated with — so its count (and sum) is the figure. Unknown kinds, slices or
parameters answer 404; rows outside the user's scope cannot appear, because every base starts
from the owning app's scoped selector.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.dashboard import figures as F
from coop.dashboard.filters import DashboardFilters
from coop.money import format_yuan
from customers.models import Complaint, Visit
from grid.models import CampaignHousehold
from loans.models import Classification, Loan
from risk.models import WORKING_STAGES, ApprovalCase, Stage


@dataclass
class DrillList:
    title: str
    queryset: QuerySet
    columns: list[str]
    row: Callable[[object], list[str]]
    link: Callable[[object], str] | None = None
    sum_field: str | None = None
    sum_label: str = ""


def int_param(params, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Http404 from None


def stamp(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _loans(user, filters: DashboardFilters, params, now) -> DrillList:
    chosen = F.loan_slice(params.get("slice", ""), filters)
    if chosen is None:
        raise Http404
    condition, summed = chosen
    queryset = F.loans_base(user, filters).filter(condition)
    if (am := int_param(params, "am")) is not None:
        queryset = queryset.filter(account_manager_id=am)
    if (product := int_param(params, "row_product")) is not None:
        tier = params.get("tier", "-")
        queryset = F.with_tier(queryset.filter(product_id=product)).filter(
            tier="" if tier == "-" else tier
        )
    classes = dict(Classification.choices)
    states = dict(Loan.State.choices)
    return DrillList(
        title=_("Loans"),
        queryset=queryset.select_related(
            "customer", "product", "branch", "account_manager"
        ).order_by("-days_past_due", "-outstanding_principal", "pk"),
        columns=[
            _("Loan number"),
            _("Customer"),
            _("Branch"),
            _("Product"),
            _("Account manager"),
            _("Principal"),
            _("Outstanding"),
            _("Days past due"),
            _("Classification"),
            _("State"),
            _("Disbursed on"),
        ],
        row=lambda loan: [
            loan.number,
            loan.customer.name,
            loan.branch.name,
            loan.product.name,
            loan.account_manager.display_name,
            format_yuan(loan.principal),
            format_yuan(loan.outstanding_principal),
            str(loan.days_past_due),
            str(classes.get(loan.classification, loan.classification)),
            str(states.get(loan.state, loan.state)),
            loan.disbursed_on.isoformat() if loan.disbursed_on else "",
        ],
        link=lambda loan: reverse("loans:loan_detail", args=[loan.pk]),
        sum_field=summed,
        sum_label=_("Principal") if summed == "principal" else _("Outstanding"),
    )


def _cases(user, filters, params, now) -> DrillList:
    condition = F.case_slice(params.get("slice", ""), filters, now)
    if condition is None:
        raise Http404
    queryset = F.cases_base(user, filters).filter(condition)
    if route := params.get("route"):
        queryset = queryset.filter(route=route)
    if stage := params.get("stage"):
        if stage not in WORKING_STAGES:
            raise Http404
        queryset = queryset.filter(state=stage)
    routes = dict(ApprovalCase._meta.get_field("route").choices)
    return DrillList(
        title=_("Approval cases"),
        queryset=queryset.select_related("application", "customer", "branch").order_by(
            "opened_at", "pk"
        ),
        columns=[
            _("Application"),
            _("Customer"),
            _("Branch"),
            _("Route"),
            _("Stage"),
            _("Amount"),
            _("Opened"),
            _("Stage due"),
        ],
        row=lambda case: [
            case.application.number,
            case.customer.name,
            case.branch.name,
            str(routes.get(case.route, case.route)),
            str(Stage(case.state).label),
            format_yuan(case.amount),
            stamp(case.opened_at),
            stamp(case.stage_due_at),
        ],
        link=lambda case: reverse("risk:case", args=[case.pk]),
        sum_field="amount",
        sum_label=_("Amount"),
    )


def _stage_visits(user, filters, params, now) -> DrillList:
    stage = params.get("stage", "")
    if stage not in WORKING_STAGES:
        raise Http404
    queryset = F.stage_visits_base(user, filters).filter(from_state=stage)
    return DrillList(
        title=_("Completed stays in a stage"),
        queryset=queryset.select_related("case", "case__application", "case__customer").order_by(
            "-seconds_in_stage", "pk"
        ),
        columns=[
            _("Application"),
            _("Customer"),
            _("Stage"),
            _("Left by"),
            _("Hours in stage"),
            _("Left at"),
        ],
        row=lambda log: [
            log.case.application.number,
            log.case.customer.name,
            str(Stage(log.from_state).label),
            log.transition,
            f"{Decimal(log.seconds_in_stage) / 3600:.1f}",
            stamp(log.created_at),
        ],
        link=lambda log: reverse("risk:case", args=[log.case_id]),
    )


HOUSEHOLD_LEVELS = {
    "village": "village_id",
    "grid": "village__grid_id",
    "branch": "village__grid__branch_id",
}


def _households(user, filters, params, now) -> DrillList:
    condition = F.household_slice(params.get("status", ""))
    if condition is None:
        raise Http404
    queryset = F.households_base(user, filters).filter(condition)
    level = params.get("level")
    if level:
        if level not in HOUSEHOLD_LEVELS:
            raise Http404
        unit = int_param(params, "unit")
        if unit is None:
            raise Http404
        queryset = queryset.filter(**{HOUSEHOLD_LEVELS[level]: unit})
    return DrillList(
        title=_("Households"),
        queryset=queryset.select_related("village", "village__grid").order_by(
            "village__name", "head_name", "pk"
        ),
        columns=[_("Head of household"), _("Village"), _("Grid"), _("File completeness")],
        row=lambda h: [
            h.head_name,
            f"{h.village.town} {h.village.name}",
            h.village.grid.name,
            f"{h.completeness}%",
        ],
        link=lambda h: reverse("grid:household", args=[h.pk]),
    )


def _campaign_entries(user, filters, params, now) -> DrillList:
    status = params.get("status", "")
    if (am := int_param(params, "am")) is not None:
        if status not in ("all", "signed"):
            raise Http404
        queryset = F.am_entries_base(user, filters).filter(
            campaign__village__grid__account_manager_id=am
        )
        if status == "signed":
            queryset = queryset.filter(signed_at__lt=filters.end_at)
    else:
        condition = F.campaign_entry_slice(status)
        campaign = int_param(params, "campaign")
        if condition is None or campaign is None:
            raise Http404
        # Entries of a campaign on the dashboard (in scope and in the period), as
        # ``grid.metrics.campaign_figures`` counts them.
        queryset = CampaignHousehold.objects.filter(
            campaign__in=F.campaigns_base(user, filters).filter(pk=campaign).values("pk")
        ).filter(condition)
    signing = dict(CampaignHousehold.Signing.choices)
    return DrillList(
        title=_("Campaign households"),
        queryset=queryset.select_related("household", "campaign").order_by(
            "household__head_name", "pk"
        ),
        columns=[_("Head of household"), _("Campaign"), _("Signing"), _("Pre-credit limit")],
        row=lambda e: [
            e.household.head_name,
            e.campaign.name,
            str(signing.get(e.signing, e.signing)),
            format_yuan(e.limit) if e.limit is not None else "",
        ],
        link=lambda e: reverse("grid:household", args=[e.household_id]),
        sum_field="limit",
        sum_label=_("Pre-credit limit"),
    )


def _interactions(user, filters, params, now) -> DrillList:
    condition = F.interaction_slice(params.get("status", ""))
    if condition is None:
        raise Http404
    return DrillList(
        title=_("Counter services"),
        queryset=F.interactions_base(user, filters)
        .filter(condition)
        .select_related("branch", "outlet", "teller")
        .order_by("-served_at", "-pk"),
        columns=[_("Served at"), _("Outlet"), _("Teller"), _("Business"), _("Rating")],
        row=lambda s: [
            stamp(s.served_at),
            s.outlet.name,
            s.teller.display_name,
            s.get_business_type_display(),
            "" if s.rating is None else str(s.rating),
        ],
    )


def _complaints(user, filters, params, now) -> DrillList:
    condition = F.complaint_slice(params.get("status", ""), filters, now)
    if condition is None:
        raise Http404
    states = dict(Complaint.State.choices)
    return DrillList(
        title=_("Complaints and suggestions"),
        queryset=F.complaints_base(user, filters)
        .filter(condition)
        .select_related("branch")
        .order_by("due_at", "pk"),
        columns=[_("Subject"), _("Branch"), _("State"), _("Received"), _("Due"), _("Resolved")],
        row=lambda c: [
            c.subject,
            c.branch.name,
            str(states.get(c.state, c.state)),
            stamp(c.received_at),
            stamp(c.due_at),
            stamp(c.resolved_at),
        ],
        link=lambda c: reverse("customers:complaint_detail", args=[c.pk]),
    )


def _customers(user, filters, params, now) -> DrillList:
    owner = int_param(params, "owner")
    if owner is None:
        raise Http404
    return DrillList(
        title=_("New customers"),
        queryset=F.new_customers_base(user, filters)
        .filter(owner_id=owner)
        .select_related("branch")
        .order_by("-created_at", "-pk"),
        columns=[_("Customer"), _("Branch"), _("Created")],
        row=lambda c: [c.name, c.branch.name, stamp(c.created_at)],
        link=lambda c: reverse("customers:detail", args=[c.pk]),
    )


def _visits(user, filters, params, now) -> DrillList:
    staff = int_param(params, "staff")
    if staff is None:
        raise Http404
    channels = dict(Visit.Channel.choices)
    outcomes = dict(Visit.Outcome.choices)
    return DrillList(
        title=_("Visits"),
        queryset=F.am_visits_base(user, filters).filter(staff_id=staff),
        columns=[_("Date"), _("Customer"), _("Channel"), _("Outcome")],
        row=lambda v: [
            v.visited_on.isoformat(),
            v.customer.name,
            str(channels.get(v.channel, v.channel)),
            str(outcomes.get(v.outcome, v.outcome)),
        ],
        link=lambda v: reverse("customers:detail", args=[v.customer_id]),
    )


KINDS: dict[str, Callable] = {
    "loans": _loans,
    "cases": _cases,
    "stage_visits": _stage_visits,
    "households": _households,
    "campaign_entries": _campaign_entries,
    "interactions": _interactions,
    "complaints": _complaints,
    "customers": _customers,
    "visits": _visits,
}


def register(kind: str, builder: Callable) -> None:
    """Sections built from optional apps (post-loan, surveys) add their lists here."""
    KINDS[kind] = builder


def drill_list(user, filters: DashboardFilters, kind: str, params, now=None) -> DrillList:
    from coop.dashboard import aftercare  # noqa: F401 — registers the optional apps' lists

    builder = KINDS.get(kind)
    if builder is None:
        raise Http404
    return builder(user, filters, params, now or timezone.now())


def totals(drill: DrillList) -> dict:
    """Count (and sum) of the whole list: one query."""
    aggregates = {"n": Count("pk")}
    if drill.sum_field:
        aggregates["total"] = Coalesce(Sum(drill.sum_field), Decimal("0.00"))
    return drill.queryset.order_by().aggregate(**aggregates)
