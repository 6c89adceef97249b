"""Post-loan inspections (贷后检查) and early warnings (预警): every write.

The rule (seed 003) is ``InspectionRule``. The first inspection is planned inside the
disbursement's transaction (``inspection_plan_first``, called lazily by
``loans.services.disbursement.loan_disburse``); completing one plans the next routine one in the
same transaction; a "risk" conclusion raises an early warning in the same transaction.

``inspections_plan`` and ``inspections_sweep`` are the beat's set-based catch-up: one SQL
statement per step over all loans, compare-and-set updates and inserts that the partial unique
indexes make idempotent (``ON CONFLICT DO NOTHING``), each step writing its audit rows in the
same statement. Running either twice, or from two beats at once, changes nothing the second time.
"""

# The SQL below is assembled from constant fragments only; every value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from coop.models import OrgUnit, User
from coop.services import ConflictError, DomainError, audit_record
from loans.models import Classification, Loan
from risk.models import (
    OPEN_INSPECTION_STATES,
    Conclusion,
    EarlyWarning,
    FundsUse,
    Inspection,
    InspectionAttachment,
    InspectionKind,
    InspectionRule,
    InspectionStatus,
    RiskSignal,
)

LIVE_LOAN_STATES = (Loan.State.ACTIVE, Loan.State.OVERDUE)
MAX_TEXT = 4000
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")


def require_perm(actor, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(perm)


def inspection_rule() -> InspectionRule:
    """The rule row (the migration installs it; a database emptied by hand gets it back)."""
    rule = InspectionRule.objects.order_by("pk").first()
    if rule is None:
        rule = InspectionRule.objects.create()
    return rule


RULE_FIELDS = (
    "amount_threshold",
    "first_months_small",
    "first_days_large",
    "routine_months",
    "overdue_days_for_ad_hoc",
    "ad_hoc_due_days",
    "branch_grace_days",
    "head_office_grace_days",
)


@transaction.atomic
def inspection_rule_update(*, actor: User, **values) -> InspectionRule:
    """Head office changes the inspection rule. New values plan the inspections created from now
    on (first inspections of new disbursements, the next routine one after each completion, the
    ad-hoc ones) and the sweep's escalation days at its next run; inspections already planned
    keep their due dates. One audit row with the values before and after."""
    from coop.scoping import sees_whole_bank

    if not actor.has_perm("risk.manage_routing") or not sees_whole_bank(actor):
        raise PermissionDenied("risk.manage_routing")
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown rule field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    threshold = values.get("amount_threshold")
    if threshold is not None:
        if not isinstance(threshold, Decimal) or threshold <= 0:
            raise DomainError(
                _("The amount threshold is a positive amount."), field="amount_threshold"
            )
        values["amount_threshold"] = threshold.quantize(Decimal("0.01"))
    for name, value in values.items():
        if name == "amount_threshold":
            continue
        minimum = 0 if name == "overdue_days_for_ad_hoc" else 1
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 3650:
            raise DomainError(
                _("Enter a whole number from %(min)d to 3650.") % {"min": minimum}, field=name
            )
    rule = InspectionRule.objects.select_for_update().get(pk=inspection_rule().pk)
    before = {name: getattr(rule, name) for name in RULE_FIELDS}
    after = {**before, **values}
    if after["head_office_grace_days"] <= after["branch_grace_days"]:
        raise DomainError(
            _("Head-office risk is told later than the branch manager: more days."),
            field="head_office_grace_days",
        )
    changed = {name for name in RULE_FIELDS if after[name] != before[name]}
    if not changed:
        return rule
    for name in changed:
        setattr(rule, name, after[name])
    rule.save()
    audit_record(
        actor=actor,
        action="inspection_rule.update",
        obj=rule,
        data={
            "before": {name: str(before[name]) for name in sorted(changed)},
            "after": {name: str(after[name]) for name in sorted(changed)},
        },
    )
    return rule


def add_months(day: date, months: int) -> date:
    """Calendar months with the day clamped to the month's end, like PostgreSQL's
    ``date + interval 'n months'`` (2025-01-31 + 1 → 2025-02-28)."""
    return day + relativedelta(months=months)


def first_due_on(*, rule: InspectionRule, principal: Decimal, disbursed_on: date) -> date:
    if principal <= rule.amount_threshold:
        return add_months(disbursed_on, rule.first_months_small)
    return disbursed_on + timedelta(days=rule.first_days_large)


def routine_due_on(*, rule: InspectionRule, completed_on: date) -> date:
    return add_months(completed_on, rule.routine_months)


def _assignee_id(loan: Loan) -> int:
    # The customer's owning account manager at planning time (a transferred customer's next
    # inspection goes to the new owner); the loan's own manager when the file has no owner.
    owner_id = loan.customer.owner_id if loan.customer_id else None
    return owner_id or loan.account_manager_id


def _create(*, actor: User | None, loan: Loan, kind: str, reason: str, due_on: date) -> Inspection:
    try:
        with transaction.atomic():
            inspection = Inspection.objects.create(
                loan=loan,
                customer_id=loan.customer_id,
                branch_id=loan.branch_id,
                kind=kind,
                reason=reason,
                due_on=due_on,
                assigned_to_id=_assignee_id(loan),
            )
    except IntegrityError:
        raise ConflictError(
            _("This loan already has an open inspection of this kind."), code="open_inspection"
        ) from None
    audit_record(
        actor=actor,
        action="inspection.plan",
        obj=inspection,
        to_state=inspection.status,
        data={"loan": loan.pk, "kind": kind, "due_on": str(due_on), "reason": reason},
    )
    return inspection


def inspection_plan_first(*, actor: User | None, loan: Loan) -> Inspection:
    """The first inspection of a loan just disbursed. Runs inside ``loan_disburse``'s
    transaction, so a disbursement that fails plans nothing and one that commits always has it."""
    rule = inspection_rule()
    due_on = first_due_on(rule=rule, principal=loan.principal, disbursed_on=loan.disbursed_on)
    return _create(
        actor=actor,
        loan=Loan.objects.select_related("customer").get(pk=loan.pk),
        kind=InspectionKind.FIRST,
        reason=Inspection.Reason.SCHEDULE,
        due_on=due_on,
    )


# --- completing an inspection -------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionFindings:
    funds_use: str
    conclusion: str
    funds_use_note: str = ""
    operation_note: str = ""
    guarantor_note: str = ""
    collateral_note: str = ""
    signals: tuple[str, ...] = ()
    next_action: str = ""


def _clean_findings(findings: InspectionFindings) -> dict:
    if findings.funds_use not in FundsUse.values:
        raise DomainError(_("Choose how the funds were actually used."), field="funds_use")
    if findings.conclusion not in Conclusion.values:
        raise DomainError(_("Choose a conclusion."), field="conclusion")
    unknown = [code for code in findings.signals if code not in RiskSignal.values]
    if unknown:
        raise DomainError(
            _("Unknown risk signal: %(codes)s") % {"codes": ", ".join(unknown)}, field="signals"
        )
    texts = {
        name: (getattr(findings, name) or "").strip()[:MAX_TEXT]
        for name in (
            "funds_use_note",
            "operation_note",
            "guarantor_note",
            "collateral_note",
            "next_action",
        )
    }
    if findings.funds_use != FundsUse.MATCHES and not texts["funds_use_note"]:
        raise DomainError(
            _("Describe what the funds were used for instead."), field="funds_use_note"
        )
    if not texts["operation_note"]:
        raise DomainError(
            _("Describe the borrower's operation and income."), field="operation_note"
        )
    if findings.conclusion != Conclusion.NORMAL and not texts["next_action"]:
        raise DomainError(
            _("Give the next action when the conclusion is not normal."), field="next_action"
        )
    # Keep the checklist's own order, without duplicates, whatever order the form sent.
    signals = [code for code in RiskSignal.values if code in set(findings.signals)]
    return {
        **texts,
        "funds_use": findings.funds_use,
        "conclusion": findings.conclusion,
        "signals": signals,
    }


def _check_files(files: list[UploadedFile]) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise DomainError(
            _("Attach at most %(count)s files.") % {"count": MAX_ATTACHMENTS}, field="attachments"
        )
    for upload in files:
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise DomainError(
                _("%(name)s is larger than 10 MB.") % {"name": upload.name}, field="attachments"
            )
        if (upload.content_type or "").lower() not in ALLOWED_CONTENT_TYPES:
            raise DomainError(
                _("%(name)s is not a photo or PDF.") % {"name": upload.name}, field="attachments"
            )


@transaction.atomic
def inspection_complete(
    *,
    actor: User,
    inspection: Inspection,
    findings: InspectionFindings,
    attachments: list[UploadedFile] | None = None,
    inspected_on: date | None = None,
) -> Inspection:
    """Complete an open inspection with its findings and photos. In the same transaction: the
    next routine inspection (unless the loan is closed or this was an ad-hoc one) and, for a
    "risk" conclusion, the early warning. Bad input changes nothing.

    ``inspected_on`` is the day of the visit when it is recorded later (villages without a
    signal; default today in Asia/Shanghai). It decides on time / late and the next date; the
    audit row keeps both it and the time of entry.
    """
    require_perm(actor, "risk.complete_inspection")
    values = _clean_findings(findings)
    files = list(attachments or [])
    _check_files(files)
    now = timezone.now()
    today = timezone.localdate(now)
    visit = inspected_on or today
    if visit > today:
        raise DomainError(_("The inspection date cannot be in the future."), field="inspected_on")
    locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
    if not can_proceed(locked.complete):
        raise ConflictError(
            _("This inspection is already %(status)s.") % {"status": locked.get_status_display()},
            code="not_open",
        )
    disbursed_on = Loan.objects.filter(pk=locked.loan_id).values_list("disbursed_on", flat=True)[0]
    if disbursed_on and visit < disbursed_on:
        raise DomainError(
            _("The inspection date is before the disbursement (%(date)s).")
            % {"date": disbursed_on},
            field="inspected_on",
        )
    previous = locked.status
    for name, value in values.items():
        setattr(locked, name, value)
    locked.complete()
    locked.completed_at = now
    locked.completed_on = visit
    locked.on_time = locked.completed_on <= locked.due_on
    locked.completed_by = actor
    locked.save()
    for upload in files:
        InspectionAttachment.objects.create(
            inspection=locked,
            file=upload,
            original_name=(upload.name or "")[-200:],
            content_type=(upload.content_type or "").lower(),
            size=upload.size,
            uploaded_by=actor,
        )
    audit_record(
        actor=actor,
        action="inspection.complete",
        obj=locked,
        from_state=previous,
        to_state=locked.status,
        comment=values["next_action"],
        data={
            "inspected_on": str(visit),
            "on_time": locked.on_time,
            "conclusion": locked.conclusion,
            "signals": locked.signals,
            "attachments": len(files),
        },
    )
    loan = Loan.objects.select_related("customer").get(pk=locked.loan_id)
    if locked.kind != InspectionKind.AD_HOC and loan.state in LIVE_LOAN_STATES:
        _create(
            actor=actor,
            loan=loan,
            kind=InspectionKind.ROUTINE,
            reason=Inspection.Reason.SCHEDULE,
            due_on=routine_due_on(rule=inspection_rule(), completed_on=locked.completed_on),
        )
    if locked.conclusion == Conclusion.RISK:
        warning = EarlyWarning.objects.create(
            loan=loan,
            customer_id=locked.customer_id,
            branch_id=locked.branch_id,
            inspection=locked,
            signals=locked.signals,
            summary=values["next_action"],
            raised_at=now,
        )
        audit_record(
            actor=actor,
            action="early_warning.raise",
            obj=warning,
            to_state=warning.status,
            data={"inspection": locked.pk, "loan": loan.pk, "signals": warning.signals},
        )
    return locked


# --- early warnings -----------------------------------------------------------------------------


def _lock_warning(warning: EarlyWarning) -> EarlyWarning:
    return EarlyWarning.objects.select_for_update().get(pk=warning.pk)


@transaction.atomic
def early_warning_acknowledge(
    *, actor: User, warning: EarlyWarning, comment: str = ""
) -> EarlyWarning:
    require_perm(actor, "risk.handle_earlywarning")
    locked = _lock_warning(warning)
    if not can_proceed(locked.acknowledge):
        raise ConflictError(
            _("This warning is already %(status)s.") % {"status": locked.get_status_display()},
            code="state",
        )
    previous = locked.status
    locked.acknowledge()
    locked.acknowledged_by = actor
    locked.acknowledged_at = timezone.now()
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    audit_record(
        actor=actor,
        action="early_warning.acknowledge",
        obj=locked,
        from_state=previous,
        to_state=locked.status,
        comment=(comment or "").strip()[:MAX_TEXT],
    )
    return locked


@transaction.atomic
def early_warning_close(*, actor: User, warning: EarlyWarning, comment: str) -> EarlyWarning:
    require_perm(actor, "risk.handle_earlywarning")
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Say how the warning was resolved."), field="comment")
    locked = _lock_warning(warning)
    if not can_proceed(locked.close):
        raise ConflictError(_("This warning is already closed."), code="state")
    previous = locked.status
    now = timezone.now()
    locked.close()
    if locked.acknowledged_at is None:
        locked.acknowledged_by, locked.acknowledged_at = actor, now
    locked.closed_by = actor
    locked.closed_at = now
    locked.close_comment = comment[:MAX_TEXT]
    locked.save(
        update_fields=[
            "status",
            "acknowledged_by",
            "acknowledged_at",
            "closed_by",
            "closed_at",
            "close_comment",
        ]
    )
    audit_record(
        actor=actor,
        action="early_warning.close",
        obj=locked,
        from_state=previous,
        to_state=locked.status,
        comment=locked.close_comment,
    )
    return locked


def _acknowledge_on_action(actor: User, locked: EarlyWarning, now: datetime) -> str:
    """Acting on an open warning acknowledges it; returns the state it had."""
    previous = locked.status
    if can_proceed(locked.acknowledge):
        locked.acknowledge()
        locked.acknowledged_by, locked.acknowledged_at = actor, now
    return previous


@transaction.atomic
def early_warning_review(
    *, actor: User, warning: EarlyWarning, to_class: str, reason: str
) -> EarlyWarning:
    """Turn the warning into a classification review: a proposal through loans' override
    service, which a second person (branch manager or management) approves or rejects there."""
    require_perm(actor, "risk.handle_earlywarning")
    from loans.services.classification import classification_override_propose

    locked = _lock_warning(warning)
    if locked.is_closed:
        raise ConflictError(_("This warning is already closed."), code="state")
    if locked.classification_review_id:
        raise ConflictError(
            _("A classification review was already opened from this warning."), code="exists"
        )
    if to_class not in Classification.values:
        raise DomainError(_("Choose a classification."), field="to_class")
    proposal = classification_override_propose(
        actor=actor, loan=Loan(pk=locked.loan_id), to_class=to_class, reason=reason
    )
    previous = _acknowledge_on_action(actor, locked, timezone.now())
    locked.classification_review = proposal
    locked.save(
        update_fields=["status", "acknowledged_by", "acknowledged_at", "classification_review"]
    )
    audit_record(
        actor=actor,
        action="early_warning.review",
        obj=locked,
        from_state=previous,
        to_state=locked.status,
        comment=proposal.reason,
        data={"classification_override": proposal.pk, "to_class": to_class},
    )
    return locked


@transaction.atomic
def early_warning_order_inspection(
    *, actor: User, warning: EarlyWarning, due_on: date | None = None
) -> EarlyWarning:
    """An ad-hoc inspection of the warned loan, for its account manager."""
    require_perm(actor, "risk.handle_earlywarning")
    locked = _lock_warning(warning)
    if locked.is_closed:
        raise ConflictError(_("This warning is already closed."), code="state")
    if locked.ad_hoc_inspection_id:
        raise ConflictError(
            _("An ad-hoc inspection was already ordered from this warning."), code="exists"
        )
    today = timezone.localdate()
    due_on = due_on or today + timedelta(days=inspection_rule().ad_hoc_due_days)
    if due_on < today:
        raise DomainError(_("The due date cannot be in the past."), field="due_on")
    loan = Loan.objects.select_related("customer").get(pk=locked.loan_id)
    if loan.state not in LIVE_LOAN_STATES:
        raise ConflictError(_("The loan is closed; nothing to inspect."), code="loan_closed")
    inspection = _create(
        actor=actor,
        loan=loan,
        kind=InspectionKind.AD_HOC,
        reason=Inspection.Reason.EARLY_WARNING,
        due_on=due_on,
    )
    previous = _acknowledge_on_action(actor, locked, timezone.now())
    locked.ad_hoc_inspection = inspection
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "ad_hoc_inspection"])
    audit_record(
        actor=actor,
        action="early_warning.order_inspection",
        obj=locked,
        from_state=previous,
        to_state=locked.status,
        data={"inspection": inspection.pk, "due_on": str(due_on)},
    )
    return locked


# --- set-based planning and sweeps --------------------------------------------------------------

# Columns every planned row needs (the form's fields start empty).
_NEW_ROW_COLUMNS = """
    loan_id, customer_id, branch_id, kind, reason, status, due_on, assigned_to_id,
    escalation_level, created_at, funds_use, funds_use_note, operation_note, guarantor_note,
    collateral_note, signals, conclusion, next_action
"""
_NEW_ROW_EMPTY = "0, %(now)s, '', '', '', '', '', '{}', '', ''"

_AUDIT_INSERT = """
INSERT INTO coop_auditevent
       (occurred_at, actor_id, action, object_type, object_id, from_state, to_state, comment, data)
"""

# The first inspection of every live loan that has none, and the next routine one of every live
# loan whose scheduled inspections are all completed. The candidates go to a temporary table
# first: read in full before the INSERT starts, the anti-joins never re-scan the rows the INSERT
# is adding (a CTE would be pulled row by row, interleaved with the inserts). Month arithmetic
# is PostgreSQL's interval, which clamps to the month's end exactly like ``add_months``.
_PLAN_CANDIDATES_SQL = """
    SELECT l.id AS loan_id, l.customer_id, l.branch_id, 'first' AS kind,
           CASE WHEN l.principal <= %(threshold)s
                THEN (l.disbursed_on + make_interval(months => %(first_months)s))::date
                ELSE l.disbursed_on + %(first_days)s
           END AS due_on,
           COALESCE(c.owner_id, l.account_manager_id) AS assigned_to_id
      FROM loans_loan AS l
      JOIN customers_customer AS c ON c.id = l.customer_id
     WHERE l.state IN ('active', 'overdue')
       AND l.disbursed_on <= %(today)s
       AND NOT EXISTS (
           SELECT 1 FROM risk_inspection AS i WHERE i.loan_id = l.id AND i.kind = 'first')
    UNION ALL
    SELECT l.id, l.customer_id, l.branch_id, 'routine',
           (last.completed_on + make_interval(months => %(routine_months)s))::date,
           COALESCE(c.owner_id, l.account_manager_id)
      FROM loans_loan AS l
      JOIN customers_customer AS c ON c.id = l.customer_id
      JOIN LATERAL (
           SELECT MAX(i.completed_on) AS completed_on
             FROM risk_inspection AS i
            WHERE i.loan_id = l.id AND i.kind IN ('first', 'routine')
              AND i.status = 'completed'
      ) AS last ON last.completed_on IS NOT NULL
     WHERE l.state IN ('active', 'overdue')
       AND NOT EXISTS (
           SELECT 1 FROM risk_inspection AS i
            WHERE i.loan_id = l.id AND i.kind IN ('first', 'routine')
              AND i.status IN ('due', 'overdue'))
"""

_PLAN_SQL = f"""
WITH created AS (
    INSERT INTO risk_inspection ({_NEW_ROW_COLUMNS})
    SELECT loan_id, customer_id, branch_id, kind, 'schedule', 'due', due_on, assigned_to_id,
           {_NEW_ROW_EMPTY}
      FROM inspection_candidates
    ON CONFLICT DO NOTHING
    RETURNING id, kind, due_on
),
audited AS (
    {_AUDIT_INSERT}
    SELECT %(now)s, NULL, 'inspection.plan', 'risk.inspection', id::text, '', 'due',
           %(comment)s, jsonb_build_object('kind', kind, 'due_on', due_on::text)
      FROM created
)
SELECT kind, COUNT(*) FROM created GROUP BY kind
"""

_CANCEL_SQL = f"""
WITH closed AS (
    SELECT i.id, i.status AS old_status
      FROM risk_inspection AS i
      JOIN loans_loan AS l ON l.id = i.loan_id
     WHERE i.status IN ('due', 'overdue') AND l.state IN ('settled', 'written_off')
),
cancelled AS (
    UPDATE risk_inspection AS i SET status = 'cancelled'
      FROM closed
     WHERE i.id = closed.id AND i.status IN ('due', 'overdue')
    RETURNING i.id, closed.old_status
),
audited AS (
    {_AUDIT_INSERT}
    SELECT %(now)s, NULL, 'inspection.cancel', 'risk.inspection', id::text, old_status,
           'cancelled', %(comment)s, '{{}}'::jsonb
      FROM cancelled
)
SELECT COUNT(*) FROM cancelled
"""

_OVERDUE_SQL = f"""
WITH marked AS (
    UPDATE risk_inspection SET status = 'overdue'
     WHERE status = 'due' AND due_on < %(today)s
    RETURNING id
),
audited AS (
    {_AUDIT_INSERT}
    SELECT %(now)s, NULL, 'inspection.mark_overdue', 'risk.inspection', id::text, 'due',
           'overdue', %(comment)s, '{{}}'::jsonb
      FROM marked
)
SELECT COUNT(*) FROM marked
"""

# Level 1 (the account manager) as soon as it is overdue; 2 (the branch) after the branch grace
# period; 3 (head-office risk) after the longer one. The notice table's unique (inspection,
# level) makes every level happen once; the inspection shows the highest level reached.
_NOTICES_SQL = f"""
WITH due AS (
    SELECT i.id, i.assigned_to_id, i.branch_id, %(today)s::date - i.due_on AS days
      FROM risk_inspection AS i
     WHERE i.status = 'overdue'
),
levels AS (
    SELECT id, 1 AS level, assigned_to_id AS recipient_id, branch_id AS org_unit_id, days
      FROM due
    UNION ALL
    SELECT id, 2, NULL, branch_id, days FROM due WHERE days >= %(branch_grace)s
    UNION ALL
    SELECT id, 3, NULL, %(head_office)s, days FROM due WHERE days >= %(head_office_grace)s
),
created AS (
    INSERT INTO risk_inspectionnotice
           (inspection_id, level, recipient_id, org_unit_id, days_overdue, created_at)
    SELECT id, level, recipient_id, org_unit_id, days, %(now)s FROM levels
    ON CONFLICT DO NOTHING
    RETURNING inspection_id, level
),
audited AS (
    {_AUDIT_INSERT}
    SELECT %(now)s, NULL, 'inspection.escalate', 'risk.inspection', inspection_id::text,
           '', level::text, %(comment)s, jsonb_build_object('level', level)
      FROM created
)
SELECT level, COUNT(*) FROM created GROUP BY level
"""

# The level shown on the inspection follows the same thresholds as the notices; a single-table
# compare-and-set (no join), so it stays one pass over the open rows whatever the table's size.
_ESCALATION_SQL = """
UPDATE risk_inspection
   SET escalation_level = CASE WHEN %(today)s::date - due_on >= %(head_office_grace)s THEN 3
                               WHEN %(today)s::date - due_on >= %(branch_grace)s THEN 2
                               ELSE 1 END
 WHERE status = 'overdue'
   AND escalation_level < CASE WHEN %(today)s::date - due_on >= %(head_office_grace)s THEN 3
                               WHEN %(today)s::date - due_on >= %(branch_grace)s THEN 2
                               ELSE 1 END
"""

# One ad-hoc inspection per overdue episode: none was planned for this reason since the loan
# fell overdue (today − days past due).
_AD_HOC_CANDIDATES_SQL = """
    SELECT l.id AS loan_id, l.customer_id, l.branch_id,
           COALESCE(c.owner_id, l.account_manager_id) AS assigned_to_id
      FROM loans_loan AS l
      JOIN customers_customer AS c ON c.id = l.customer_id
     WHERE l.state = 'overdue'
       AND l.days_past_due > %(dpd)s
       AND NOT EXISTS (
           SELECT 1 FROM risk_inspection AS i
            WHERE i.loan_id = l.id AND i.kind = 'ad_hoc' AND i.reason = 'loan_overdue'
              AND (i.created_at AT TIME ZONE %(tz)s)::date
                  >= %(today)s::date - l.days_past_due)
"""

_AD_HOC_SQL = f"""
WITH created AS (
    INSERT INTO risk_inspection ({_NEW_ROW_COLUMNS})
    SELECT loan_id, customer_id, branch_id, 'ad_hoc', 'loan_overdue', 'due',
           %(today)s::date + %(ad_hoc_days)s, assigned_to_id, {_NEW_ROW_EMPTY}
      FROM inspection_candidates
    ON CONFLICT DO NOTHING
    RETURNING id, loan_id
),
audited AS (
    {_AUDIT_INSERT}
    SELECT %(now)s, NULL, 'inspection.plan', 'risk.inspection', id::text, '', 'due',
           %(comment)s, jsonb_build_object('kind', 'ad_hoc', 'loan', loan_id)
      FROM created
)
SELECT COUNT(*) FROM created
"""


def _stage_candidates(cursor, sql: str, params: dict) -> None:
    """The rows to insert, in a temporary table dropped at commit (and before reuse by a second
    call in the same transaction)."""
    cursor.execute("DROP TABLE IF EXISTS pg_temp.inspection_candidates")
    cursor.execute(f"CREATE TEMPORARY TABLE inspection_candidates ON COMMIT DROP AS {sql}", params)


def _scalar(cursor, sql: str, params: dict) -> int:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


@transaction.atomic
def inspections_plan(*, today: date | None = None) -> dict[str, int]:
    """Create every missing scheduled inspection of every live loan in one INSERT … SELECT:
    catch-up after a data import or a disbursement whose planning was skipped."""
    today = today or timezone.localdate()
    rule = inspection_rule()
    params = {
        "today": today,
        "now": timezone.now(),
        "threshold": rule.amount_threshold,
        "first_months": rule.first_months_small,
        "first_days": rule.first_days_large,
        "routine_months": rule.routine_months,
        "comment": _("Planned by the inspection rule on %(date)s") % {"date": today},
    }
    with connection.cursor() as cursor:
        _stage_candidates(cursor, _PLAN_CANDIDATES_SQL, params)
        cursor.execute(_PLAN_SQL, params)
        counts = dict(cursor.fetchall())
    return {"first": counts.get("first", 0), "routine": counts.get("routine", 0)}


@transaction.atomic
def inspections_sweep(*, today: date | None = None) -> dict[str, int]:
    """Hourly: cancel the open inspections of closed loans, mark past-due ones overdue, notify
    and escalate by days overdue, and plan ad-hoc inspections for loans overdue beyond the
    rule's limit. Returns what it did, by step."""
    today = today or timezone.localdate()
    rule = inspection_rule()
    head_office = OrgUnit.objects.filter(kind=OrgUnit.Kind.HEAD_OFFICE).values_list("pk", flat=True)
    comment = _("Inspection sweep of %(date)s") % {"date": today}
    params = {
        "today": today,
        "now": timezone.now(),
        "comment": comment,
        "branch_grace": rule.branch_grace_days,
        "head_office_grace": rule.head_office_grace_days,
        "head_office": head_office.first(),
        "dpd": rule.overdue_days_for_ad_hoc,
        "ad_hoc_days": rule.ad_hoc_due_days,
        "tz": timezone.get_default_timezone_name(),
    }
    with connection.cursor() as cursor:
        cancelled = _scalar(cursor, _CANCEL_SQL, params)
        overdue = _scalar(cursor, _OVERDUE_SQL, params)
        cursor.execute(_NOTICES_SQL, params)
        notices = dict(cursor.fetchall())
        cursor.execute(_ESCALATION_SQL, params)
        _stage_candidates(cursor, _AD_HOC_CANDIDATES_SQL, params)
        ad_hoc = _scalar(cursor, _AD_HOC_SQL, params)
    return {
        "cancelled": cancelled,
        "marked_overdue": overdue,
        "notified_account_manager": notices.get(1, 0),
        "escalated_branch_manager": notices.get(2, 0),
        "escalated_head_office": notices.get(3, 0),
        "ad_hoc_planned": ad_hoc,
    }


__all__ = [
    "OPEN_INSPECTION_STATES",
    "InspectionFindings",
    "InspectionStatus",
    "add_months",
    "early_warning_acknowledge",
    "early_warning_close",
    "early_warning_order_inspection",
    "early_warning_review",
    "first_due_on",
    "inspection_complete",
    "inspection_plan_first",
    "inspection_rule",
    "inspections_plan",
    "inspections_sweep",
    "routine_due_on",
]
