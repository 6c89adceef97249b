"""Repayments: allocation to penalty interest, interest and principal; early repayment;
settlement.

Rules (DOMAIN.md, LoanPolicy):

* Due amounts first, oldest installment first; within an installment in the policy's
  ``allocation_order`` (default penalty interest → interest → principal).
* Penalty interest accrues on overdue principal only, at the contract rate ×
  ``penalty_rate_multiplier`` per day, actual/360, from the due date to the payment date.
* Early repayment: once everything due is covered, the rest first pays the interest of the
  period in progress (charged in full), then reduces principal from the LAST installment
  backwards. The term shortens and the instalment amounts before it stay as agreed; interest of
  the periods not started yet is recomputed on the reduced balance.
* An amount beyond everything owed is refused. When principal, interest and penalty are all
  paid the loan settles; a revolving line's availability follows outstanding principal.

Penalty interest is not stored as it accrues (the model keeps only what was paid), so it is
recomputed from the repayment history: principal moves only on repayment dates, oldest due
installment first and then from the last backwards, which makes each installment's overdue
principal over time — and so its accrued penalty — reproducible exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from coop.models import User
from coop.money import format_yuan, to_fen
from coop.services import ConflictError, DomainError, audit_record
from loans.models import DayCount, Installment, Loan, LoanPolicy, Repayment
from loans.services.classification import cure_locked
from loans.services.lifecycle_common import (
    DISBURSED_LIVE_STATES,
    ZERO,
    allocation_order,
    clean_amount,
    loan_policy,
    not_in_future,
    require_perm,
)

_PRECISION = 50
_DAYS_PER_YEAR = Decimal(360)


@dataclass
class Row:
    """A working copy of one installment while a payment is worked out."""

    installment: Installment
    period_start: date
    interest: Decimal
    paid_principal: Decimal
    paid_interest: Decimal
    paid_penalty: Decimal
    penalty_accrued: Decimal = ZERO  # exact, unrounded
    settled_on: date | None = None

    @property
    def number(self) -> int:
        return self.installment.number

    @property
    def due_date(self) -> date:
        return self.installment.due_date

    @property
    def principal(self) -> Decimal:
        return self.installment.principal

    @property
    def unpaid_principal(self) -> Decimal:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> Decimal:
        return self.interest - self.paid_interest

    @property
    def penalty_owed(self) -> Decimal:
        return max(to_fen(self.penalty_accrued) - self.paid_penalty, ZERO)

    def owed(self, part: str) -> Decimal:
        return {
            "penalty": self.penalty_owed,
            "interest": self.unpaid_interest,
            "principal": self.unpaid_principal,
        }[part]

    def pay(self, part: str, amount: Decimal) -> None:
        if part == "penalty":
            self.paid_penalty += amount
        elif part == "interest":
            self.paid_interest += amount
        else:
            self.paid_principal += amount

    @property
    def is_paid(self) -> bool:
        return not self.unpaid_principal and not self.unpaid_interest and not self.penalty_owed


@dataclass
class Position:
    """What a loan owes on ``as_of``."""

    as_of: date
    rows: list[Row]
    due: list[Row]  # due on or before as_of, oldest first
    current: Row | None  # the period in progress on as_of
    future: list[Row]  # due after as_of (includes current)

    @property
    def due_penalty(self) -> Decimal:
        return sum((row.penalty_owed for row in self.due), ZERO)

    @property
    def due_interest(self) -> Decimal:
        return sum((row.unpaid_interest for row in self.due), ZERO)

    @property
    def due_principal(self) -> Decimal:
        return sum((row.unpaid_principal for row in self.due), ZERO)

    @property
    def due_total(self) -> Decimal:
        return self.due_penalty + self.due_interest + self.due_principal

    @property
    def current_interest(self) -> Decimal:
        return self.current.unpaid_interest if self.current else ZERO

    @property
    def future_principal(self) -> Decimal:
        return sum((row.unpaid_principal for row in self.future), ZERO)

    @property
    def payoff(self) -> Decimal:
        """Everything that may be paid on ``as_of``: the most a repayment can be."""
        return self.due_total + self.current_interest + self.future_principal


@dataclass
class Allocation:
    to_penalty: Decimal = ZERO
    to_interest: Decimal = ZERO
    to_principal: Decimal = ZERO
    prepaid_principal: Decimal = ZERO
    touched: set[int] = field(default_factory=set)

    def add(self, part: str, amount: Decimal) -> None:
        setattr(self, f"to_{part}", getattr(self, f"to_{part}") + amount)


def _daily_penalty_rate(loan: Loan, policy: LoanPolicy) -> Decimal:
    return loan.annual_rate * policy.penalty_rate_multiplier / _DAYS_PER_YEAR


def _apply_principal_history(rows: list[Row], paid_on: date, to_principal: Decimal) -> None:
    """Spread a past repayment's principal the way the allocation did: due installments oldest
    first, then the rest from the last installment backwards."""
    remaining = to_principal
    due = [row for row in rows if row.due_date <= paid_on]
    later = [row for row in rows if row.due_date > paid_on]
    for row in due + list(reversed(later)):
        if not remaining:
            break
        take = min(remaining, row.unpaid_principal)
        row.paid_principal += take
        remaining -= take


def _accrue(rows: list[Row], start: date | None, end: date, daily: Decimal) -> None:
    for row in rows:
        since = row.due_date if start is None else max(row.due_date, start)
        if end > since and row.unpaid_principal > 0:
            row.penalty_accrued += row.unpaid_principal * daily * (end - since).days


def position(
    *,
    loan: Loan,
    installments: list[Installment],
    repayments: list[Repayment],
    policy: LoanPolicy,
    as_of: date,
) -> Position:
    """What ``loan`` owes on ``as_of`` (pure: reads nothing, writes nothing)."""
    daily = _daily_penalty_rate(loan, policy)
    ordered = sorted(installments, key=lambda i: i.number)
    history = sorted(repayments, key=lambda r: (r.paid_on, r.pk or 0))
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        # Replay principal over time to accrue penalty exactly (see the module docstring).
        replay = [
            Row(
                installment=i,
                period_start=i.due_date,
                interest=i.interest,
                paid_principal=ZERO,
                paid_interest=ZERO,
                paid_penalty=ZERO,
            )
            for i in ordered
        ]
        last: date | None = None
        for repayment in history:
            _accrue(replay, last, repayment.paid_on, daily)
            _apply_principal_history(replay, repayment.paid_on, repayment.to_principal)
            last = repayment.paid_on
        _accrue(replay, last, as_of, daily)

    rows: list[Row] = []
    previous_due = loan.disbursed_on
    for installment, replayed in zip(ordered, replay, strict=True):
        rows.append(
            Row(
                installment=installment,
                period_start=previous_due or installment.due_date,
                interest=installment.interest,
                paid_principal=installment.paid_principal,
                paid_interest=installment.paid_interest,
                paid_penalty=installment.paid_penalty,
                penalty_accrued=replayed.penalty_accrued,
                settled_on=installment.settled_on,
            )
        )
        previous_due = installment.due_date
    due = [row for row in rows if row.due_date <= as_of]
    future = [row for row in rows if row.due_date > as_of]
    current = future[0] if future and future[0].period_start < as_of else None
    return Position(as_of=as_of, rows=rows, due=due, current=current, future=future)


def allocate(pos: Position, amount: Decimal, order: tuple[str, ...]) -> Allocation:
    """Spread ``amount`` over ``pos`` (mutating its rows). The caller has refused an amount above
    ``pos.payoff``."""
    result = Allocation()
    left = amount
    for row in pos.due:
        for part in order:
            take = min(left, row.owed(part))
            if take:
                row.pay(part, take)
                result.add(part, take)
                result.touched.add(row.number)
                left -= take
    if left and pos.current is not None:
        take = min(left, pos.current.unpaid_interest)
        if take:
            pos.current.pay("interest", take)
            result.add("interest", take)
            result.touched.add(pos.current.number)
            left -= take
    # Early repayment shortens the term: principal is taken from the last installment backwards,
    # so the installments before it keep the amounts the borrower agreed to.
    for row in reversed(pos.future):
        if not left:
            break
        take = min(left, row.unpaid_principal)
        if take:
            row.pay("principal", take)
            result.add("principal", take)
            result.prepaid_principal += take
            result.touched.add(row.number)
            left -= take
    assert left == 0, "allocate() called with more than the payoff"
    return result


def _period_fraction(loan: Loan, row: Row) -> Decimal:
    if loan.day_count == DayCount.ACTUAL_360:
        return Decimal((row.due_date - row.period_start).days) / _DAYS_PER_YEAR
    months = (row.due_date.year - row.period_start.year) * 12 + (
        row.due_date.month - row.period_start.month
    )
    return Decimal(months) / 12


def _recompute_future_interest(loan: Loan, pos: Position) -> set[int]:
    """Interest of periods that have not started is recomputed on the balance left after an
    early repayment (the same formula as the schedule engine: balance × rate × period)."""
    changed: set[int] = set()
    not_started = [row for row in pos.future if row.period_start >= pos.as_of]
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for row in not_started:
            balance = sum((r.unpaid_principal for r in pos.rows if r.number >= row.number), ZERO)
            interest = max(
                to_fen(balance * loan.annual_rate * _period_fraction(loan, row)), row.paid_interest
            )
            if interest != row.interest:
                row.interest = interest
                changed.add(row.number)
    return changed


def repayment_quote(*, loan: Loan, as_of: date | None = None) -> Position:
    """What the loan owes today (or on ``as_of``), for the repayment form and the loan page."""
    return position(
        loan=loan,
        installments=list(Installment.objects.filter(loan=loan)),
        repayments=list(Repayment.objects.filter(loan=loan)),
        policy=loan_policy(),
        as_of=as_of or timezone.localdate(),
    )


def _days_past_due(rows: list[Row], today: date) -> int:
    overdue = [row.due_date for row in rows if row.settled_on is None and row.due_date < today]
    return (today - min(overdue)).days if overdue else 0


def settle_locked(*, actor: User | None, loan: Loan, on: date, comment: str = "") -> None:
    previous = loan.state
    loan.settle()
    loan.settled_on = on
    loan.days_past_due = 0
    loan.save(update_fields=["state", "settled_on", "days_past_due"])
    audit_record(
        actor=actor,
        action="loan.settle",
        obj=loan,
        from_state=previous,
        to_state=loan.state,
        comment=comment,
    )


@transaction.atomic
def repayment_record(
    *, actor: User, loan: Loan, amount: Decimal, paid_on: date, idempotency_key: str
) -> Repayment:
    """Record a repayment and allocate it; settle the loan when everything is paid.

    The same ``idempotency_key`` twice (a double click) returns the first repayment.
    """
    require_perm(actor, "loans.record_repayment")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise DomainError(_("The form has expired; open it again."), field="idempotency_key")
    amount = clean_amount(amount)
    not_in_future(paid_on, "paid_on")
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    earlier = Repayment.objects.filter(idempotency_key=key).first()
    if earlier is not None:
        if earlier.loan_id == locked.pk and earlier.amount == amount:
            return earlier
        raise ConflictError(_("This form was already used for another repayment."), code="key")
    if locked.state not in DISBURSED_LIVE_STATES:
        raise ConflictError(
            _("Repayments can only be recorded on an active or overdue loan."), code="state"
        )
    if paid_on < locked.disbursed_on:
        raise DomainError(_("The loan was disbursed after this date."), field="paid_on")
    history = list(Repayment.objects.filter(loan=locked))
    latest = max((r.paid_on for r in history), default=None)
    if latest and paid_on < latest:
        # Penalty interest is worked out from the repayment history in date order; a payment
        # slotted in before a later one would change figures already settled with the borrower.
        raise DomainError(
            _("A later repayment (%(date)s) is already recorded.") % {"date": latest},
            field="paid_on",
        )
    installments = list(Installment.objects.select_for_update().filter(loan=locked))
    policy = loan_policy()
    pos = position(
        loan=locked, installments=installments, repayments=history, policy=policy, as_of=paid_on
    )
    if amount > pos.payoff:
        raise DomainError(
            _("The amount is more than everything owed (%(payoff)s).")
            % {"payoff": format_yuan(pos.payoff)},
            field="amount",
            code="overpayment",
        )
    result = allocate(pos, amount, allocation_order(policy))
    changed = set(result.touched)
    if result.prepaid_principal:
        changed |= _recompute_future_interest(locked, pos)
    for row in pos.rows:
        if row.settled_on is None and row.is_paid:
            row.settled_on = paid_on
            changed.add(row.number)
    updates = []
    for row in pos.rows:
        if row.number not in changed:
            continue
        installment = row.installment
        installment.interest = row.interest
        installment.paid_principal = row.paid_principal
        installment.paid_interest = row.paid_interest
        installment.paid_penalty = row.paid_penalty
        installment.settled_on = row.settled_on
        updates.append(installment)
    Installment.objects.bulk_update(
        updates, ["interest", "paid_principal", "paid_interest", "paid_penalty", "settled_on"]
    )
    repayment = Repayment.objects.create(
        loan=locked,
        amount=amount,
        paid_on=paid_on,
        to_penalty=result.to_penalty,
        to_interest=result.to_interest,
        to_principal=result.to_principal,
        idempotency_key=key,
        recorded_by=actor,
    )
    today = timezone.localdate()
    locked.outstanding_principal = sum((row.unpaid_principal for row in pos.rows), ZERO)
    locked.days_past_due = _days_past_due(pos.rows, today)
    locked.save(update_fields=["outstanding_principal", "days_past_due"])
    audit_record(
        actor=actor,
        action="loan.repayment",
        obj=locked,
        data={
            "repayment": repayment.pk,
            "amount": str(amount),
            "paid_on": str(paid_on),
            "to_penalty": str(result.to_penalty),
            "to_interest": str(result.to_interest),
            "to_principal": str(result.to_principal),
            "prepaid_principal": str(result.prepaid_principal),
        },
    )
    if all(row.settled_on for row in pos.rows):
        settle_locked(actor=actor, loan=locked, on=paid_on, comment=_("Fully repaid"))
    elif locked.state == Loan.State.OVERDUE and locked.days_past_due == 0:
        cure_locked(actor=actor, loan=locked, comment=_("Arrears repaid"))
    return repayment


@transaction.atomic
def loan_settle(*, actor: User | None, loan: Loan) -> Loan:
    """Settle a loan whose installments are all paid (repayment_record does this by itself)."""
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if not can_proceed(locked.settle):
        raise ConflictError(_("Only an active or overdue loan can be settled."), code="state")
    unpaid = Installment.objects.filter(loan=locked, settled_on__isnull=True).exists()
    if unpaid or locked.outstanding_principal:
        raise ConflictError(_("The loan is not fully repaid."), code="not_repaid")
    last = Repayment.objects.filter(loan=locked).order_by("-paid_on").first()
    settle_locked(actor=actor, loan=locked, on=last.paid_on if last else timezone.localdate())
    return locked
