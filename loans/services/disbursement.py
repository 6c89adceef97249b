"""Contracts, disbursement notices (放款通知书) and the disbursement itself.

Seed 000, gate (4): after the risk officer's check the reviewer issues the disbursement notice in
triplicate, one copy goes to the disbursement centre, and the counter makes the transfer — once.
"""

from __future__ import annotations

import re
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record
from loans.models import (
    Contract,
    CreditLine,
    DisbursementNotice,
    GuaranteeContract,
    Installment,
    Loan,
    LoanApplication,
    Product,
)
from loans.schedules import generate_schedule
from loans.services.credit import (
    check_guarantee,
    check_terms,
    commit_guarantee,
    commit_line,
    create_contract_and_loan,
)
from loans.services.lifecycle_common import (
    MAX_REASON,
    loan_policy,
    lock,
    next_number,
    not_in_future,
    require_perm,
)

ACCOUNT_NUMBER = re.compile(r"^\d{8,32}$")


@transaction.atomic
def contract_create(
    *,
    actor: User,
    application: LoanApplication,
    signed_on: date | None = None,
    guarantee_contract: GuaranteeContract | None = None,
) -> Contract:
    """The contract of an approved application: its terms (the approved amount when the approval
    cut it), the application approved → contracted, and the Loan in state contracted with the
    customer's account manager and branch."""
    require_perm(actor, "loans.add_contract")
    locked = lock(LoanApplication, application.pk)
    if not can_proceed(locked.contract):
        raise ConflictError(
            _("Only an approved application can be contracted; this one is %(state)s.")
            % {"state": locked.get_state_display()},
            code="not_approved",
        )
    if signed_on is not None:
        not_in_future(signed_on, "signed_on")
    customer = locked.customer
    product = Product.objects.get(pk=locked.product_id)
    amount = locked.approved_amount or locked.amount
    term, rate = check_terms(
        product=product,
        amount=amount,
        term_months=locked.term_months,
        annual_rate=locked.annual_rate,
        repayment_method=locked.repayment_method,
    )
    line = None
    if locked.credit_line_id:
        # An application to draw on a line that needed its own approval still counts against it.
        line = lock(CreditLine, locked.credit_line_id)
        commit_line(line, amount, timezone.localdate())
        guarantee_contract = guarantee_contract or line.guarantee_contract
    if guarantee_contract is not None:
        check_guarantee(guarantee_contract, customer, timezone.localdate())
        commit_guarantee(guarantee_contract, amount)
    loan = create_contract_and_loan(
        actor=actor,
        customer=customer,
        product=product,
        amount=amount,
        term_months=term,
        annual_rate=rate,
        repayment_method=locked.repayment_method,
        credit_line=line,
        application=locked,
        guarantee_contract=guarantee_contract,
        signed_on=signed_on,
    )
    previous = locked.state
    locked.contract()
    locked.save(update_fields=["state"])
    audit_record(
        actor=actor,
        action="application.contract",
        obj=locked,
        from_state=previous,
        to_state=locked.state,
        data={"contract": loan.contract.number},
    )
    return loan.contract


@transaction.atomic
def contract_sign(*, actor: User, contract: Contract, signed_on: date) -> Contract:
    """Record the date both parties signed; the notice can only be issued after it."""
    require_perm(actor, "loans.add_contract")
    not_in_future(signed_on, "signed_on")
    locked = lock(Contract, contract.pk)
    if Loan.objects.filter(contract=locked, state=Loan.State.CANCELLED).exists():
        raise ConflictError(_("The loan was cancelled."), code="cancelled")
    if locked.signed_on is not None:
        raise ConflictError(
            _("The contract was already signed on %(date)s.") % {"date": locked.signed_on},
            code="already_signed",
        )
    locked.signed_on = signed_on
    locked.save(update_fields=["signed_on"])
    audit_record(
        actor=actor, action="contract.sign", obj=locked, data={"signed_on": str(signed_on)}
    )
    return locked


@transaction.atomic
def notice_issue(*, actor: User, contract: Contract, account_number: str) -> DisbursementNotice:
    """Issue the disbursement notice of a signed contract (one per contract)."""
    require_perm(actor, "loans.issue_notice")
    account_number = re.sub(r"[\s-]", "", account_number or "")
    if not ACCOUNT_NUMBER.match(account_number):
        raise DomainError(
            _("Enter the payee account number (8 to 32 digits)."), field="account_number"
        )
    locked = lock(Contract, contract.pk)
    if locked.signed_on is None:
        raise ConflictError(_("The contract is not signed yet."), code="not_signed")
    loan = Loan.objects.get(contract=locked)
    if loan.state == Loan.State.CANCELLED:
        raise ConflictError(_("The loan was cancelled."), code="cancelled")
    if loan.state != Loan.State.CONTRACTED:
        raise ConflictError(_("The loan is already disbursed."), code="already_disbursed")
    if DisbursementNotice.objects.filter(contract=locked).exists():
        raise ConflictError(
            _("A disbursement notice was already issued for this contract."), code="exists"
        )
    notice = DisbursementNotice.objects.create(
        number=next_number(DisbursementNotice, "DN"),
        contract=locked,
        amount=locked.amount,
        account_number=account_number,
        issued_by=actor,
    )
    audit_record(
        actor=actor,
        action="notice.issue",
        obj=notice,
        to_state=notice.status,
        data={"contract": locked.number, "amount": str(notice.amount)},
    )
    return notice


@transaction.atomic
def loan_cancel(*, actor: User, loan: Loan, reason: str) -> Loan:
    """The borrower gives up a loan before it is paid out (合同作废): the loan is cancelled, its
    disbursement notice, if issued, is cancelled with it, and a drawdown's commitment on the
    credit line is released (a line counts contracted loans only). A disbursed loan cannot be
    cancelled. Locks the contract (as signing and issuing the notice do, so no notice appears
    unseen), then the notice and the loan, in the disbursement's order: whichever of the two
    comes first wins and the other gets a conflict."""
    require_perm(actor, "loans.add_contract")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the cancellation."), field="reason")
    lock(Contract, loan.contract_id)
    notice = DisbursementNotice.objects.filter(contract_id=loan.contract_id).first()
    if notice is not None:
        notice = lock(DisbursementNotice, notice.pk)
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if not can_proceed(locked.cancel):
        raise ConflictError(_("Only a loan not yet disbursed can be cancelled."), code="state")
    previous = locked.state
    locked.cancel()
    locked.save(update_fields=["state"])
    if notice is not None and notice.status == DisbursementNotice.Status.ISSUED:
        notice.status = DisbursementNotice.Status.CANCELLED
        notice.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="notice.cancel",
            obj=notice,
            from_state=DisbursementNotice.Status.ISSUED,
            to_state=notice.status,
            comment=reason[:MAX_REASON],
        )
    audit_record(
        actor=actor,
        action="loan.cancel",
        obj=locked,
        from_state=previous,
        to_state=locked.state,
        comment=reason[:MAX_REASON],
        data={"principal": str(locked.principal), "contract_id": locked.contract_id},
    )
    return locked


@transaction.atomic
def loan_disburse(
    *, actor: User, notice: DisbursementNotice, idempotency_key: str, disbursed_on: date
) -> Loan:
    """The teller records the disbursement of ``notice``, exactly once.

    The form carries ``idempotency_key`` (a UUID made when it was rendered): a double click or a
    resubmission with the same key returns the loan disbursed the first time and changes
    nothing; another key on a disbursed notice is a conflict (409).
    """
    require_perm(actor, "loans.record_disbursement")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise DomainError(_("The form has expired; open it again."), field="idempotency_key")
    not_in_future(disbursed_on, "disbursed_on")
    # The notice lock serialises two submissions of one notice; the second then sees the first.
    locked = lock(DisbursementNotice, notice.pk)
    earlier = Loan.objects.filter(disbursement_key=key).first()
    if earlier is not None:
        if earlier.contract_id == locked.contract_id:
            return earlier
        raise ConflictError(_("This form was already used for another notice."), code="key_reused")
    if locked.status == DisbursementNotice.Status.DISBURSED:
        raise ConflictError(_("This notice has already been disbursed."), code="disbursed")
    if locked.status != DisbursementNotice.Status.ISSUED:
        raise ConflictError(_("This notice was cancelled."), code="cancelled")
    contract = Contract.objects.get(pk=locked.contract_id)
    if contract.signed_on and disbursed_on < contract.signed_on:
        raise DomainError(
            _("The disbursement date is before the contract was signed (%(date)s).")
            % {"date": contract.signed_on},
            field="disbursed_on",
        )
    loan = Loan.objects.select_for_update().get(contract_id=locked.contract_id)
    if not can_proceed(loan.disburse):
        raise ConflictError(_("The loan is already disbursed."), code="already_disbursed")

    policy = loan_policy()
    rows = generate_schedule(
        amount=loan.principal,
        annual_rate=loan.annual_rate,
        term_months=loan.term_months,
        method=loan.repayment_method,
        start_date=disbursed_on,
        day_count=policy.day_count,
    )
    previous = loan.state
    loan.disburse()
    loan.disbursed_on = disbursed_on
    loan.maturity_date = rows[-1].due_date
    loan.outstanding_principal = loan.principal
    loan.day_count = policy.day_count
    loan.disbursement_key = key
    loan.save(
        update_fields=[
            "state",
            "disbursed_on",
            "maturity_date",
            "outstanding_principal",
            "day_count",
            "disbursement_key",
        ]
    )
    Installment.objects.bulk_create(
        [
            Installment(
                loan=loan,
                number=row.number,
                due_date=row.due_date,
                principal=row.principal,
                interest=row.interest,
            )
            for row in rows
        ]
    )
    locked.status = DisbursementNotice.Status.DISBURSED
    locked.disbursed_by = actor
    locked.disbursed_at = timezone.now()
    locked.save(update_fields=["status", "disbursed_by", "disbursed_at"])
    if loan.credit_line_id:
        # Non-revolving lines count what was ever drawn; revolving lines read outstanding
        # principal instead. F() keeps the increment right whoever else touches the row.
        CreditLine.objects.filter(pk=loan.credit_line_id, revolving=False).update(
            drawn_total=F("drawn_total") + loan.principal
        )
    audit_record(
        actor=actor,
        action="loan.disburse",
        obj=loan,
        from_state=previous,
        to_state=loan.state,
        data={
            "notice": locked.number,
            "disbursed_on": str(disbursed_on),
            "principal": str(loan.principal),
            "installments": len(rows),
            "day_count": policy.day_count,
        },
    )
    audit_record(
        actor=actor,
        action="notice.disburse",
        obj=locked,
        from_state=DisbursementNotice.Status.ISSUED,
        to_state=locked.status,
    )
    # The first post-loan inspection (seed 003) is a row written in this same transaction, so a
    # committed disbursement always has it (DESIGN.md rule 1). risk sits above loans: import here.
    from risk.inspections import inspection_plan_first

    inspection_plan_first(actor=actor, loan=loan)
    return loan
