"""Counter service and complaints: the writes (one transaction each) and the scoped reads.

The reads live here too because this area owns no selectors module; every page, API call and
service of the area goes through ``service_interactions_visible`` / ``complaints_visible``.

Days are Shanghai days whatever the server's clock: a teller's 23:30 service belongs to that
day's figures, and a complaint's deadline is the end of a Shanghai calendar day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from coop.models import AuditEvent, OrgUnit, User
from coop.roles import user_roles
from coop.scoping import sees_whole_bank, visible_org_unit_ids
from coop.services import ConflictError, DomainError, audit_record, audit_record_many
from customers.models import BusinessType, Complaint, Customer, ServiceInteraction
from customers.selectors import BRANCH_WIDE_ROLES, customer_scope_q, customers_visible
from customers.validators import (
    id_number_is_valid,
    normalize_id_number,
    normalize_mobile,
    validate_mobile,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Consumer-complaint rules (DOMAIN.md): decide within 15 days of acceptance, 30 for complex cases;
# urgent cases are the cooperative's own tighter target. Cooperatives differ, hence settings.
DEFAULT_COMPLAINT_DUE_DAYS = {"normal": 15, "complex": 30, "urgent": 5}
DEFAULT_ESCALATION_GRACE_HOURS = 24
MAX_ESCALATION_LEVEL = 2  # 0 handling unit, 1 branch manager, 2 head office
MAX_MINUTES = 600

COMPLAINT_OBJECT_TYPE = Complaint._meta.label_lower

ESCALATION_LABELS = {
    0: gettext_lazy("Not escalated"),
    1: gettext_lazy("Escalated to the branch manager"),
    2: gettext_lazy("Escalated to head office"),
}


def complaint_due_days() -> dict[str, int]:
    return {**DEFAULT_COMPLAINT_DUE_DAYS, **getattr(settings, "COMPLAINT_DUE_DAYS", {})}


def escalation_grace() -> dt.timedelta:
    hours = getattr(settings, "COMPLAINT_ESCALATION_GRACE_HOURS", DEFAULT_ESCALATION_GRACE_HOURS)
    return dt.timedelta(hours=hours)


# --- Shanghai calendar ------------------------------------------------------------------------


def shanghai_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(SHANGHAI).date()


def shanghai_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a Shanghai calendar day, as aware datetimes."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def shanghai_month_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return (
        dt.datetime.combine(first, dt.time.min, tzinfo=SHANGHAI),
        dt.datetime.combine(following, dt.time.min, tzinfo=SHANGHAI),
    )


def complaint_due_at(*, received_at: dt.datetime, severity: str) -> dt.datetime:
    """The end of the Shanghai day ``days`` after the day of receipt."""
    try:
        days = complaint_due_days()[severity]
    except KeyError:
        raise DomainError(_("Choose a valid severity."), field="severity") from None
    due_day = received_at.astimezone(SHANGHAI).date() + dt.timedelta(days=days)
    return dt.datetime.combine(due_day, dt.time.max, tzinfo=SHANGHAI)


# --- Counter service: reads -------------------------------------------------------------------


def service_interactions_visible(user) -> QuerySet[ServiceInteraction]:
    """Interactions of the branches the user sees (all of them at head office)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ServiceInteraction.objects.none()
    if not user.has_perm("customers.view_serviceinteraction"):
        return ServiceInteraction.objects.none()
    if sees_whole_bank(user):
        return ServiceInteraction.objects.all()
    return ServiceInteraction.objects.filter(branch_id__in=visible_org_unit_ids(user))


def service_interaction_get(*, user, pk) -> ServiceInteraction:
    try:
        return (
            service_interactions_visible(user)
            .select_related("teller", "outlet", "branch", "customer")
            .get(pk=pk)
        )
    except (ServiceInteraction.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def service_interactions_of_teller_today(
    *, teller, now: dt.datetime | None = None
) -> QuerySet[ServiceInteraction]:
    start, end = shanghai_day_bounds(shanghai_today(now))
    return (
        ServiceInteraction.objects.filter(teller=teller, served_at__gte=start, served_at__lt=end)
        .select_related("customer")
        .order_by("-served_at", "-id")
    )


def summary_branches(user) -> QuerySet[OrgUnit]:
    """The branches a summary may be narrowed to."""
    units = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH)
    if sees_whole_bank(user):
        return units
    return units.filter(id__in=visible_org_unit_ids(user))


def _summary_aggregates() -> dict:
    aggregates = {
        "count": Count("id"),
        "avg_wait": Avg("wait_minutes"),
        "avg_handling": Avg("handling_minutes"),
        "smile_count": Count("id", filter=Q(smile=True)),
        "standing_count": Count("id", filter=Q(standing=True)),
        "wording_count": Count("id", filter=Q(standard_wording=True)),
        "rated_count": Count("rating"),
        "avg_rating": Avg("rating"),
    }
    for score in range(1, 6):
        aggregates[f"rating_{score}"] = Count("id", filter=Q(rating=score))
    for business_type in BusinessType:
        aggregates[f"type_{business_type.value}"] = Count(
            "id", filter=Q(business_type=business_type.value)
        )
    return aggregates


def _round(value, places: int = 2):
    return None if value is None else round(float(value), places)


def _summary_figures(row: dict) -> dict:
    """Shares and distributions from one aggregated row (already computed by Postgres)."""
    count = row["count"] or 0

    def share(n: int):
        return _round(n / count, 4) if count else None

    return {
        "count": count,
        "avg_wait": _round(row["avg_wait"]),
        "avg_handling": _round(row["avg_handling"]),
        "smile_share": share(row["smile_count"]),
        "standing_share": share(row["standing_count"]),
        "wording_share": share(row["wording_count"]),
        "avg_rating": _round(row["avg_rating"]),
        "rated_count": row["rated_count"],
        "ratings": {score: row[f"rating_{score}"] for score in range(1, 6)},
        "business_types": {bt.value: row[f"type_{bt.value}"] for bt in BusinessType},
    }


def _staff_label(name: str, username: str) -> str:
    return name or username


def service_summary(*, user, period: str, day: dt.date, branch: OrgUnit | None = None) -> dict:
    """Counter-service figures of one Shanghai day or month, per teller and per outlet.

    Three GROUP BY queries (teller, outlet, whole scope) plus one per-day series for a month;
    the rows are bucketed with TruncDate/TruncMonth in Shanghai time so the SQL itself states
    which calendar the figures belong to.
    """
    if period == "month":
        start, end = shanghai_month_bounds(day)
        bucket = TruncMonth("served_at", tzinfo=SHANGHAI)
    elif period == "day":
        start, end = shanghai_day_bounds(day)
        bucket = TruncDate("served_at", tzinfo=SHANGHAI)
    else:
        raise DomainError(_("The period is a day or a month."), field="period")
    scope = service_interactions_visible(user)
    if branch is not None:
        if not summary_branches(user).filter(pk=branch.pk).exists():
            raise DomainError(_("Choose one of your branches."), field="branch")
        scope = scope.filter(branch=branch)
    rows = scope.filter(served_at__gte=start, served_at__lt=end).annotate(bucket=bucket)
    aggregates = _summary_aggregates()

    tellers = []
    for row in (
        rows.values("bucket", "teller_id", "teller__name", "teller__username", "outlet__name")
        .annotate(**aggregates)
        .order_by("outlet__name", "teller__name", "teller__username", "teller_id")
    ):
        tellers.append(
            {
                "teller_id": row["teller_id"],
                "teller": _staff_label(row["teller__name"], row["teller__username"]),
                "outlet": row["outlet__name"],
                **_summary_figures(row),
            }
        )
    outlets = []
    for row in (
        rows.values("bucket", "outlet_id", "outlet__name", "branch__name")
        .annotate(**aggregates)
        .order_by("branch__name", "outlet__name", "outlet_id")
    ):
        outlets.append(
            {
                "outlet_id": row["outlet_id"],
                "outlet": row["outlet__name"],
                "branch": row["branch__name"],
                **_summary_figures(row),
            }
        )
    total = _summary_figures(rows.aggregate(**aggregates))
    days = []
    if period == "month":
        days = [
            {
                "day": row["day"],
                "count": row["count"],
                "avg_wait": _round(row["avg_wait"]),
                "avg_handling": _round(row["avg_handling"]),
                "avg_rating": _round(row["avg_rating"]),
            }
            for row in scope.filter(served_at__gte=start, served_at__lt=end)
            .annotate(day=TruncDate("served_at", tzinfo=SHANGHAI))
            .values("day")
            .annotate(
                count=Count("id"),
                avg_wait=Avg("wait_minutes"),
                avg_handling=Avg("handling_minutes"),
                avg_rating=Avg("rating"),
            )
            .order_by("day")
        ]
    return {
        "period": period,
        "start": start.date(),
        "end": (end - dt.timedelta(days=1)).date(),
        "branch": branch,
        "total": total,
        "tellers": tellers,
        "outlets": outlets,
        "days": days,
    }


LOOKUP_LIMIT = 10


def customer_lookup_matches(*, user, query: str) -> list[Customer]:
    """Customers in the user's scope for the counter's quick lookup.

    A query that is a valid ID number or mobile number matches that number exactly (it arrives
    in a POST body, never in a URL); anything else is a name search.
    """
    query = (query or "").strip()[:50]
    if not query:
        return []
    scope = customers_visible(user).select_related("branch")
    id_number = normalize_id_number(query)
    if id_number_is_valid(id_number):
        matches = scope.filter(id_number=id_number)
    elif _is_mobile(query):
        matches = scope.filter(mobile=normalize_mobile(query))
    else:
        matches = scope.filter(name__icontains=query)
    return list(matches.order_by("name", "id")[:LOOKUP_LIMIT])


def _is_mobile(value: str) -> bool:
    try:
        validate_mobile(value)
    except ValidationError:
        return False
    return True


# --- Counter service: writes ------------------------------------------------------------------


def _minutes(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MINUTES:
        raise DomainError(
            _("Minutes are a whole number from 0 to %(max)s.") % {"max": MAX_MINUTES},
            field=field,
        )
    return value


@transaction.atomic
def service_interaction_record(
    *,
    actor: User,
    business_type: str,
    wait_minutes: int,
    handling_minutes: int,
    smile: bool = False,
    standing: bool = False,
    standard_wording: bool = False,
    rating: int | None = None,
    note: str = "",
    customer: Customer | None = None,
) -> ServiceInteraction:
    """One counter service, served now at the teller's outlet."""
    if not actor.has_perm("customers.add_serviceinteraction"):
        raise PermissionDenied
    if business_type not in BusinessType.values:
        raise DomainError(_("Choose the business type."), field="business_type")
    _minutes(wait_minutes, "wait_minutes")
    _minutes(handling_minutes, "handling_minutes")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise DomainError(_("The rating is from 1 to 5, or empty."), field="rating")
    note = (note or "").strip()
    if len(note) > 300:
        raise DomainError(_("The note has at most 300 characters."), field="note")
    if customer is not None and not customers_visible(actor).filter(pk=customer.pk).exists():
        raise DomainError(_("Choose a customer of your branch."), field="customer")
    outlet = actor.org_unit
    interaction = ServiceInteraction.objects.create(
        teller=actor,
        outlet=outlet,
        branch=outlet.branch(),
        customer=customer,
        business_type=business_type,
        wait_minutes=wait_minutes,
        handling_minutes=handling_minutes,
        smile=bool(smile),
        standing=bool(standing),
        standard_wording=bool(standard_wording),
        rating=rating,
        note=note,
        served_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="service_interaction.record",
        obj=interaction,
        data={"business_type": business_type, "customer_id": customer.pk if customer else None},
    )
    return interaction


# --- Complaints: reads ------------------------------------------------------------------------


def complaints_visible(user) -> QuerySet[Complaint]:
    """Complaints of the user's branch (the whole bank at head office).

    Account managers, who otherwise see only the customers they own or back up, see the
    complaints of those customers and the ones they received or handle, nothing else.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Complaint.objects.none()
    if not user.has_perm("customers.view_complaint"):
        return Complaint.objects.none()
    roles = set(user_roles(user))
    if sees_whole_bank(user) and roles & BRANCH_WIDE_ROLES:
        return Complaint.objects.all()
    in_branch = Q(branch_id__in=visible_org_unit_ids(user))
    if roles & BRANCH_WIDE_ROLES:
        return Complaint.objects.filter(in_branch)
    own = Q(received_by=user) | Q(assignee=user)
    customer_q = customer_scope_q(user, prefix="customer__")
    if customer_q is not None:
        own |= customer_q
    return Complaint.objects.filter(in_branch & own)


def complaint_get(*, user, pk) -> Complaint:
    try:
        return (
            complaints_visible(user)
            .select_related("branch", "customer", "received_by", "assignee")
            .get(pk=pk)
        )
    except (Complaint.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def complaint_trail(complaint: Complaint) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(object_type=COMPLAINT_OBJECT_TYPE, object_id=str(complaint.pk))
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


def complaint_is_overdue(complaint: Complaint, now: dt.datetime | None = None) -> bool:
    return complaint.state in Complaint.OPEN_STATES and complaint.due_at < (now or timezone.now())


def complaint_assignee_choices(complaint: Complaint) -> QuerySet[User]:
    """Active staff who may see complaints and work in the complaint's branch or at head office."""
    staff = get_user_model().objects.with_perm(
        "customers.view_complaint", backend="django.contrib.auth.backends.ModelBackend"
    )
    branch = complaint.branch
    return (
        staff.filter(is_active=True)
        .filter(
            Q(org_unit__path__startswith=branch.path) | Q(org_unit__kind=OrgUnit.Kind.HEAD_OFFICE)
        )
        .order_by("org_unit__path", "name", "username")
    )


TRANSITIONS = ("assign", "reassign", "respond", "resolve", "close", "reopen")


def complaint_actions_for(user, complaint: Complaint) -> list[str]:
    """The transitions ``user`` may run on ``complaint`` now (what the detail page offers)."""
    handles = user.has_perm("customers.handle_complaint")
    is_assignee = complaint.assignee_id is not None and complaint.assignee_id == user.pk
    actions = []
    if handles and can_proceed(complaint.assign):
        actions.append("assign")
    if handles and can_proceed(complaint.reassign):
        actions.append("reassign")
    if (handles or is_assignee) and can_proceed(complaint.respond):
        actions.append("respond")
    if (handles or is_assignee) and can_proceed(complaint.resolve):
        actions.append("resolve")
    if handles and can_proceed(complaint.close):
        actions.append("close")
    if handles and can_proceed(complaint.reopen):
        actions.append("reopen")
    return actions


# --- Complaints: writes -----------------------------------------------------------------------


def _state_label(state: str) -> str:
    return str(Complaint.State(state).label)


@transaction.atomic
def complaint_receive(
    *,
    actor: User,
    kind: str,
    channel: str,
    subject: str,
    description: str,
    severity: str = Complaint.Severity.NORMAL,
    customer: Customer | None = None,
    contact_name: str = "",
    received_at: dt.datetime | None = None,
) -> Complaint:
    """Accept a complaint or suggestion; its deadline follows from the severity."""
    if not actor.has_perm("customers.add_complaint"):
        raise PermissionDenied
    if kind not in Complaint.Kind.values:
        raise DomainError(_("Choose complaint or suggestion."), field="kind")
    if channel not in Complaint.Channel.values:
        raise DomainError(_("Choose how it was received."), field="channel")
    if severity not in Complaint.Severity.values:
        raise DomainError(_("Choose a valid severity."), field="severity")
    subject = (subject or "").strip()
    description = (description or "").strip()
    contact_name = (contact_name or "").strip()
    if not subject:
        raise DomainError(_("Give the complaint a subject."), field="subject")
    if len(subject) > 200:
        raise DomainError(_("The subject has at most 200 characters."), field="subject")
    if not description:
        raise DomainError(_("Describe what the customer said."), field="description")
    if len(contact_name) > 50:
        raise DomainError(_("The contact name has at most 50 characters."), field="contact_name")
    if customer is not None:
        if not customers_visible(actor).filter(pk=customer.pk).exists():
            raise DomainError(_("Choose a customer of your branch."), field="customer")
        branch = customer.branch
    else:
        if not contact_name:
            raise DomainError(
                _("Choose the customer or give a contact name, so the answer can reach them."),
                field="contact_name",
            )
        branch = actor.org_unit.branch()
    received_at = received_at or timezone.now()
    complaint = Complaint.objects.create(
        kind=kind,
        channel=channel,
        severity=severity,
        customer=customer,
        contact_name=contact_name,
        branch=branch,
        subject=subject,
        description=description,
        received_by=actor,
        received_at=received_at,
        due_at=complaint_due_at(received_at=received_at, severity=severity),
    )
    audit_record(
        actor=actor,
        action="complaint.receive",
        obj=complaint,
        to_state=complaint.state,
        comment=subject,
        data={"kind": kind, "channel": channel, "severity": severity},
    )
    return complaint


def _locked(actor: User, complaint: Complaint) -> Complaint:
    # The row lock serialises writers of one complaint: a second writer waits, then reads the
    # state the first one committed, so its transition is checked against the real state.
    try:
        locked = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("branch", "assignee")
            .get(pk=complaint.pk)
        )
    except Complaint.DoesNotExist:
        raise Http404 from None
    if not complaints_visible(actor).filter(pk=locked.pk).exists():
        raise Http404
    return locked


def _require_text(text: str, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(message, field=field, code="required")
    return text


def _ensure_can(
    actor: User, complaint: Complaint, method: Callable[[], None], refused: str
) -> None:
    """409 unless the state machine allows ``method`` now; checked before the input is."""
    if not can_proceed(method) or not has_transition_perm(method, actor):
        raise ConflictError(
            refused % {"state": _state_label(complaint.state)}, code="illegal_transition"
        )


def _run(
    *,
    actor: User,
    complaint: Complaint,
    method: Callable[[], None],
    update_fields: list[str],
    action: str,
    comment: str = "",
    data: dict | None = None,
) -> Complaint:
    from_state = complaint.state
    method()
    try:
        complaint.save(update_fields=["state", *update_fields])
    except ConcurrentTransition:
        raise ConflictError(
            _("Someone else changed this complaint just now; reload it and try again."),
            code="concurrent_change",
        ) from None
    audit_record(
        actor=actor,
        action=action,
        obj=complaint,
        from_state=from_state,
        to_state=complaint.state,
        comment=comment,
        data=data,
    )
    return complaint


def _require_handler(actor: User) -> None:
    if not actor.has_perm("customers.handle_complaint"):
        raise PermissionDenied


def _require_handler_or_assignee(actor: User, complaint: Complaint) -> None:
    if actor.has_perm("customers.handle_complaint"):
        return
    if complaint.assignee_id is None or complaint.assignee_id != actor.pk:
        raise PermissionDenied


@transaction.atomic
def complaint_assign(
    *, actor: User, complaint: Complaint, assignee: User | None, comment: str = ""
) -> Complaint:
    """Give a received complaint to a handler, or hand an open one to somebody else."""
    _require_handler(actor)
    complaint = _locked(actor, complaint)
    if complaint.state == Complaint.State.RECEIVED:
        method, action = complaint.assign, "complaint.assign"
    else:
        method, action = complaint.reassign, "complaint.reassign"
    _ensure_can(
        actor,
        complaint,
        method,
        _("This complaint is %(state)s; reopen it before assigning it again."),
    )
    if (
        assignee is None
        or not complaint_assignee_choices(complaint).filter(pk=assignee.pk).exists()
    ):
        raise DomainError(
            _("Choose a member of staff who handles complaints of this branch."),
            field="assignee",
        )
    if assignee.pk == complaint.assignee_id:
        raise DomainError(_("This complaint is already assigned to them."), field="assignee")
    previous_id = complaint.assignee_id
    complaint.assignee = assignee
    return _run(
        actor=actor,
        complaint=complaint,
        method=method,
        update_fields=["assignee"],
        action=action,
        comment=(comment or "").strip(),
        data={
            "assignee_id": assignee.pk,
            "assignee": assignee.display_name,
            "previous_assignee_id": previous_id,
        },
    )


@transaction.atomic
def complaint_respond(*, actor: User, complaint: Complaint, text: str) -> Complaint:
    """Record the answer given to the customer."""
    complaint = _locked(actor, complaint)
    _require_handler_or_assignee(actor, complaint)
    _ensure_can(
        actor,
        complaint,
        complaint.respond,
        _("Only an assigned complaint can be answered; this one is %(state)s."),
    )
    text = _require_text(text, "text", _("Write the answer given to the customer."))
    complaint.response = text
    complaint.responded_at = timezone.now()
    return _run(
        actor=actor,
        complaint=complaint,
        method=complaint.respond,
        update_fields=["response", "responded_at"],
        action="complaint.respond",
        comment=text,
    )


@transaction.atomic
def complaint_resolve(*, actor: User, complaint: Complaint, text: str) -> Complaint:
    """Record how the case was settled; the customer 360 page shows this resolution."""
    complaint = _locked(actor, complaint)
    _require_handler_or_assignee(actor, complaint)
    _ensure_can(
        actor,
        complaint,
        complaint.resolve,
        _("Only an assigned or answered complaint can be resolved; this one is %(state)s."),
    )
    text = _require_text(text, "text", _("Write how the complaint was resolved."))
    complaint.resolution = text
    complaint.resolved_at = timezone.now()
    return _run(
        actor=actor,
        complaint=complaint,
        method=complaint.resolve,
        update_fields=["resolution", "resolved_at"],
        action="complaint.resolve",
        comment=text,
    )


@transaction.atomic
def complaint_close(*, actor: User, complaint: Complaint, comment: str = "") -> Complaint:
    _require_handler(actor)
    complaint = _locked(actor, complaint)
    _ensure_can(
        actor,
        complaint,
        complaint.close,
        _("Only a resolved complaint can be closed; this one is %(state)s."),
    )
    complaint.closed_at = timezone.now()
    return _run(
        actor=actor,
        complaint=complaint,
        method=complaint.close,
        update_fields=["closed_at"],
        action="complaint.close",
        comment=(comment or "").strip(),
    )


@transaction.atomic
def complaint_reopen(*, actor: User, complaint: Complaint, reason: str) -> Complaint:
    """Back to the same handler when the customer is not satisfied.

    The deadline is kept: the rules count from acceptance, and the customer has been waiting
    since then, so a reopened case past its deadline rightly escalates at the next sweep.
    """
    _require_handler(actor)
    complaint = _locked(actor, complaint)
    _ensure_can(
        actor,
        complaint,
        complaint.reopen,
        _("Only a resolved or closed complaint can be reopened; this one is %(state)s."),
    )
    reason = _require_text(reason, "text", _("Give the reason for reopening."))
    complaint.reopen_count += 1
    complaint.resolved_at = None
    complaint.closed_at = None
    return _run(
        actor=actor,
        complaint=complaint,
        method=complaint.reopen,
        update_fields=["reopen_count", "resolved_at", "closed_at"],
        action="complaint.reopen",
        comment=reason,
    )


def complaint_transition(
    *,
    actor: User,
    complaint: Complaint,
    transition: str,
    text: str = "",
    assignee: User | None = None,
) -> Complaint:
    """Dispatch a named transition (the detail page's forms and the API) to its service."""
    if transition in ("assign", "reassign"):
        return complaint_assign(actor=actor, complaint=complaint, assignee=assignee, comment=text)
    if transition == "respond":
        return complaint_respond(actor=actor, complaint=complaint, text=text)
    if transition == "resolve":
        return complaint_resolve(actor=actor, complaint=complaint, text=text)
    if transition == "close":
        return complaint_close(actor=actor, complaint=complaint, comment=text)
    if transition == "reopen":
        return complaint_reopen(actor=actor, complaint=complaint, reason=text)
    raise DomainError(_("Unknown action."), field="transition")


# --- Complaints: escalation sweep ---------------------------------------------------------------

_ESCALATE_SQL = """
UPDATE {table}
   SET escalation_level = %s, escalated_at = %s
 WHERE escalation_level = %s
   AND state = ANY(%s)
   AND due_at < %s
   AND COALESCE(escalated_at, due_at) < %s
RETURNING id, state
"""


@transaction.atomic
def complaints_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Raise overdue open complaints one level ("same-level response, escalated supervision").

    One compare-and-set UPDATE per level: a row moves only if it is still at that level, so two
    sweeps running at once cannot both raise it (the second waits on the row lock, re-checks the
    WHERE clause against the committed row, and skips it); and a row raised now has
    ``escalated_at = now``, so running again at the same ``now`` raises nothing. The highest level
    goes first, so a complaint rises at most one level per sweep.
    """
    now = now or timezone.now()
    cutoff = now - escalation_grace()
    table = connection.ops.quote_name(Complaint._meta.db_table)
    open_states = [str(state) for state in Complaint.OPEN_STATES]
    events = []
    with connection.cursor() as cursor:
        for level in range(MAX_ESCALATION_LEVEL - 1, -1, -1):
            cursor.execute(
                _ESCALATE_SQL.format(table=table),
                [level + 1, now, level, open_states, now, cutoff],
            )
            for complaint_id, state in cursor.fetchall():
                events.append(
                    {
                        "action": "complaint.escalate",
                        "object_type": COMPLAINT_OBJECT_TYPE,
                        "object_id": complaint_id,
                        "from_state": state,
                        "to_state": state,
                        "data": {"from_level": level, "to_level": level + 1},
                    }
                )
    return audit_record_many(events)
