"""Days past due, the five-category classification (五级分类), the active ↔ overdue states, manual
classification overrides, and write-offs.

The nightly sweep is set-based SQL: a county bank has ~60,000 live loans and 1.5 million
schedule rows, which per-row ORM calls could not get through in a night.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record, audit_record_many
from loans.models import Classification, ClassificationOverride, CreditLine, Installment, Loan
from loans.services.lifecycle_common import MAX_REASON, loan_policy, require_perm

# --- single-loan state changes ------------------------------------------------------------------


def cure_locked(*, actor: User | None, loan: Loan, comment: str = "") -> None:
    """overdue → active on a locked loan (arrears repaid)."""
    previous = loan.state
    loan.cure()
    loan.days_past_due = 0
    loan.save(update_fields=["state", "days_past_due"])
    audit_record(
        actor=actor,
        action="loan.cure",
        obj=loan,
        from_state=previous,
        to_state=loan.state,
        comment=comment,
    )


def _overdue_since(loan: Loan, today: date) -> date | None:
    return (
        Installment.objects.filter(loan=loan, settled_on__isnull=True, due_date__lt=today)
        .order_by("due_date")
        .values_list("due_date", flat=True)
        .first()
    )


@transaction.atomic
def loan_mark_overdue(*, actor: User | None, loan: Loan, today: date | None = None) -> Loan:
    """active → overdue for one loan with an installment unpaid after its due date."""
    today = today or timezone.localdate()
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if not can_proceed(locked.mark_overdue):
        raise ConflictError(_("Only an active loan can become overdue."), code="state")
    since = _overdue_since(locked, today)
    if since is None:
        raise ConflictError(_("No installment of this loan is past due."), code="not_past_due")
    previous = locked.state
    locked.mark_overdue()
    locked.days_past_due = (today - since).days
    locked.save(update_fields=["state", "days_past_due"])
    audit_record(
        actor=actor,
        action="loan.mark_overdue",
        obj=locked,
        from_state=previous,
        to_state=locked.state,
    )
    return locked


@transaction.atomic
def loan_cure(*, actor: User | None, loan: Loan, today: date | None = None) -> Loan:
    """overdue → active once nothing is past due any more."""
    today = today or timezone.localdate()
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if not can_proceed(locked.cure):
        raise ConflictError(_("Only an overdue loan can be cured."), code="state")
    if _overdue_since(locked, today) is not None:
        raise ConflictError(_("An installment is still past due."), code="past_due")
    cure_locked(actor=actor, loan=locked)
    return locked


@transaction.atomic
def loan_write_off(*, actor: User, loan: Loan, reason: str) -> Loan:
    """Write off an active or overdue loan; the outstanding principal stays on it as the amount
    written off."""
    require_perm(actor, "loans.write_off_loan")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the write-off."), field="reason")
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if not can_proceed(locked.write_off):
        raise ConflictError(_("Only an active or overdue loan can be written off."), code="state")
    previous = locked.state
    locked.write_off()
    locked.save(update_fields=["state"])
    audit_record(
        actor=actor,
        action="loan.write_off",
        obj=locked,
        from_state=previous,
        to_state=locked.state,
        comment=reason[:MAX_REASON],
        data={"outstanding_principal": str(locked.outstanding_principal)},
    )
    if locked.credit_line_id:
        _freeze_line(actor=actor, line_id=locked.credit_line_id, loan=locked)
    return locked


def _freeze_line(*, actor: User, line_id: int, loan: Loan) -> None:
    # A written-off loan no longer counts as outstanding, which would hand its principal back
    # to a revolving line: the borrower's line is frozen instead, so nobody draws on it again
    # without a branch manager looking at it.
    line = CreditLine.objects.select_for_update().get(pk=line_id)
    if line.status != CreditLine.Status.ACTIVE:
        return
    line.status = CreditLine.Status.FROZEN
    line.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="credit_line.status",
        obj=line,
        from_state=CreditLine.Status.ACTIVE,
        to_state=line.status,
        comment=_("Loan %(number)s written off") % {"number": loan.number},
    )


# --- the nightly sweep --------------------------------------------------------------------------

# Plain SQL on the tables of Loan and Installment (their default names, fixed by migration 0001).
_AUDIT_TYPE = Loan._meta.label_lower

_DAYS_PAST_DUE_SQL = """
UPDATE loans_loan AS l
   SET days_past_due = d.days
  FROM (
        SELECT live.id,
               COALESCE(%(today)s::date - MIN(i.due_date), 0) AS days
          FROM loans_loan AS live
          LEFT JOIN loans_installment AS i
                 ON i.loan_id = live.id
                AND i.settled_on IS NULL
                AND i.due_date < %(today)s::date
         WHERE live.state IN ('active', 'overdue')
         GROUP BY live.id
       ) AS d
 WHERE l.id = d.id
   AND l.days_past_due <> d.days
"""

# One UPDATE … RETURNING instead of a FSM call per loan: this sweep IS the service for these
# transitions, and 60,000 loans a night cannot go through the ORM one by one. The WHERE clause
# restates the FSM's sources (active → overdue, overdue → active), and every changed loan still
# gets its own audit row below.
_STATE_SQL = """
UPDATE loans_loan
   SET state = CASE state WHEN 'active' THEN 'overdue' ELSE 'active' END
 WHERE (state = 'active' AND days_past_due > 0)
    OR (state = 'overdue' AND days_past_due = 0)
RETURNING id, state
"""

# The self-join gives the value before the update (RETURNING only sees the new row).
_CLASSIFY_SQL = """
UPDATE loans_loan AS l
   SET classification = c.new_class
  FROM (
        SELECT id,
               classification AS old_class,
               CASE
                 WHEN days_past_due >= %(loss)s THEN 'loss'
                 WHEN days_past_due >= %(doubtful)s THEN 'doubtful'
                 WHEN days_past_due >= %(substandard)s THEN 'substandard'
                 WHEN days_past_due >= %(special_mention)s THEN 'special_mention'
                 ELSE 'normal'
               END AS new_class
          FROM loans_loan
         WHERE state IN ('active', 'overdue')
           AND NOT classification_locked
       ) AS c
 WHERE l.id = c.id
   AND l.classification <> c.new_class
RETURNING l.id, c.old_class, c.new_class
"""


@transaction.atomic
def loans_classify_all(*, today: date) -> dict[str, int]:
    """Nightly: days past due, active ↔ overdue, and the five categories by the policy's
    thresholds (locked loans keep their approved manual class). Running it twice on the same day
    changes nothing the second time."""
    policy = loan_policy()
    thresholds = {
        "special_mention": policy.special_mention_from_days,
        "substandard": policy.substandard_from_days,
        "doubtful": policy.doubtful_from_days,
        "loss": policy.loss_from_days,
    }
    with connection.cursor() as cursor:
        cursor.execute(_DAYS_PAST_DUE_SQL, {"today": today})
        days_updated = cursor.rowcount
        cursor.execute(_STATE_SQL)
        state_changes = cursor.fetchall()
        cursor.execute(_CLASSIFY_SQL, thresholds)
        class_changes = cursor.fetchall()

    comment = _("Nightly classification of %(date)s") % {"date": today}
    events = [
        {
            "action": "loan.mark_overdue" if new_state == Loan.State.OVERDUE else "loan.cure",
            "object_type": _AUDIT_TYPE,
            "object_id": loan_id,
            "from_state": (
                Loan.State.ACTIVE if new_state == Loan.State.OVERDUE else Loan.State.OVERDUE
            ),
            "to_state": new_state,
            "comment": comment,
        }
        for loan_id, new_state in state_changes
    ]
    events += [
        {
            "action": "loan.classify",
            "object_type": _AUDIT_TYPE,
            "object_id": loan_id,
            "from_state": old_class,
            "to_state": new_class,
            "comment": comment,
        }
        for loan_id, old_class, new_class in class_changes
    ]
    audit_record_many(events, batch_size=2000)
    marked_overdue = sum(1 for _id, state in state_changes if state == Loan.State.OVERDUE)
    return {
        "days_past_due_updated": days_updated,
        "marked_overdue": marked_overdue,
        "cured": len(state_changes) - marked_overdue,
        "reclassified": len(class_changes),
    }


# --- manual overrides ---------------------------------------------------------------------------


@transaction.atomic
def classification_override_propose(
    *, actor: User, loan: Loan, to_class: str, reason: str
) -> ClassificationOverride:
    """Propose a manual up- or downgrade; it applies only once someone else approves it."""
    require_perm(actor, "loans.override_classification")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the new classification."), field="reason")
    if to_class not in Classification.values:
        raise DomainError(_("Choose a classification."), field="to_class")
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if locked.state not in (Loan.State.ACTIVE, Loan.State.OVERDUE):
        raise ConflictError(_("Only an active or overdue loan can be reclassified."), code="state")
    if to_class == locked.classification:
        raise DomainError(_("The loan already has this classification."), field="to_class")
    if ClassificationOverride.objects.filter(
        loan=locked, status=ClassificationOverride.Status.PROPOSED
    ).exists():
        raise ConflictError(_("A proposal for this loan is already waiting."), code="open")
    try:
        with transaction.atomic():
            proposal = ClassificationOverride.objects.create(
                loan=locked,
                from_class=locked.classification,
                to_class=to_class,
                reason=reason[:MAX_REASON],
                proposed_by=actor,
            )
    except IntegrityError:
        # The partial unique index caught a proposal made between our check and the insert.
        raise ConflictError(
            _("A proposal for this loan is already waiting."), code="open"
        ) from None
    audit_record(
        actor=actor,
        action="classification.propose",
        obj=proposal,
        from_state=proposal.from_class,
        to_state=to_class,
        comment=proposal.reason,
    )
    return proposal


def _decide(*, actor: User, override: ClassificationOverride) -> ClassificationOverride:
    require_perm(actor, "loans.approve_classification")
    locked = ClassificationOverride.objects.select_for_update().get(pk=override.pk)
    if locked.status != ClassificationOverride.Status.PROPOSED:
        raise ConflictError(_("This proposal was already decided."), code="decided")
    if locked.proposed_by_id == actor.pk:
        # Segregation of duties: nobody decides on their own proposal.
        raise DomainError(_("Someone other than the proposer must decide."), code="same_person")
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    return locked


@transaction.atomic
def classification_override_approve(
    *, actor: User, override: ClassificationOverride
) -> ClassificationOverride:
    """Apply the proposed class and lock it against the nightly sweep until released."""
    locked = _decide(actor=actor, override=override)
    loan = Loan.objects.select_for_update().get(pk=locked.loan_id)
    if loan.state not in (Loan.State.ACTIVE, Loan.State.OVERDUE):
        raise ConflictError(_("Only an active or overdue loan can be reclassified."), code="state")
    locked.status = ClassificationOverride.Status.APPROVED
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    previous = loan.classification
    loan.classification = locked.to_class
    loan.classification_locked = True
    loan.save(update_fields=["classification", "classification_locked"])
    audit_record(
        actor=actor,
        action="classification.approve",
        obj=locked,
        from_state=ClassificationOverride.Status.PROPOSED,
        to_state=locked.status,
    )
    audit_record(
        actor=actor,
        action="loan.classify",
        obj=loan,
        from_state=previous,
        to_state=loan.classification,
        comment=locked.reason,
        data={"override": locked.pk, "locked": True},
    )
    return locked


@transaction.atomic
def classification_override_reject(
    *, actor: User, override: ClassificationOverride, comment: str = ""
) -> ClassificationOverride:
    locked = _decide(actor=actor, override=override)
    locked.status = ClassificationOverride.Status.REJECTED
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="classification.reject",
        obj=locked,
        from_state=ClassificationOverride.Status.PROPOSED,
        to_state=locked.status,
        comment=(comment or "")[:MAX_REASON],
    )
    return locked


@transaction.atomic
def classification_override_release(*, actor: User, loan: Loan, comment: str = "") -> Loan:
    """Unlock a manual classification: the next nightly run classifies the loan by its days
    past due again."""
    require_perm(actor, "loans.approve_classification")
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if not locked.classification_locked:
        raise ConflictError(_("The classification is not locked."), code="not_locked")
    locked.classification_locked = False
    locked.save(update_fields=["classification_locked"])
    audit_record(
        actor=actor,
        action="classification.release",
        obj=locked,
        from_state=locked.classification,
        to_state=locked.classification,
        comment=(comment or "")[:MAX_REASON],
    )
    return locked
