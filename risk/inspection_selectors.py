"""Reads of post-loan inspections and early warnings, scoped: an account manager sees the
inspections assigned to them; branch staff their branch's; head office everything. Anything
else answers 404 and is never in a list, a count or the compliance figures. Each read takes a
fixed number of queries whatever the data size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from coop.roles import Role, user_roles
from coop.scoping import sees_whole_bank, visible_org_unit_ids
from customers.selectors import BRANCH_WIDE_ROLES
from risk.models import (
    OPEN_INSPECTION_STATES,
    EarlyWarning,
    EarlyWarningStatus,
    EscalationLevel,
    Inspection,
    InspectionAttachment,
    InspectionKind,
    InspectionNotice,
    InspectionStatus,
)

PANEL_SIZE = 5
LIST_FILTERS = ("open", "overdue", "due", "completed", "all")
WARNING_FILTERS = ("active", "open", "acknowledged", "closed", "all")


def _branch_scope_q(user) -> Q | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    roles = set(user_roles(user))
    if roles & BRANCH_WIDE_ROLES:
        if sees_whole_bank(user):
            return Q()
        return Q(branch_id__in=visible_org_unit_ids(user))
    return None


def inspection_scope_q(user) -> Q | None:
    """Branch-wide roles: the inspections of the branches they see; account managers: their own
    (assigned to them); nobody else anything."""
    scope = _branch_scope_q(user)
    if scope is not None:
        return scope
    active = getattr(user, "is_authenticated", False) and user.is_active
    if active and Role.ACCOUNT_MANAGER in user_roles(user):
        return Q(assigned_to=user)
    return None


def inspections_visible(user) -> QuerySet[Inspection]:
    scope = inspection_scope_q(user)
    if scope is None:
        return Inspection.objects.none()
    return Inspection.objects.filter(scope)


# Most urgent first: overdue, due, completed, cancelled. Those status values happen to sort the
# same way descending, so the list orders by the column itself and the partial index
# ``inspection_open_order`` serves the open list (a CASE expression could use no index).
_URGENT_FIRST = ("-status", "due_on", "id")


def _with_related(queryset: QuerySet[Inspection]) -> QuerySet[Inspection]:
    return queryset.select_related(
        "loan", "loan__product", "customer", "branch", "assigned_to", "completed_by"
    )


def inspection_list(
    *, user, status: str = "open", kind: str = "", query: str = ""
) -> QuerySet[Inspection]:
    """Overdue first, then due, each by due date; completed and cancelled after them."""
    queryset = inspections_visible(user)
    if status == "open":
        queryset = queryset.filter(status__in=OPEN_INSPECTION_STATES)
    elif status in (InspectionStatus.OVERDUE, InspectionStatus.DUE, InspectionStatus.COMPLETED):
        queryset = queryset.filter(status=status)
    if kind in InspectionKind.values:
        queryset = queryset.filter(kind=kind)
    if query:
        queryset = queryset.filter(Q(loan__number__icontains=query) | Q(customer__name=query))
    return _with_related(queryset).order_by(*_URGENT_FIRST)


def inspection_get(*, user, pk) -> Inspection:
    try:
        return _with_related(inspections_visible(user)).get(pk=pk)
    except (Inspection.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def inspection_notices(inspection: Inspection) -> list[InspectionNotice]:
    return list(inspection.notices.select_related("recipient", "org_unit").order_by("level"))


def inspection_attachments(inspection: Inspection) -> list[InspectionAttachment]:
    return list(inspection.attachments.all())


def inspection_attachment_get(*, user, inspection_pk, pk) -> InspectionAttachment:
    inspection = inspection_get(user=user, pk=inspection_pk)
    try:
        return inspection.attachments.get(pk=pk)
    except (InspectionAttachment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def inspection_warning(inspection: Inspection) -> EarlyWarning | None:
    return EarlyWarning.objects.filter(inspection=inspection).first()


# --- workbench ----------------------------------------------------------------------------------


def my_inspections_panel(user) -> dict | None:
    """The account manager's open inspections (overdue first, with due dates) and counts: two
    queries. ``None`` when nothing is open, so the panel stays off the workbench."""
    mine = Inspection.objects.filter(assigned_to=user, status__in=OPEN_INSPECTION_STATES)
    counts = mine.aggregate(
        due=Count("id", filter=Q(status=InspectionStatus.DUE)),
        overdue=Count("id", filter=Q(status=InspectionStatus.OVERDUE)),
    )
    if not counts["due"] and not counts["overdue"]:
        return None
    rows = list(mine.select_related("loan", "customer").order_by(*_URGENT_FIRST)[:PANEL_SIZE])
    return {"inspections": rows, "due": counts["due"], "overdue": counts["overdue"]}


# --- compliance ---------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class ComplianceRow:
    key: int | None
    label: str
    branch: str = ""
    total: int = 0
    due: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    escalated_branch: int = 0
    escalated_head_office: int = 0

    @property
    def expected(self) -> int:
        """Inspections whose deadline has passed or that were done: the rates' denominator."""
        return self.on_time + self.late + self.overdue

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.expected)

    @property
    def late_rate(self) -> float | None:
        return _rate(self.late, self.expected)

    @property
    def overdue_rate(self) -> float | None:
        return _rate(self.overdue, self.expected)


@dataclass
class Compliance:
    date_from: date
    date_to: date
    total: ComplianceRow
    branches: list[ComplianceRow] = field(default_factory=list)
    managers: list[ComplianceRow] = field(default_factory=list)


_FIGURES = {
    "total": Count("id"),
    "due": Count("id", filter=Q(status=InspectionStatus.DUE)),
    "on_time": Count("id", filter=Q(status=InspectionStatus.COMPLETED, on_time=True)),
    "late": Count("id", filter=Q(status=InspectionStatus.COMPLETED, on_time=False)),
    "overdue": Count("id", filter=Q(status=InspectionStatus.OVERDUE)),
    "escalated_branch": Count(
        "id",
        filter=Q(status=InspectionStatus.OVERDUE, escalation_level=EscalationLevel.BRANCH_MANAGER),
    ),
    "escalated_head_office": Count(
        "id",
        filter=Q(status=InspectionStatus.OVERDUE, escalation_level=EscalationLevel.HEAD_OFFICE),
    ),
}
_FIGURE_NAMES = tuple(_FIGURES)
# Annotated under other names: "on_time" is also a column, which a later FILTER would read as
# the aggregate.
_ANNOTATIONS = {f"n_{name}": aggregate for name, aggregate in _FIGURES.items()}


def inspection_compliance(*, user, date_from: date, date_to: date) -> Compliance:
    """On time / late / overdue per branch and per account manager for the inspections due in
    the period (cancelled ones — the loan closed first — do not count). Two queries."""
    base = (
        inspections_visible(user)
        .filter(due_on__gte=date_from, due_on__lte=date_to)
        .exclude(status=InspectionStatus.CANCELLED)
    )
    branches = [
        ComplianceRow(
            key=row["branch_id"],
            label=row["branch__name"],
            **{name: row[f"n_{name}"] for name in _FIGURE_NAMES},
        )
        for row in base.values("branch_id", "branch__name")
        .annotate(**_ANNOTATIONS)
        .order_by("branch__path")
    ]
    managers = [
        ComplianceRow(
            key=row["assigned_to_id"],
            label=row["assigned_to__name"] or row["assigned_to__username"],
            branch=row["branch__name"],
            **{name: row[f"n_{name}"] for name in _FIGURE_NAMES},
        )
        for row in base.values(
            "assigned_to_id",
            "assigned_to__name",
            "assigned_to__username",
            "branch_id",
            "branch__name",
            "branch__path",
        )
        .annotate(**_ANNOTATIONS)
        .order_by("branch__path", "assigned_to__name", "assigned_to_id")
    ]
    total = ComplianceRow(key=None, label="")
    for row in branches:
        for name in _FIGURE_NAMES:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return Compliance(
        date_from=date_from, date_to=date_to, total=total, branches=branches, managers=managers
    )


# --- early warnings -----------------------------------------------------------------------------


def warnings_visible(user) -> QuerySet[EarlyWarning]:
    scope = _branch_scope_q(user)
    if scope is None:
        return EarlyWarning.objects.none()
    return EarlyWarning.objects.filter(scope)


def _warning_related(queryset: QuerySet[EarlyWarning]) -> QuerySet[EarlyWarning]:
    return queryset.select_related(
        "loan",
        "customer",
        "branch",
        "inspection",
        "inspection__assigned_to",
        "acknowledged_by",
        "closed_by",
        "classification_review",
        "ad_hoc_inspection",
    )


def warning_list(*, user, status: str = "active") -> QuerySet[EarlyWarning]:
    queryset = warnings_visible(user)
    if status == "active":
        queryset = queryset.exclude(status=EarlyWarningStatus.CLOSED)
    elif status in EarlyWarningStatus.values:
        queryset = queryset.filter(status=status)
    return _warning_related(queryset).order_by("-raised_at", "-id")


def warning_get(*, user, pk) -> EarlyWarning:
    try:
        return _warning_related(warnings_visible(user)).get(pk=pk)
    except (EarlyWarning.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
