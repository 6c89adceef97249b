"""Reads of the approval workflow, scoped like the customer files: a case is visible to whoever
sees its customer (``customer_scope_q``); anything else is 404 in pages and API and never in a
list. Queues, the trail and the timing statistics take a fixed number of queries.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.models import User
from coop.roles import Role, user_roles
from loans.models import RiskRoute
from risk.models import (
    DECISION_STAGES,
    ROUTE_STAGES,
    TERMINAL_STATES,
    WORKING_STAGES,
    ApprovalCase,
    ApprovalLog,
    CommitteeMeeting,
    CommitteeVote,
    InvestigationSignature,
    Stage,
    StageSLA,
)
from risk.policy import authorities, case_scope_q, individual_limit

# --- cases ------------------------------------------------------------------------------------


def cases_visible(user) -> QuerySet[ApprovalCase]:
    scope = case_scope_q(user)
    if scope is None:
        return ApprovalCase.objects.none()
    return ApprovalCase.objects.filter(scope)


def _with_related(queryset: QuerySet[ApprovalCase]) -> QuerySet[ApprovalCase]:
    return queryset.select_related(
        "application",
        "application__product",
        "application__prepared_by",
        "customer",
        "customer__owner",
        "customer__b_manager",
        "branch",
        "rule",
        "ruleset",
        "opened_by",
    )


def case_get(*, user, pk) -> ApprovalCase:
    """The case, or 404 when it does not exist or its customer is out of the user's scope."""
    try:
        return _with_related(cases_visible(user)).get(pk=pk)
    except (ApprovalCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def waiting_for_q(user) -> Q | None:
    """Cases whose current stage ``user`` may complete now: their role and level work the stage,
    the amount is within their limit at a decision stage, they did not complete the previous
    stage and did not prepare the application; account managers for their own customers;
    committee members for meetings they have not voted in, and for cases above every single
    officer's limit that wait for a meeting."""
    parts: list[Q] = []
    open_meeting = Exists(
        CommitteeMeeting.objects.filter(case=OuterRef("pk"), status=CommitteeMeeting.Status.OPEN)
    )
    not_previous = ~Q(previous_stage_by__contains=[user.pk])
    for row in authorities(user):
        if row.role == Role.LOAN_COMMITTEE:
            continue
        if row.stage == Stage.APPLICATION:
            parts.append(
                Q(state=Stage.APPLICATION)
                & (Q(customer__owner=user) | Q(application__prepared_by=user))
            )
        elif row.stage == Stage.INVESTIGATION:
            signed = InvestigationSignature.objects.filter(
                case=OuterRef("pk"), round=OuterRef("investigation_round"), signer=user
            )
            parts.append(
                Q(state=Stage.INVESTIGATION)
                & (Q(customer__owner=user) | Q(customer__b_manager=user))
                & ~Exists(signed)
                & not_previous
            )
        else:
            part = Q(state=row.stage) & not_previous & ~Q(application__prepared_by=user)
            if row.stage in DECISION_STAGES:
                part &= ~open_meeting
                if row.max_amount is not None:
                    part &= Q(amount__lte=row.max_amount)
            parts.append(part)
    if Role.LOAN_COMMITTEE in user_roles(user) and user.has_perm("risk.vote_committee"):
        voted = CommitteeVote.objects.filter(
            meeting__case=OuterRef("pk"),
            meeting__status=CommitteeMeeting.Status.OPEN,
            member=user,
        )
        parts.append(open_meeting & ~Exists(voted) & ~Q(application__prepared_by=user))
        for stage in DECISION_STAGES:
            limit = individual_limit(stage)
            if limit is not None:
                parts.append(Q(state=stage, amount__gt=limit) & ~open_meeting)
    if not parts:
        return None
    return reduce(operator.or_, parts)


QUEUE_VIEWS = {
    "waiting": _("Waiting for me"),
    "open": _("All open cases"),
    "closed": _("Closed cases"),
}


def case_list(
    *, user, view: str = "waiting", state: str = "", route: str = "", query: str = ""
) -> QuerySet[ApprovalCase]:
    """``view``: waiting (for this user, oldest in stage first), open, closed, or all."""
    queryset = cases_visible(user)
    if view == "closed":
        queryset = queryset.filter(state__in=TERMINAL_STATES)
    elif view != "all":
        queryset = queryset.filter(state__in=WORKING_STAGES)
    if view == "waiting":
        waiting = waiting_for_q(user)
        if waiting is None:
            return ApprovalCase.objects.none()
        queryset = queryset.filter(waiting)
    if state:
        queryset = queryset.filter(state=state)
    if route:
        queryset = queryset.filter(route=route)
    if query:
        queryset = queryset.filter(
            Q(application__number__icontains=query) | Q(customer__name__icontains=query)
        )
    if view == "closed":
        ordering = ["-closed_at", "-id"]
    elif view == "all":
        ordering = ["-opened_at", "-id"]
    else:
        ordering = ["stage_entered_at", "id"]
    return _with_related(queryset).order_by(*ordering)


def sla_targets() -> dict[str, int]:
    return dict(StageSLA.objects.values_list("stage", "target_hours"))


@dataclass(frozen=True)
class QueueRow:
    case: ApprovalCase
    seconds_in_stage: int
    target_hours: int | None

    @property
    def overdue(self) -> bool:
        return (
            not self.case.is_closed
            and self.target_hours is not None
            and self.seconds_in_stage > self.target_hours * 3600
        )

    @property
    def share_of_target(self) -> int | None:
        if self.target_hours is None:
            return None
        return round(100 * self.seconds_in_stage / (self.target_hours * 3600))


def queue_rows(cases, *, targets: dict[str, int], now: datetime | None = None) -> list[QueueRow]:
    now = now or timezone.now()
    rows = []
    for case in cases:
        end = case.closed_at or now
        rows.append(
            QueueRow(
                case=case,
                seconds_in_stage=max(0, int((end - case.stage_entered_at).total_seconds())),
                target_hours=None if case.is_closed else targets.get(case.state),
            )
        )
    return rows


def case_trail(case: ApprovalCase) -> list[ApprovalLog]:
    return list(case.log.select_related("actor").order_by("created_at", "id"))


def case_signatures(case: ApprovalCase) -> list[InvestigationSignature]:
    return list(case.signatures.select_related("signer").order_by("round", "signed_at", "id"))


@dataclass(frozen=True)
class RouteStep:
    stage: str
    label: str
    status: str  # done / current / stopped / todo


def route_steps(case: ApprovalCase, trail: list[ApprovalLog]) -> list[RouteStep]:
    """The route as a row of steps for the diagram, ending with disbursement."""
    stages = list(ROUTE_STAGES[case.route])
    steps: list[RouteStep] = []
    if case.state in WORKING_STAGES:
        current = stages.index(case.state)
        for i, stage in enumerate(stages):
            status = "done" if i < current else "current" if i == current else "todo"
            steps.append(RouteStep(stage, Stage(stage).label, status))
        steps.append(RouteStep("disbursement", str(_("Disbursement")), "todo"))
        return steps
    if case.state == Stage.APPROVED:
        steps = [RouteStep(s, Stage(s).label, "done") for s in stages]
        steps.append(RouteStep("disbursement", str(_("Disbursement")), "current"))
        return steps
    stopped_at = trail[-1].from_state if trail else stages[0]
    stop = stages.index(stopped_at) if stopped_at in stages else 0
    for i, stage in enumerate(stages):
        status = "done" if i < stop else "stopped" if i == stop else "todo"
        steps.append(RouteStep(stage, Stage(stage).label, status))
    steps.append(RouteStep("disbursement", str(_("Disbursement")), "todo"))
    return steps


# --- committee --------------------------------------------------------------------------------


def meetings_visible(user) -> QuerySet[CommitteeMeeting]:
    scope = case_scope_q(user, "case__")
    if scope is None:
        return CommitteeMeeting.objects.none()
    return CommitteeMeeting.objects.filter(scope)


def meeting_list(*, user, status: str = "") -> QuerySet[CommitteeMeeting]:
    queryset = meetings_visible(user).select_related(
        "case", "case__application", "case__customer", "case__branch", "convened_by"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.annotate(vote_count=Count("votes")).order_by("-convened_at", "-id")


def meeting_get(*, user, pk) -> CommitteeMeeting:
    try:
        return (
            meetings_visible(user)
            .select_related(
                "case",
                "case__application",
                "case__application__product",
                "case__customer",
                "case__branch",
                "convened_by",
                "closed_by",
            )
            .prefetch_related(
                Prefetch("votes", queryset=CommitteeVote.objects.select_related("member"))
            )
            .get(pk=pk)
        )
    except (CommitteeMeeting.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def committee_members() -> QuerySet[User]:
    return User.objects.filter(groups__name=Role.LOAN_COMMITTEE, is_active=True).order_by(
        "name", "username"
    )


@dataclass(frozen=True)
class MemberVote:
    member: User
    voted: bool
    # Filled only once the meeting is closed: votes are secret until then.
    vote: str = ""
    vote_label: str = ""
    comment: str = ""


def meeting_member_votes(meeting: CommitteeMeeting) -> list[MemberVote]:
    """Each committee member with "voted" / "not yet"; how they voted only after closing."""
    votes = {v.member_id: v for v in meeting.votes.all()}
    closed = meeting.status != CommitteeMeeting.Status.OPEN
    members = list(committee_members())
    known = {m.pk for m in members}
    # A member who has since left the committee still appears with the vote they cast.
    members += [v.member for v in votes.values() if v.member_id not in known]
    rows = []
    for member in members:
        vote = votes.get(member.pk)
        if vote is not None and closed:
            rows.append(MemberVote(member, True, vote.vote, vote.get_vote_display(), vote.comment))
        else:
            rows.append(MemberVote(member, vote is not None))
    return rows


# --- stage timing -----------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=float(fraction), **extra)


TIMING_GROUPS = {
    "": _("Stage only"),
    "route": _("Route"),
    "branch": _("Branch"),
    "month": _("Month"),
}


@dataclass(frozen=True)
class TimingRow:
    stage: str
    stage_label: str
    group: str
    group_label: str
    visits: int
    avg_seconds: float
    p90_seconds: float


def stage_timing(
    *,
    user,
    by: str = "",
    route: str = "",
    branch_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[TimingRow]:
    """Average and 90th-percentile time per stage (each stay in a stage is one visit, ended by
    whatever transition left it), optionally per route, branch or month. One query: the
    aggregation runs in PostgreSQL."""
    scope = case_scope_q(user, "case__")
    if scope is None:
        return []
    tz = ZoneInfo(settings.TIME_ZONE)
    queryset = ApprovalLog.objects.filter(scope, from_state__in=WORKING_STAGES)
    if route:
        queryset = queryset.filter(case__route=route)
    if branch_id:
        queryset = queryset.filter(case__branch_id=branch_id)
    midnight = datetime.min.time()
    if date_from:
        queryset = queryset.filter(created_at__gte=datetime.combine(date_from, midnight, tzinfo=tz))
    if date_to:
        # Up to the end of ``date_to``, in the bank's time zone.
        queryset = queryset.filter(
            created_at__lt=datetime.combine(date_to + timedelta(days=1), midnight, tzinfo=tz)
        )
    dimensions = {
        "": [],
        "route": ["case__route"],
        "branch": ["case__branch_id", "case__branch__name"],
        "month": ["month"],
    }[by]
    if by == "month":
        queryset = queryset.annotate(month=TruncMonth("created_at", tzinfo=tz))
    rows = (
        queryset.values("from_state", *dimensions)
        .annotate(
            visits=Count("id"),
            avg_seconds=Avg("seconds_in_stage"),
            p90_seconds=PercentileCont("seconds_in_stage", 0.9),
        )
        .order_by()
    )
    order = {stage: i for i, stage in enumerate(WORKING_STAGES)}
    result = []
    for row in rows:
        if by == "route":
            group, label = row["case__route"], str(RiskRoute(row["case__route"]).label)
        elif by == "branch":
            group, label = str(row["case__branch_id"]), row["case__branch__name"]
        elif by == "month":
            group = label = row["month"].astimezone(tz).strftime("%Y-%m")
        else:
            group = label = ""
        result.append(
            TimingRow(
                stage=row["from_state"],
                stage_label=str(Stage(row["from_state"]).label),
                group=group,
                group_label=label,
                visits=row["visits"],
                avg_seconds=float(row["avg_seconds"]),
                p90_seconds=float(row["p90_seconds"]),
            )
        )
    routes = {route: i for i, route in enumerate(RiskRoute.values)}
    result.sort(key=lambda r: (order[r.stage], routes.get(r.group, 0), r.group_label))
    return result
