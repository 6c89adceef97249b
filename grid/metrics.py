"""Figures of grids and campaigns, the day-by-day plan's progress, account manager performance
and due follow-up contacts. Set-based SQL aggregates: a fixed number of queries per call,
whatever the number of households.

Definitions (seed 003's reported figures):
- *filed*: the household file is complete (score 100);
- *evaluated*: all three back-to-back evaluations are in, in some campaign;
- *pre-credited* (= credited, 授信): a pre-credit limit above zero was granted;
- *signed*: the pre-credit was signed and the credit line exists;
- coverage rate = pre-credited ÷ households (seed: 72.1% in 洪洋村), filing rate = filed ÷
  households (seed: 100%); granted = the limits of the signed lines; drawn = principal of the
  loans drawn on those lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from coop.roles import Role, has_role
from customers.models import Customer, Visit
from grid.models import (
    CampaignDayPlan,
    CampaignHousehold,
    Grid,
    Household,
    VillageCreditCampaign,
)
from loans.models import Loan

ZERO = Decimal("0.00")


def percent(fraction: Decimal) -> Decimal:
    """0.200 → 20, 0.125 → 12.5: a fraction shown as a percentage."""
    value = (fraction * 100).quantize(Decimal("0.1"))
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage to one decimal (72.1), or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Figures:
    households: int = 0
    filed: int = 0
    evaluated: int = 0
    pre_credited: int = 0
    signed: int = 0
    granted: Decimal = ZERO
    drawn: Decimal = ZERO

    @property
    def coverage_rate(self) -> Decimal | None:
        return rate(self.pre_credited, self.households)

    @property
    def filing_rate(self) -> Decimal | None:
        return rate(self.filed, self.households)

    def add(self, other: Figures) -> None:
        for name in ("households", "filed", "evaluated", "pre_credited", "signed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.granted += other.granted
        self.drawn += other.drawn

    def as_dict(self) -> dict:
        return {
            "households": self.households,
            "filed": self.filed,
            "evaluated": self.evaluated,
            "pre_credited": self.pre_credited,
            "signed": self.signed,
            "granted": self.granted,
            "drawn": self.drawn,
            "coverage_rate": self.coverage_rate,
            "filing_rate": self.filing_rate,
        }


# Household → the key a level groups by.
LEVELS = {
    "village": "village_id",
    "grid": "village__grid_id",
    "branch": "village__grid__branch_id",
}


def household_figures(households: QuerySet[Household], level: str) -> dict[int, Figures]:
    """Figures of ``households`` grouped by village, grid or branch: three queries.

    A household counts once however many campaigns it was in. The campaign figures come from
    one grouped pass over the entries (distinct households per group) rather than three
    correlated EXISTS per household, which cost a probe of the entries per household and
    figure at county scale.
    """
    key = LEVELS[level]
    result: dict[int, Figures] = {
        row[key]: Figures(households=row["n"], filed=row["n_filed"])
        for row in households.order_by()
        .values(key)
        .annotate(n=Count("pk"), n_filed=Count("pk", filter=Q(completeness__gte=100)))
    }
    entries = CampaignHousehold.objects.filter(household__in=households.order_by().values("pk"))
    for row in (
        entries.order_by()
        .values(f"household__{key}")
        .annotate(
            n_evaluated=Count("household_id", distinct=True, filter=Q(evaluated_at__isnull=False)),
            n_pre=Count("household_id", distinct=True, filter=Q(pre_credited_at__isnull=False)),
            n_signed=Count(
                "household_id",
                distinct=True,
                filter=Q(signing=CampaignHousehold.Signing.SIGNED),
            ),
            # The limits of the entries holding a line (one line per entry); the rest add nothing.
            granted=Sum("credit_line__limit"),
        )
    ):
        figures = result.setdefault(row[f"household__{key}"], Figures())
        figures.evaluated = row["n_evaluated"]
        figures.pre_credited = row["n_pre"]
        figures.signed = row["n_signed"]
        figures.granted = row["granted"] or ZERO
    # Straight joins from the loans to their entry's household (one entry per line).
    drawn = Loan.objects.filter(
        credit_line__village_campaign_entry__household__in=households.order_by().values("pk")
    )
    for row in (
        drawn.order_by()
        .values(f"credit_line__village_campaign_entry__household__{key}")
        .annotate(total=Sum("principal"))
    ):
        group = row[f"credit_line__village_campaign_entry__household__{key}"]
        result.setdefault(group, Figures()).drawn = row["total"] or ZERO
    return result


def total_of(figures: dict[int, Figures]) -> Figures:
    total = Figures()
    for item in figures.values():
        total.add(item)
    return total


@dataclass
class CampaignFigures(Figures):
    excluded: int = 0
    to_decide: int = 0
    refused: int = 0
    away: int = 0
    pending_signing: int = 0


def campaign_figures(campaigns: QuerySet[VillageCreditCampaign]) -> dict[int, CampaignFigures]:
    """Figures per campaign over its target households (exclusions counted apart): two queries.

    Coverage and filing are taken over the households the campaign targeted.
    """
    Signing = CampaignHousehold.Signing
    entries = CampaignHousehold.objects.filter(campaign__in=campaigns.order_by().values("pk"))
    rows = (
        entries.order_by()
        .values("campaign_id")
        .annotate(
            n=Count("pk"),
            n_filed=Count("pk", filter=Q(household__completeness__gte=100)),
            n_excluded=Count("pk", filter=~Q(excluded_reason="")),
            n_evaluated=Count("pk", filter=Q(excluded_reason="", evaluated_at__isnull=False)),
            n_to_decide=Count(
                "pk",
                filter=Q(
                    excluded_reason="",
                    outcome=CampaignHousehold.Outcome.COMPROMISE,
                    decided_at__isnull=True,
                ),
            ),
            n_pre=Count("pk", filter=Q(excluded_reason="", pre_credited_at__isnull=False)),
            n_signed=Count("pk", filter=Q(signing=Signing.SIGNED)),
            n_refused=Count("pk", filter=Q(excluded_reason="", signing=Signing.REFUSED)),
            n_away=Count("pk", filter=Q(excluded_reason="", signing=Signing.AWAY)),
            n_pending=Count(
                "pk",
                filter=Q(
                    excluded_reason="", pre_credited_at__isnull=False, signing=Signing.PENDING
                ),
            ),
            granted=Sum("credit_line__limit"),
        )
    )
    result = {
        row["campaign_id"]: CampaignFigures(
            households=row["n"],
            filed=row["n_filed"],
            excluded=row["n_excluded"],
            evaluated=row["n_evaluated"],
            to_decide=row["n_to_decide"],
            pre_credited=row["n_pre"],
            signed=row["n_signed"],
            refused=row["n_refused"],
            away=row["n_away"],
            pending_signing=row["n_pending"],
            granted=row["granted"] or ZERO,
        )
        for row in rows
    }
    drawn = (
        Loan.objects.filter(
            credit_line__village_campaign_entry__campaign__in=campaigns.values("pk")
        )
        .order_by()
        .values("credit_line__village_campaign_entry__campaign_id")
        .annotate(total=Sum("principal"))
    )
    for row in drawn:
        key = row["credit_line__village_campaign_entry__campaign_id"]
        result.setdefault(key, CampaignFigures()).drawn = row["total"] or ZERO
    return result


# --- the day-by-day plan ----------------------------------------------------------------------


@dataclass
class Progress:
    label: str
    start: date
    planned_evaluations: int = 0
    done_evaluations: int = 0
    planned_signings: int = 0
    done_signings: int = 0
    days: list = field(default_factory=list)

    @property
    def evaluation_rate(self) -> Decimal | None:
        return rate(self.done_evaluations, self.planned_evaluations)

    @property
    def signing_rate(self) -> Decimal | None:
        return rate(self.done_signings, self.planned_signings)


def plan_progress(campaign: VillageCreditCampaign) -> dict[str, list[Progress]]:
    """Plan against what was done, per day, ISO week and month (按日计划、每周每月督促).

    Evaluations count on the day the third evaluation came in; signings on the day signed.
    Three queries.
    """
    tz = timezone.get_current_timezone()
    plans = {p.day: p for p in CampaignDayPlan.objects.filter(campaign=campaign)}
    entries = CampaignHousehold.objects.filter(campaign=campaign)
    evaluated = dict(
        entries.filter(evaluated_at__isnull=False)
        .annotate(day=TruncDate("evaluated_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    signed = dict(
        entries.filter(signed_at__isnull=False)
        .annotate(day=TruncDate("signed_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    days_seen = sorted(set(plans) | set(evaluated) | set(signed))
    days: list[Progress] = []
    for day in days_seen:
        plan = plans.get(day)
        days.append(
            Progress(
                label=plan.task if plan else "",
                start=day,
                planned_evaluations=plan.planned_evaluations if plan else 0,
                done_evaluations=evaluated.get(day, 0),
                planned_signings=plan.planned_signings if plan else 0,
                done_signings=signed.get(day, 0),
            )
        )

    def roll_up(key) -> list[Progress]:
        groups: dict[date, Progress] = {}
        for item in days:
            start, label = key(item.start)
            group = groups.setdefault(start, Progress(label=label, start=start))
            group.planned_evaluations += item.planned_evaluations
            group.done_evaluations += item.done_evaluations
            group.planned_signings += item.planned_signings
            group.done_signings += item.done_signings
            group.days.append(item)
        return [groups[k] for k in sorted(groups)]

    def week(day: date) -> tuple[date, str]:
        monday = day - timedelta(days=day.weekday())
        iso = monday.isocalendar()
        return monday, f"{iso.year}-W{iso.week:02d}"

    def month(day: date) -> tuple[date, str]:
        return day.replace(day=1), f"{day:%Y-%m}"

    return {"days": days, "weeks": roll_up(week), "months": roll_up(month)}


# --- account manager performance (seed 004: 日管理、月督促、季考核) -----------------------------


PERIODS = ("day", "month", "quarter")


def period_range(period: str, on: date) -> tuple[date, date]:
    """[first day, day after the last) of the day, month or quarter containing ``on``."""
    if period == "day":
        return on, on + timedelta(days=1)
    if period == "month":
        start = on.replace(day=1)
    elif period == "quarter":
        start = date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
    else:
        raise ValueError(period)
    months = 1 if period == "month" else 3
    year, month = start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1
    return start, date(year, month, 1)


@dataclass
class Performance:
    grid: Grid
    new_customers: int = 0
    visits: int = 0
    pre_credited_in_period: int = 0
    signed_in_period: int = 0
    pre_credited_to_date: int = 0
    signed_to_date: int = 0

    @property
    def success_rate(self) -> Decimal | None:
        """Marketing success rate: signed ÷ pre-credited, to the end of the period."""
        return rate(self.signed_to_date, self.pre_credited_to_date)


def grid_performance(grids: QuerySet[Grid], period: str, on: date) -> list[Performance]:
    """Per grid: its account manager's new customers and visits in the period, and the grid's
    pre-credits and signings in the period and to date. Four queries."""
    start, end = period_range(period, on)
    tz = timezone.get_current_timezone()
    start_at = datetime.combine(start, time.min, tzinfo=tz)
    end_at = datetime.combine(end, time.min, tzinfo=tz)
    grid_list = list(grids.select_related("account_manager", "branch").order_by("code"))
    managers = {g.account_manager_id for g in grid_list}
    new_customers = dict(
        Customer.objects.filter(
            owner_id__in=managers, created_at__gte=start_at, created_at__lt=end_at
        )
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    visits = dict(
        Visit.objects.filter(staff_id__in=managers, visited_on__gte=start, visited_on__lt=end)
        .order_by()
        .values("staff_id")
        .annotate(n=Count("pk"))
        .values_list("staff_id", "n")
    )
    entries = (
        CampaignHousehold.objects.filter(
            campaign__village__grid__in=[g.pk for g in grid_list], excluded_reason=""
        )
        .order_by()
        .values("campaign__village__grid_id")
        .annotate(
            pre_in=Count("pk", filter=Q(pre_credited_at__gte=start_at, pre_credited_at__lt=end_at)),
            signed_in=Count("pk", filter=Q(signed_at__gte=start_at, signed_at__lt=end_at)),
            pre_to_date=Count("pk", filter=Q(pre_credited_at__lt=end_at)),
            signed_to_date=Count("pk", filter=Q(signed_at__lt=end_at)),
        )
    )
    by_grid = {row["campaign__village__grid_id"]: row for row in entries}
    result = []
    for grid in grid_list:
        row = by_grid.get(grid.pk, {})
        result.append(
            Performance(
                grid=grid,
                new_customers=new_customers.get(grid.account_manager_id, 0),
                visits=visits.get(grid.account_manager_id, 0),
                pre_credited_in_period=row.get("pre_in", 0),
                signed_in_period=row.get("signed_in", 0),
                pre_credited_to_date=row.get("pre_to_date", 0),
                signed_to_date=row.get("signed_to_date", 0),
            )
        )
    return result


# --- follow-up marketing (seed 003) -----------------------------------------------------------


FOLLOW_UP_KINDS = {
    "no_card": "monthly",
    "unused": "quarterly",
    "away": "on the agreed day",
}


def followups_due(user, on: date, grids: QuerySet[Grid] | None = None) -> QuerySet:
    """Open follow-up contacts in ``grids`` (default: the user's own grids), most urgent first.

    The rows are materialized by the beat sweep ``grid.followups_plan`` (grid/services/
    followups.py holds the seed rules). A contact recorded since the sweep already hides its
    row here, before the next sweep closes it. One query; each row carries ``last_contact``.
    """
    from grid.models import HouseholdFollowUp
    from grid.selectors import own_grids

    if grids is None:
        grids = own_grids(user) if has_role(user, Role.ACCOUNT_MANAGER) else Grid.objects.none()
    last_visit = (
        Visit.objects.filter(customer_id=OuterRef("household__head_id"))
        .order_by("-visited_on", "-id")
        .values("visited_on")[:1]
    )
    return (
        HouseholdFollowUp.objects.filter(
            status=HouseholdFollowUp.Status.OPEN,
            household__village__grid__in=grids.values("pk"),
            period_start__lte=on,
        )
        .annotate(last_contact=Subquery(last_visit))
        .filter(Q(last_contact__isnull=True) | Q(last_contact__lt=F("period_start")))
        .select_related("household", "household__village", "entry")
        .order_by("due_by", "household__village__name", "household__head_name", "pk")
    )


def mask_name(name: str) -> str:
    """张*国, 李*, 欧**明: first and last character kept, for the public notice."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
