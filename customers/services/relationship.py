"""Writes for customer relationships: segments, contact plans, visits, grading and ownership.

Every service is one transaction, locks the rows that concurrent writers may race for, and writes
its audit row in the same transaction. Scope (which customers the actor may touch) is checked by
the caller through the scoped selectors before a service is called; the rules that belong to the
business itself — four eyes, head-office authority, who may own a customer — are checked here.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import User
from coop.roles import Role, has_role
from coop.scoping import sees_whole_bank
from coop.services import ConflictError, DomainError, audit_record
from customers.models import (
    ContactPlan,
    Customer,
    CustomerCategory,
    CustomerClass,
    DueContact,
    GradeChange,
    IndustryCategory,
    ManagingLevel,
    OwnershipTransfer,
    Segment,
    SegmentMembership,
    Visit,
)
from customers.segment_rules import compile_rules, today_in_shanghai, validate_rules
from customers.services.due_contacts import due_contact_close

logger = logging.getLogger(__name__)

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
GRADE_FIELDS = ("customer_class", "managing_level", "industry_category", "customer_category")
# A next contact further out than the longest contact plan is a typo, not a plan.
MAX_NEXT_CONTACT_DAYS = 730


class DecisionForbidden(DomainError):
    """The actor may not decide this proposal (four eyes, or head-office authority)."""

    status_code = 403


def _require(actor: User, permission: str) -> None:
    # The pages and the API check first; this keeps any other caller (a shell, a later app's
    # service) to the same roles.
    if not actor.has_perm(permission):
        raise PermissionDenied


def _required_text(value: str, *, field: str, max_length: int, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field, code="required")
    if len(value) > max_length:
        raise DomainError(
            _("At most %(count)s characters.") % {"count": max_length}, field=field, code="too_long"
        )
    return value


# --- segments --------------------------------------------------------------------------------


def _segment_texts(*, name: str, name_en: str, description: str) -> tuple[str, str, str]:
    name = _required_text(name, field="name", max_length=100, message=_("Give the segment a name."))
    name_en = (name_en or "").strip()
    if len(name_en) > 100:
        raise DomainError(
            _("At most %(count)s characters.") % {"count": 100}, field="name_en", code="too_long"
        )
    return name, name_en, (description or "").strip()


@transaction.atomic
def segment_create(
    *,
    actor: User,
    code: str,
    name: str,
    rules: list,
    name_en: str = "",
    description: str = "",
    is_active: bool = True,
) -> Segment:
    _require(actor, "customers.manage_segments")
    code = (code or "").strip()
    if not _SLUG.match(code) or len(code) > 40:
        raise DomainError(
            _("A code has up to 40 letters, digits, hyphens or underscores."),
            field="code",
            code="invalid",
        )
    name, name_en, description = _segment_texts(name=name, name_en=name_en, description=description)
    rules = validate_rules(rules)
    if Segment.objects.filter(code=code).exists():
        raise DomainError(
            _("The code %(code)s is already used.") % {"code": code}, field="code", code="taken"
        )
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                code=code,
                name=name,
                name_en=name_en,
                description=description,
                rules=rules,
                is_active=is_active,
                created_by=actor,
            )
    except IntegrityError:
        # Another manager created the same code between our check and our insert.
        raise DomainError(
            _("The code %(code)s is already used.") % {"code": code}, field="code", code="taken"
        ) from None
    audit_record(
        actor=actor,
        action="segment.create",
        obj=segment,
        to_state="active" if is_active else "inactive",
        data={"code": code, "rules": rules},
    )
    if is_active:
        segment_recompute(segment=segment, actor=actor)
        segment.refresh_from_db(fields=["member_count", "computed_at"])
    return segment


@transaction.atomic
def segment_update(
    *,
    actor: User,
    segment: Segment,
    name: str | None = None,
    name_en: str | None = None,
    description: str | None = None,
    rules: list | None = None,
    is_active: bool | None = None,
) -> Segment:
    """Changes what is given. New rules or re-activation recompute the members at once, so the
    members shown never belong to rules that no longer exist; deactivation empties the segment."""
    _require(actor, "customers.manage_segments")
    locked = Segment.objects.select_for_update().get(pk=segment.pk)
    new_name, new_name_en, new_description = _segment_texts(
        name=locked.name if name is None else name,
        name_en=locked.name_en if name_en is None else name_en,
        description=locked.description if description is None else description,
    )
    new_rules = locked.rules if rules is None else validate_rules(rules)
    new_active = locked.is_active if is_active is None else is_active
    changed = {
        field: (getattr(locked, field), value)
        for field, value in (
            ("name", new_name),
            ("name_en", new_name_en),
            ("description", new_description),
            ("rules", new_rules),
            ("is_active", new_active),
        )
        if getattr(locked, field) != value
    }
    if not changed:
        return locked
    was_active = locked.is_active
    for field, (_old, value) in changed.items():
        setattr(locked, field, value)
    locked.save(update_fields=list(changed))
    audit_record(
        actor=actor,
        action="segment.update",
        obj=locked,
        from_state="active" if was_active else "inactive",
        to_state="active" if new_active else "inactive",
        data={"changed": sorted(changed), "rules": new_rules},
    )
    if not new_active and was_active:
        SegmentMembership.objects.filter(segment=locked).delete()
        locked.member_count = 0
        locked.computed_at = timezone.now()
        locked.save(update_fields=["member_count", "computed_at"])
    elif new_active and ("rules" in changed or not was_active):
        segment_recompute(segment=locked, actor=actor)
        locked.refresh_from_db(fields=["member_count", "computed_at"])
    return locked


@transaction.atomic
def segment_recompute(*, segment: Segment, actor: User | None = None) -> int:
    """Replace the segment's members with the customers its rules select today; the new count.

    Set-based: one DELETE and one ``INSERT … SELECT`` whose SELECT is the compiled rules' own SQL,
    so the work is the database's whatever the number of customers. The segment row is locked
    first, so two recomputes (the nightly sweep and a "recompute now") run one after the other
    instead of interleaving their DELETE and INSERT.
    """
    locked = Segment.objects.select_for_update().get(pk=segment.pk)
    if not locked.is_active:
        raise ConflictError(
            _("The segment %(name)s is inactive; activate it first.") % {"name": locked.name},
            code="inactive",
        )
    condition = compile_rules(locked.rules, on=today_in_shanghai())
    select_sql, select_params = (
        Customer.objects.filter(condition).order_by().values("id").query.sql_with_params()
    )
    now = timezone.now()
    table = connection.ops.quote_name(SegmentMembership._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE segment_id = %s", [locked.pk])  # noqa: S608
        # The SELECT is the ORM's compiled query with its parameters kept separate; the only
        # text spliced in is our own table name.
        cursor.execute(
            f"INSERT INTO {table} (segment_id, customer_id, computed_at) "  # noqa: S608
            f"SELECT %s, selected.id, %s FROM ({select_sql}) AS selected",
            [locked.pk, now, *select_params],
        )
        count = cursor.rowcount
    previous = locked.member_count
    locked.member_count = count
    locked.computed_at = now
    locked.save(update_fields=["member_count", "computed_at"])
    audit_record(
        actor=actor,
        action="segment.recompute",
        obj=locked,
        from_state=str(previous),
        to_state=str(count),
    )
    return count


def segments_recompute_all() -> dict[str, int]:
    """Recompute every active segment, each in its own transaction; ``{code: members}``.

    One broken segment (rules that no longer validate, e.g. a closed branch) must not stop the
    others: it is logged and left as it was.
    """
    results: dict[str, int] = {}
    for segment in Segment.objects.filter(is_active=True).order_by("code"):
        try:
            results[segment.code] = segment_recompute(segment=segment)
        except DomainError as exc:
            logger.warning("segment %s not recomputed: %s", segment.code, exc.code)
    return results


# --- contact plans ---------------------------------------------------------------------------


def _plan_fields(
    *, name: str, segment: Segment | None, customer_class: str, interval_days: int
) -> tuple[str, Segment | None, str, int]:
    name = _required_text(name, field="name", max_length=100, message=_("Give the plan a name."))
    customer_class = customer_class or ""
    if (segment is None) == (not customer_class):
        raise DomainError(
            _("A contact plan applies to either a segment or a customer class, not both."),
            field="segment",
            code="target",
        )
    if customer_class and customer_class not in CustomerClass.values:
        raise DomainError(_("Unknown customer class."), field="customer_class", code="invalid")
    if isinstance(interval_days, bool) or not isinstance(interval_days, int):
        raise DomainError(_("Give a whole number of days."), field="interval_days")
    if not 1 <= interval_days <= 730:
        raise DomainError(
            _("The interval is between 1 and 730 days."), field="interval_days", code="range"
        )
    return name, segment, customer_class, interval_days


@transaction.atomic
def contact_plan_create(
    *,
    actor: User,
    name: str,
    interval_days: int,
    segment: Segment | None = None,
    customer_class: str = "",
    is_active: bool = True,
) -> ContactPlan:
    _require(actor, "customers.manage_segments")
    name, segment, customer_class, interval_days = _plan_fields(
        name=name, segment=segment, customer_class=customer_class, interval_days=interval_days
    )
    plan = ContactPlan.objects.create(
        name=name,
        segment=segment,
        customer_class=customer_class,
        interval_days=interval_days,
        is_active=is_active,
    )
    audit_record(
        actor=actor,
        action="contact_plan.create",
        obj=plan,
        to_state="active" if is_active else "inactive",
        data={"interval_days": interval_days},
    )
    return plan


_KEEP = object()


@transaction.atomic
def contact_plan_update(
    *,
    actor: User,
    plan: ContactPlan,
    name: str | None = None,
    interval_days: int | None = None,
    segment: Segment | None | object = _KEEP,
    customer_class: str | None = None,
    is_active: bool | None = None,
) -> ContactPlan:
    """Changes what is given (``segment=None`` clears the segment); ``is_active=False`` is how a
    plan is retired — plans are never deleted, so past due lists stay explainable."""
    _require(actor, "customers.manage_segments")
    locked = ContactPlan.objects.select_for_update().get(pk=plan.pk)
    name, segment, customer_class, interval_days = _plan_fields(
        name=locked.name if name is None else name,
        segment=locked.segment if segment is _KEEP else segment,
        customer_class=locked.customer_class if customer_class is None else customer_class,
        interval_days=locked.interval_days if interval_days is None else interval_days,
    )
    new_active = locked.is_active if is_active is None else is_active
    values = {
        "name": name,
        "segment": segment,
        "customer_class": customer_class,
        "interval_days": interval_days,
        "is_active": new_active,
    }
    changed = [field for field, value in values.items() if getattr(locked, field) != value]
    if not changed:
        return locked
    was_active = locked.is_active
    for field in changed:
        setattr(locked, field, values[field])
    locked.save(update_fields=changed)
    audit_record(
        actor=actor,
        action="contact_plan.update",
        obj=locked,
        from_state="active" if was_active else "inactive",
        to_state="active" if new_active else "inactive",
        data={"changed": changed, "interval_days": interval_days},
    )
    return locked


# --- visits ----------------------------------------------------------------------------------


@transaction.atomic
def visit_record(
    *,
    actor: User,
    customer: Customer,
    visited_on: date,
    channel: str,
    outcome: str,
    notes: str = "",
    next_step: str = "",
    next_contact_on: date | None = None,
) -> Visit:
    _require(actor, "customers.add_visit")
    today = today_in_shanghai()
    if not isinstance(visited_on, date):
        raise DomainError(_("Give the date of the visit."), field="visited_on", code="required")
    if visited_on > today:
        raise DomainError(_("A visit cannot be in the future."), field="visited_on", code="future")
    if channel not in Visit.Channel.values:
        raise DomainError(_("Choose how the customer was contacted."), field="channel")
    if outcome not in Visit.Outcome.values:
        raise DomainError(_("Choose the outcome of the visit."), field="outcome")
    next_step = (next_step or "").strip()
    if len(next_step) > 200:
        raise DomainError(
            _("At most %(count)s characters.") % {"count": 200}, field="next_step", code="too_long"
        )
    if next_contact_on is not None:
        if next_contact_on <= visited_on:
            raise DomainError(
                _("The next contact must be after the visit."),
                field="next_contact_on",
                code="not_after_visit",
            )
        if next_contact_on > visited_on + timedelta(days=MAX_NEXT_CONTACT_DAYS):
            raise DomainError(
                _("The next contact must be within two years of the visit."),
                field="next_contact_on",
                code="too_far",
            )
    visit = Visit.objects.create(
        customer=customer,
        staff=actor,
        visited_on=visited_on,
        channel=channel,
        outcome=outcome,
        notes=(notes or "").strip(),
        next_step=next_step,
        next_contact_on=next_contact_on,
    )
    audit_record(
        actor=actor,
        action="visit.record",
        obj=visit,
        to_state=outcome,
        data={"customer_id": customer.pk, "channel": channel, "visited_on": str(visited_on)},
    )
    # The visit fulfils the customer's open due contact (at most one, by constraint) in the same
    # transaction, so the workbench and the due list are right at once, not after the nightly sweep.
    due = (
        DueContact.objects.select_for_update()
        .filter(customer=customer, status=DueContact.Status.OPEN, due_on__lte=visited_on)
        .first()
    )
    if due is not None:
        due_contact_close(due=due, actor=actor, visit=visit, channel=channel)
    return visit


# --- grading ---------------------------------------------------------------------------------


def _grade_of(customer: Customer) -> dict[str, str]:
    return {field: getattr(customer, field) for field in GRADE_FIELDS}


def _check_grade_values(values: dict[str, str]) -> None:
    allowed = {
        "customer_class": CustomerClass.values,
        "managing_level": ManagingLevel.values,
        "industry_category": IndustryCategory.values,
        "customer_category": CustomerCategory.values,
    }
    for field, value in values.items():
        if value not in allowed[field]:
            raise DomainError(_("Choose one of the listed values."), field=f"new_{field}")


@transaction.atomic
def grade_change_propose(
    *,
    actor: User,
    customer: Customer,
    new_customer_class: str,
    new_managing_level: str,
    new_industry_category: str,
    new_customer_category: str,
    reason: str,
) -> GradeChange:
    _require(actor, "customers.propose_grade")
    new = {
        "customer_class": new_customer_class,
        "managing_level": new_managing_level,
        "industry_category": new_industry_category,
        "customer_category": new_customer_category,
    }
    _check_grade_values(new)
    reason = _required_text(
        reason, field="reason", max_length=2000, message=_("Give the reason for the change.")
    )
    # Locked so that the old values captured here are the ones an approval running now leaves.
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    old = _grade_of(locked)
    if old == new:
        raise DomainError(
            _("The proposal changes nothing: every value is the current one."),
            field="new_customer_class",
            code="unchanged",
        )
    open_message = _("This customer already has a grade change awaiting approval.")
    if GradeChange.objects.filter(customer=locked, status=GradeChange.Status.PROPOSED).exists():
        raise DomainError(open_message, code="open_proposal")
    try:
        with transaction.atomic():
            change = GradeChange.objects.create(
                customer=locked,
                **{f"old_{field}": value for field, value in old.items()},
                **{f"new_{field}": value for field, value in new.items()},
                reason=reason,
                proposed_by=actor,
            )
    except IntegrityError:
        # The partial unique index lost a race with a concurrent proposal for the same customer.
        raise DomainError(open_message, code="open_proposal") from None
    audit_record(
        actor=actor,
        action="grade_change.propose",
        obj=change,
        to_state=GradeChange.Status.PROPOSED,
        comment=reason,
        data={"customer_id": locked.pk, "old": old, "new": new},
    )
    return change


def grade_decision_refusal(*, actor: User, change: GradeChange) -> DecisionForbidden | None:
    """Why ``actor`` may not decide ``change`` (four eyes, head-office authority), or ``None``.

    Pages use it to explain a missing button; the services raise it. ``change.customer`` is read
    as loaded: the services pass the locked row.
    """
    if change.proposed_by_id == actor.pk:
        return DecisionForbidden(
            _("You proposed this change; another approver must decide it."), code="four_eyes"
        )
    head_office_managed = ManagingLevel.HEAD_OFFICE in (
        change.customer.managing_level,
        change.new_managing_level,
    )
    if head_office_managed and not (sees_whole_bank(actor) and has_role(actor, Role.MANAGEMENT)):
        return DecisionForbidden(
            _("Customers managed by head office are graded by head-office management."),
            code="head_office_only",
        )
    return None


def _check_decider(actor: User, change: GradeChange) -> None:
    _require(actor, "customers.approve_grade")
    refusal = grade_decision_refusal(actor=actor, change=change)
    if refusal is not None:
        raise refusal


def _lock_open_change(change: GradeChange) -> tuple[GradeChange, Customer]:
    # Customer first, then the proposal: the same order as proposing, so the two cannot deadlock.
    customer = Customer.objects.select_for_update().get(pk=change.customer_id)
    locked = GradeChange.objects.select_for_update().get(pk=change.pk)
    locked.customer = customer
    if locked.status != GradeChange.Status.PROPOSED:
        raise ConflictError(
            _("This proposal was already decided (%(status)s).")
            % {"status": locked.get_status_display()},
            code="decided",
        )
    return locked, customer


@transaction.atomic
def grade_change_approve(*, actor: User, change: GradeChange, comment: str = "") -> GradeChange:
    locked, customer = _lock_open_change(change)
    _check_decider(actor, locked)
    old = {field: getattr(locked, f"old_{field}") for field in GRADE_FIELDS}
    if _grade_of(customer) != old:
        raise ConflictError(
            _(
                "The customer's grade changed after this proposal was made; reject it and "
                "propose again from the current grade."
            ),
            code="stale",
        )
    new = {field: getattr(locked, f"new_{field}") for field in GRADE_FIELDS}
    for field, value in new.items():
        setattr(customer, field, value)
    customer.save(update_fields=[*GRADE_FIELDS, "updated_at"])
    locked.status = GradeChange.Status.APPROVED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_comment = (comment or "").strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    audit_record(
        actor=actor,
        action="grade_change.approve",
        obj=locked,
        from_state=GradeChange.Status.PROPOSED,
        to_state=GradeChange.Status.APPROVED,
        comment=locked.decision_comment,
        data={"customer_id": customer.pk},
    )
    audit_record(
        actor=actor,
        action="customer.grade",
        obj=customer,
        from_state=old["customer_class"],
        to_state=new["customer_class"],
        comment=locked.decision_comment,
        data={"grade_change_id": locked.pk, "old": old, "new": new},
    )
    return locked


@transaction.atomic
def grade_change_reject(*, actor: User, change: GradeChange, comment: str) -> GradeChange:
    """Rejection is a decision like approval: same authority, and the proposer may not decide."""
    comment = _required_text(
        comment, field="comment", max_length=2000, message=_("Say why the proposal is rejected.")
    )
    locked, customer = _lock_open_change(change)
    _check_decider(actor, locked)
    locked.status = GradeChange.Status.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_comment = comment
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    audit_record(
        actor=actor,
        action="grade_change.reject",
        obj=locked,
        from_state=GradeChange.Status.PROPOSED,
        to_state=GradeChange.Status.REJECTED,
        comment=comment,
        data={"customer_id": customer.pk},
    )
    return locked


# --- ownership (归口管理) --------------------------------------------------------------------


def _check_manager(user: User, customer: Customer, *, field: str) -> None:
    if (
        not user.is_active
        or not has_role(user, Role.ACCOUNT_MANAGER)
        or not user.org_unit.path.startswith(customer.branch.path)
    ):
        raise DomainError(
            _("Choose an active account manager of the customer's branch."),
            field=field,
            code="not_eligible",
        )


@transaction.atomic
def customer_transfer(
    *,
    actor: User,
    customer: Customer,
    to_owner: User,
    to_b_manager: User | None = None,
    reason: str,
) -> OwnershipTransfer:
    """Hand the customer to another owning account manager (and B-role manager), with history."""
    _require(actor, "customers.transfer_customer")
    reason = _required_text(
        reason, field="reason", max_length=200, message=_("Give the reason for the transfer.")
    )
    locked = Customer.objects.select_for_update().select_related("branch").get(pk=customer.pk)
    _check_manager(to_owner, locked, field="to_owner")
    if to_b_manager is not None:
        if to_b_manager.pk == to_owner.pk:
            raise DomainError(
                _("The B-role manager must be someone other than the owner."),
                field="to_b_manager",
                code="same_as_owner",
            )
        _check_manager(to_b_manager, locked, field="to_b_manager")
    to_b_id = to_b_manager.pk if to_b_manager is not None else None
    if locked.owner_id == to_owner.pk and locked.b_manager_id == to_b_id:
        raise DomainError(
            _("The customer already has these account managers."), field="to_owner", code="same"
        )
    transfer = OwnershipTransfer.objects.create(
        customer=locked,
        from_owner_id=locked.owner_id,
        to_owner=to_owner,
        from_b_manager_id=locked.b_manager_id,
        to_b_manager=to_b_manager,
        reason=reason,
        transferred_by=actor,
    )
    from_owner_id, from_b_id = locked.owner_id, locked.b_manager_id
    locked.owner = to_owner
    locked.b_manager = to_b_manager
    locked.save(update_fields=["owner", "b_manager", "updated_at"])
    audit_record(
        actor=actor,
        action="customer.transfer",
        obj=locked,
        from_state=str(from_owner_id),
        to_state=str(to_owner.pk),
        comment=reason,
        data={
            "transfer_id": transfer.pk,
            "from_b_manager": from_b_id,
            "to_b_manager": to_b_id,
        },
    )
    return transfer
