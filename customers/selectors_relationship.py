"""Scoped reads for segments, contact plans, visits, grading and ownership.

Everything that lists customers or objects hanging off a customer goes through
``customers.selectors.customer_scope_q``, so an object of another branch's customer never shows up
and answers 404. Segments and contact plans themselves are bank-wide definitions made by head
office; who belongs to a segment is scoped like every customer list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Least, TruncDate
from django.http import Http404

from coop.models import User
from coop.roles import Role
from customers.models import (
    ContactPlan,
    Customer,
    DueContact,
    GradeChange,
    OwnershipTransfer,
    Segment,
    Visit,
)
from customers.segment_rules import SHANGHAI, today_in_shanghai
from customers.selectors import customer_scope_q, customers_visible

# --- segments --------------------------------------------------------------------------------


def segments_list(user) -> QuerySet[Segment]:
    """All segments with ``visible_members``: how many of their members ``user`` may see.

    Head office sees the stored total; anyone else gets a count over their own customers only,
    so a branch never learns another branch's numbers. One query either way.
    """
    segments = Segment.objects.select_related("created_by").order_by("-is_active", "name")
    scope = customer_scope_q(user, prefix="memberships__customer__")
    if scope is None:
        return segments.annotate(visible_members=Value(0, output_field=IntegerField()))
    if not scope:  # an empty Q: the whole bank
        return segments.annotate(visible_members=F("member_count"))
    return segments.annotate(visible_members=Count("memberships", filter=scope))


def segment_get(*, pk) -> Segment:
    try:
        return Segment.objects.get(pk=pk)
    except (Segment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def segment_members(user, segment: Segment) -> QuerySet[Customer]:
    return (
        customers_visible(user)
        .filter(memberships__segment=segment)
        .select_related("branch", "owner")
        .order_by("name", "id")
    )


def segments_for_customer(customer: Customer) -> QuerySet[Segment]:
    """The active segments a customer belongs to (for the customer's 360 page)."""
    return Segment.objects.filter(memberships__customer=customer, is_active=True).order_by("name")


def segment_filter_choices() -> list[tuple[int, str]]:
    """(id, name) of the active segments, for the segment filter of customer lists."""
    return list(Segment.objects.filter(is_active=True).order_by("name").values_list("id", "name"))


def customer_in_segment_q(segment_id: int, prefix: str = "") -> Q:
    """A Q on Customer (or, with ``prefix``, a related model) for "member of this segment".

    Filtering on one segment joins one membership row per customer at most (unique constraint),
    so a list filtered by it never repeats a customer.
    """
    return Q(**{f"{prefix}memberships__segment_id": segment_id})


def contact_plans_list() -> QuerySet[ContactPlan]:
    return ContactPlan.objects.select_related("segment").order_by(
        "-is_active", "interval_days", "name"
    )


def contact_plan_get(*, pk) -> ContactPlan:
    try:
        return ContactPlan.objects.select_related("segment").get(pk=pk)
    except (ContactPlan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- visits ----------------------------------------------------------------------------------


def visits_visible(user) -> QuerySet[Visit]:
    scope = customer_scope_q(user, prefix="customer__")
    if scope is None:
        return Visit.objects.none()
    return (
        Visit.objects.filter(scope)
        .select_related("customer", "customer__branch", "staff")
        .order_by("-visited_on", "-id")
    )


def visit_get(*, user, pk) -> Visit:
    try:
        return visits_visible(user).get(pk=pk)
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def visits_for_customer(user, customer: Customer) -> QuerySet[Visit]:
    """A customer's visits, newest first (for the customer's 360 page)."""
    return visits_visible(user).filter(customer=customer)


# --- due contacts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DueContactRow:
    customer: Customer
    plan: ContactPlan | None  # the applicable plan with the shortest interval
    last_visit: date | None
    next_contact_on: date | None  # what the latest visit asked for
    due_on: date
    reason: str  # "never_visited", "plan" or "next_contact"
    days_overdue: int
    pk: int | None = None  # the materialized DueContact row, when listed from the rows


def due_rule_annotate(customers: QuerySet[Customer], *, on: date) -> QuerySet[Customer]:
    """``customers`` that are due for contact on ``on`` under the contact-plan rule.

    A customer is due when
    - a plan applies (active plan of an active segment they belong to, or of their customer
      class), the shortest such interval counting: due on last visit + interval days, or on the
      day they were filed if never visited; or
    - their latest visit asked for a next contact on or before ``on``.
    ``due_on`` is the earlier of the two (Postgres' LEAST skips the missing one); ``due_reason``
    says which. The beat sweep ``customers.contacts_plan`` materializes this over all customers.
    """
    latest_visits = Visit.objects.filter(customer=OuterRef("pk")).order_by("-visited_on", "-id")
    plans = (
        ContactPlan.objects.filter(is_active=True)
        .filter(
            Q(segment__is_active=True, segment__memberships__customer=OuterRef("pk"))
            | Q(segment__isnull=True, customer_class=OuterRef("customer_class"))
        )
        .order_by("interval_days", "id")
    )
    return (
        customers.annotate(
            last_visit_on=Subquery(latest_visits.values("visited_on")[:1]),
            latest_next_contact_on=Subquery(latest_visits.values("next_contact_on")[:1]),
            due_plan_id=Subquery(plans.values("id")[:1]),
            due_plan_interval=Subquery(plans.values("interval_days")[:1]),
            filed_on=TruncDate("created_at", tzinfo=SHANGHAI),
        )
        .annotate(
            plan_due_on=Case(
                When(due_plan_id__isnull=True, then=Value(None, output_field=DateField())),
                When(last_visit_on__isnull=True, then=F("filed_on")),
                # date + integer is a date in Postgres: the last visit plus the interval in days.
                default=CombinedExpression(
                    F("last_visit_on"), "+", F("due_plan_interval"), output_field=DateField()
                ),
                output_field=DateField(),
            )
        )
        .annotate(due_on=Least("plan_due_on", "latest_next_contact_on", output_field=DateField()))
        .annotate(
            due_reason=Case(
                When(
                    Q(latest_next_contact_on__isnull=False)
                    & (
                        Q(plan_due_on__isnull=True)
                        | Q(latest_next_contact_on__lte=F("plan_due_on"))
                    ),
                    then=Value("next_contact"),
                ),
                When(last_visit_on__isnull=True, then=Value("never_visited")),
                default=Value("plan"),
            )
        )
        .filter(due_on__lte=on)
    )


def due_contacts_queryset(user, *, on: date) -> QuerySet[Customer]:
    """The rule computed live for the customers ``user`` owns, most overdue first (one query).

    Pages list the materialized rows (``due_contacts_for``); this is the rule they come from.
    """
    return (
        due_rule_annotate(customers_visible(user).filter(owner=user), on=on)
        .select_related("branch")
        .order_by("due_on", "name", "id")
    )


def due_contact_rows_visible(user) -> QuerySet[DueContact]:
    """Open due contacts of the customers ``user`` owns (and may see).

    A visit on or after ``due_on`` recorded since the sweep already hides its row, before the next
    sweep closes it.
    """
    scope = customer_scope_q(user, prefix="customer__")
    if scope is None:
        return DueContact.objects.none()
    latest_visits = Visit.objects.filter(customer=OuterRef("customer_id")).order_by(
        "-visited_on", "-id"
    )
    return (
        DueContact.objects.filter(scope, customer__owner=user, status=DueContact.Status.OPEN)
        .annotate(
            last_visit_on=Subquery(latest_visits.values("visited_on")[:1]),
            latest_next_contact_on=Subquery(latest_visits.values("next_contact_on")[:1]),
        )
        .filter(Q(last_visit_on__isnull=True) | Q(last_visit_on__lt=F("due_on")))
        .select_related("customer", "customer__branch", "plan")
        .order_by("due_on", "customer__name", "id")
    )


def due_contact_get(*, user, pk) -> DueContact:
    try:
        return due_contact_rows_visible(user).get(pk=pk)
    except (DueContact.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


class DueContacts:
    """The open due contacts as ``DueContactRow`` rows; sliceable and countable (paginates).

    Each slice is one query (plans come with the rows).
    """

    def __init__(self, queryset: QuerySet[DueContact], on: date):
        self.queryset = queryset
        self.on = on

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def _rows(self, contacts: list[DueContact]) -> list[DueContactRow]:
        return [
            DueContactRow(
                customer=c.customer,
                plan=c.plan,
                last_visit=c.last_visit_on,
                next_contact_on=c.latest_next_contact_on,
                due_on=c.due_on,
                reason=c.reason,
                days_overdue=(self.on - c.due_on).days,
                pk=c.pk,
            )
            for c in contacts
        ]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._rows(list(self.queryset[index]))
        return self._rows([self.queryset[index]])[0]

    def __iter__(self):
        return iter(self._rows(list(self.queryset)))


def due_contacts_for(user, on: date | None = None) -> DueContacts:
    """Rows (customer, plan, last_visit, due_on, …) of the customers ``user`` should contact:
    the open materialized due contacts due on or before ``on``."""
    on = on or today_in_shanghai()
    return DueContacts(due_contact_rows_visible(user).filter(due_on__lte=on), on)


# --- grading ---------------------------------------------------------------------------------


def grade_changes_visible(user) -> QuerySet[GradeChange]:
    scope = customer_scope_q(user, prefix="customer__")
    if scope is None:
        return GradeChange.objects.none()
    return GradeChange.objects.filter(scope).select_related(
        "customer", "customer__branch", "proposed_by", "decided_by"
    )


def grade_change_get(*, user, pk) -> GradeChange:
    try:
        return grade_changes_visible(user).get(pk=pk)
    except (GradeChange.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def grade_queue(user) -> QuerySet[GradeChange]:
    """Open proposals in scope, oldest first: the approval queue."""
    return (
        grade_changes_visible(user)
        .filter(status=GradeChange.Status.PROPOSED)
        .order_by("proposed_at", "id")
    )


def grade_recent_decisions(user, limit: int = 20) -> QuerySet[GradeChange]:
    return (
        grade_changes_visible(user)
        .exclude(status=GradeChange.Status.PROPOSED)
        .order_by("-decided_at", "-id")[:limit]
    )


def grade_changes_for_customer(user, customer: Customer) -> QuerySet[GradeChange]:
    """A customer's grade history, newest first (for the propose page and the 360 page)."""
    return grade_changes_visible(user).filter(customer=customer).order_by("-proposed_at", "-id")


# --- ownership -------------------------------------------------------------------------------


def transfers_for_customer(customer: Customer) -> QuerySet[OwnershipTransfer]:
    return (
        OwnershipTransfer.objects.filter(customer=customer)
        .select_related(
            "from_owner", "to_owner", "from_b_manager", "to_b_manager", "transferred_by"
        )
        .order_by("-transferred_at", "-id")
    )


def account_managers_for(customer: Customer) -> QuerySet[User]:
    """Who may own the customer: active account managers of the customer's branch subtree."""
    return (
        User.objects.filter(
            is_active=True,
            groups__name=Role.ACCOUNT_MANAGER,
            org_unit__path__startswith=customer.branch.path,
        )
        .select_related("org_unit")
        .order_by("org_unit__path", "name", "username")
    )
