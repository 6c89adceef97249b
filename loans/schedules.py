"""Repayment schedule engine for cooperative loans.

Everything here is pure Python and exact: money is ``decimal.Decimal`` quantized to the fen
(0.01) with ``ROUND_HALF_UP`` (四舍五入, the rounding borrowers check statements with, not
banker's rounding) -- and floats are refused outright, because a binary float cannot
represent most fen amounts and would silently leak representation error into a balance.

Four repayment methods are supported (see :class:`RepaymentMethod`) under two day-count
conventions (see :class:`DayCount`).  Whatever the method, every schedule satisfies:

* the principal column sums *exactly* to the amount lent;
* every figure is quantized to 0.01 and none is negative;
* ``total == principal + interest`` on every row;
* ``remaining`` (the balance after the installment) never goes negative and ends at 0.00.

The last installment is always the balancing one: per-row rounding makes the level figures
(the annuity payment, the equal principal slice) slightly off from the exact values, and
letting the final row take "whatever is left" is the only way to guarantee the principal
column adds up to the contract amount to the fen, without distorting any earlier row.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from typing import TypeVar

from dateutil.relativedelta import relativedelta

__all__ = [
    "DayCount",
    "Installment",
    "RepaymentMethod",
    "ScheduleError",
    "generate_schedule",
    "schedule_totals",
]

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
MIN_TERM_MONTHS = 1
MAX_TERM_MONTHS = 360
# Exclusive upper bound on the amount.  Far beyond any cooperative loan; it exists so that the
# fixed-precision arithmetic below can always represent the amount to the fen (an amount such
# as Decimal("1E+100") would otherwise blow up inside ``quantize`` with InvalidOperation).
MAX_AMOUNT = Decimal("1E+15")
# Working precision for intermediate results.  Amounts < 1e15 with 2 decimals need 17 digits;
# 50 leaves ample head-room for the annuity factor (1 + i) ** -n before the final rounding.
_PRECISION = 50

_MONTHS_PER_YEAR = Decimal(12)
_DAYS_PER_YEAR_360 = Decimal(360)

_E = TypeVar("_E", bound=enum.StrEnum)


class ScheduleError(ValueError):
    """Raised when loan parameters cannot produce a valid repayment schedule."""


class RepaymentMethod(enum.StrEnum):
    """Repayment methods offered by the cooperative."""

    # 等额本息: level (annuity) payment every month; the last installment balances.
    EQUAL_INSTALLMENT = "equal_installment"
    # 等额本金: level principal slice every month, interest on the outstanding balance.
    EQUAL_PRINCIPAL = "equal_principal"
    # 按月付息到期还本: interest monthly, the whole principal with the last installment.
    INTEREST_ONLY = "interest_only"
    # 利随本清: a single installment at maturity carrying principal and all interest.
    BULLET = "bullet"


class DayCount(enum.StrEnum):
    """Day-count conventions used to accrue interest over a period."""

    # Every month counts as 30 days of a 360-day year: period interest = balance * rate / 12.
    THIRTY_360 = "30/360"
    # Actual calendar days over a 360-day year: interest = balance * rate * days / 360.
    ACTUAL_360 = "actual/360"


# Methods that repay principal across installments: each installment must be able to carry at
# least one fen of principal, see ``_validate_amortizable``.
_AMORTIZING_METHODS = frozenset(
    {RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL}
)


@dataclass(frozen=True, slots=True)
class Installment:
    """One row of a repayment schedule.  ``remaining`` is the principal balance *after* it."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    remaining: Decimal


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_schedule(
    *,
    amount: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: RepaymentMethod | str,
    start_date: date,
    day_count: DayCount | str = DayCount.THIRTY_360,
) -> list[Installment]:
    """Build the repayment schedule of a loan.

    :param amount: principal lent, ``Decimal`` (or ``int``) > 0 with at most 2 decimals.
    :param annual_rate: annual nominal rate as a fraction, e.g. ``Decimal("0.0435")``;
        0 <= rate < 1.
    :param term_months: loan term in months, 1..360.  Bullet loans mature after this many
        months and have a single installment; the other methods have one per month.
    :param method: a :class:`RepaymentMethod` or its string value.
    :param start_date: disbursement date; installments fall due monthly from it.
    :param day_count: a :class:`DayCount` or its string value ("30/360" or "actual/360").
    :raises TypeError: if a float is passed for any numeric argument.
    :raises ScheduleError: for any other invalid input.
    """
    amount = _validate_amount(amount)
    annual_rate = _validate_rate(annual_rate)
    term_months = _validate_term(term_months)
    method = _parse_enum(RepaymentMethod, method, "method")
    day_count = _parse_enum(DayCount, day_count, "day_count")
    start_date = _validate_start_date(start_date)
    if method in _AMORTIZING_METHODS:
        _validate_amortizable(amount, term_months, method)

    loan = _Loan(amount, annual_rate, term_months, start_date, day_count)
    # A private context so the caller's decimal settings (precision, traps) cannot change the
    # result, and intermediate products are carried at a known, generous precision.
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if method is RepaymentMethod.EQUAL_INSTALLMENT:
            return _equal_installment(loan)
        if method is RepaymentMethod.EQUAL_PRINCIPAL:
            return _equal_principal(loan)
        if method is RepaymentMethod.INTEREST_ONLY:
            return _interest_only(loan)
        return _bullet(loan)


def schedule_totals(installments: Iterable[Installment]) -> dict[str, Decimal]:
    """Sum a schedule: ``total_principal``, ``total_interest`` and ``total_paid``."""
    total_principal = ZERO
    total_interest = ZERO
    total_paid = ZERO
    for installment in installments:
        total_principal += installment.principal
        total_interest += installment.interest
        total_paid += installment.total
    return {
        "total_principal": total_principal,
        "total_interest": total_interest,
        "total_paid": total_paid,
    }


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _to_decimal(value: object, name: str) -> Decimal:
    # bool is a subclass of int; True as an amount is certainly a bug, not "1 yuan".
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not float ({value!r}); floats are inexact")
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ScheduleError(f"{name} must be a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ScheduleError(f"{name} must be a finite number, got {value}")
    return result


def _validate_amount(value: object) -> Decimal:
    amount = _to_decimal(value, "amount")
    if amount <= 0:
        raise ScheduleError(f"amount must be greater than 0, got {amount}")
    if amount >= MAX_AMOUNT:
        raise ScheduleError(f"amount must be less than {MAX_AMOUNT:f}, got {amount}")
    quantized = amount.quantize(FEN)
    if quantized != amount:
        raise ScheduleError(f"amount must have at most 2 decimal places (fen), got {amount}")
    # Normalise the exponent so that e.g. Decimal("5") and Decimal("5.000") both become 5.00.
    return quantized


def _validate_rate(value: object) -> Decimal:
    rate = _to_decimal(value, "annual_rate")
    if not ZERO <= rate < 1:
        raise ScheduleError(
            f"annual_rate must be a fraction with 0 <= rate < 1 (e.g. 0.0435), got {rate}"
        )
    return rate


def _validate_term(value: object) -> int:
    if isinstance(value, float):
        raise TypeError(f"term_months must be an int, not float ({value!r})")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScheduleError(f"term_months must be an int, got {type(value).__name__}")
    if not MIN_TERM_MONTHS <= value <= MAX_TERM_MONTHS:
        raise ScheduleError(
            f"term_months must be between {MIN_TERM_MONTHS} and {MAX_TERM_MONTHS}, got {value}"
        )
    return value


def _validate_start_date(value: object) -> date:
    # datetime is a subclass of date; a time component (and possibly a timezone) would make
    # due dates and day counts ambiguous, so insist on a plain calendar date.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ScheduleError(f"start_date must be a datetime.date, got {type(value).__name__}")
    return value


def _parse_enum(enum_cls: type[_E], value: object, name: str) -> _E:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum_cls)
        raise ScheduleError(f"{name} must be one of {allowed}, got {value!r}") from None


def _validate_amortizable(amount: Decimal, term_months: int, method: RepaymentMethod) -> None:
    # An amortizing schedule whose amount is below one fen per installment would have level
    # principal of 0.00 on every row but the last -- a bullet loan in disguise, with months of
    # meaningless zero-principal rows.  Refuse it and let the officer pick a shorter term or
    # an interest-only / bullet method instead.
    minimum = FEN * term_months
    if amount < minimum:
        raise ScheduleError(
            f"amount {amount} is too small for {method.value} over {term_months} months: "
            f"at least {minimum} is needed so that every installment repays at least 0.01"
        )


# --------------------------------------------------------------------------------------------
# Calculation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Loan:
    amount: Decimal
    annual_rate: Decimal
    term_months: int
    start_date: date
    day_count: DayCount

    def due_date(self, number: int) -> date:
        # Always offset from the start date rather than chaining month by month: relativedelta
        # clamps to month end (Jan 31 + 1 month = Feb 28), and chaining would then carry the
        # clamped day forward (Mar 28, Apr 28, ...).  From the start date, Jan 31 + 2 months
        # is Mar 31 again, so the contractual day-of-month never drifts.
        return self.start_date + relativedelta(months=number)

    def period_start(self, number: int) -> date:
        return self.due_date(number - 1)

    def interest(self, balance: Decimal, start: date, end: date, months: int) -> Decimal:
        """Interest accrued on ``balance`` from ``start`` to ``end`` (``months`` apart)."""
        if self.day_count is DayCount.THIRTY_360:
            accrued = balance * self.annual_rate * months / _MONTHS_PER_YEAR
        else:
            days = (end - start).days
            accrued = balance * self.annual_rate * days / _DAYS_PER_YEAR_360
        return _round(accrued)

    def monthly_interest(self, balance: Decimal, number: int) -> Decimal:
        return self.interest(balance, self.period_start(number), self.due_date(number), 1)


def _round(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(FEN, rounding=rounding)


def _installment(
    loan: _Loan, number: int, principal: Decimal, interest: Decimal, remaining: Decimal
) -> Installment:
    return Installment(
        number=number,
        due_date=loan.due_date(number),
        principal=principal,
        interest=interest,
        total=principal + interest,
        remaining=remaining,
    )


def _level_principal(loan: _Loan) -> Decimal:
    """The equal principal slice, amount / term rounded to the fen.

    Normally ROUND_HALF_UP.  But rounding *up* n-1 times can reach or overshoot the amount
    when it is small relative to the term (1.50 over 100 months: 0.015 -> 0.02, and
    99 x 0.02 = 1.98 > 1.50), which would leave the balancing last installment at zero or
    negative.  In that case round down instead: the first n-1 slices then repay less than
    the amount, and the last one absorbs a positive remainder (at least amount / term).
    """
    exact = loan.amount / loan.term_months
    slice_ = _round(exact)
    if slice_ * (loan.term_months - 1) >= loan.amount:
        slice_ = _round(exact, ROUND_DOWN)
    return slice_


def _equal_principal(loan: _Loan) -> list[Installment]:
    slice_ = _level_principal(loan)
    balance = loan.amount
    rows: list[Installment] = []
    for number in range(1, loan.term_months + 1):
        interest = loan.monthly_interest(balance, number)
        # The last installment takes the remaining balance, absorbing the rounding of slice_.
        principal = balance if number == loan.term_months else slice_
        balance -= principal
        rows.append(_installment(loan, number, principal, interest, balance))
    return rows


def _annuity_payment(loan: _Loan) -> Decimal:
    """Exact (unrounded) level payment P*i / (1 - (1+i)^-n) with monthly rate i = rate / 12.

    Under actual/360 the payment is still derived from rate / 12: the level payment is a
    contractual figure, while the actual-day interest only changes how it splits.
    """
    if loan.annual_rate == 0:
        return loan.amount / loan.term_months
    monthly_rate = loan.annual_rate / _MONTHS_PER_YEAR
    return loan.amount * monthly_rate / (1 - (1 + monthly_rate) ** -loan.term_months)


def _amortize(loan: _Loan, payment: Decimal) -> tuple[list[Installment], bool]:
    """Amortize with a level ``payment``; also report whether the balance ran out early."""
    balance = loan.amount
    rows: list[Installment] = []
    ran_out_early = False
    for number in range(1, loan.term_months + 1):
        interest = loan.monthly_interest(balance, number)
        if number == loan.term_months:
            # Balancing installment: whatever principal is left, plus its interest.
            principal = balance
        else:
            # Under actual/360 a 31-day month's interest can exceed a payment sized for 30-day
            # months (high rate, long term).  The borrower then pays that month's interest in
            # full and no principal, rather than capitalising the shortfall (no negative
            # amortization), so the row's total is the interest, above the level payment.
            principal = max(payment - interest, ZERO)
            if principal >= balance:
                # Cumulative rounding has repaid the loan ahead of schedule; never let the
                # balance go negative.  The caller retries with a smaller payment.
                principal = balance
                ran_out_early = True
        balance -= principal
        rows.append(_installment(loan, number, principal, interest, balance))
    return rows, ran_out_early


def _equal_installment(loan: _Loan) -> list[Installment]:
    # The level payment is the exact annuity payment rounded half-up, and for realistic loans
    # that schedule is the answer.  But the balance can run out before maturity -- leaving
    # trailing rows of 0.00 and nothing for the "balancing" last installment -- when per-row
    # rounding dominates (tiny amounts over long terms, where each month's interest rounds to
    # 0.00), or under actual/360 at extreme rates, where short months repay extra principal
    # and the saving compounds.  Then use the largest whole-fen payment below it whose
    # schedule lasts to the final installment: every row but the last stays level and the
    # last absorbs the remainder.
    payment = _round(_annuity_payment(loan))
    rows, ran_out_early = _amortize(loan, payment)
    if not ran_out_early:
        return rows
    # Binary search over whole fen.  Running out early is monotone in the payment (a larger
    # payment never leaves a larger balance, so never lasts longer), and a payment of 0.00
    # always lasts since no row before the last then repays principal.
    good_fen, bad_fen = 0, int(payment.scaleb(2))
    best: list[Installment] | None = None
    while bad_fen - good_fen > 1:
        middle = (good_fen + bad_fen) // 2
        candidate, ran_out_early = _amortize(loan, Decimal(middle).scaleb(-2))
        if ran_out_early:
            bad_fen = middle
        else:
            good_fen, best = middle, candidate
    if best is None:
        best, _ = _amortize(loan, ZERO)
    return best


def _interest_only(loan: _Loan) -> list[Installment]:
    rows: list[Installment] = []
    for number in range(1, loan.term_months + 1):
        interest = loan.monthly_interest(loan.amount, number)
        is_last = number == loan.term_months
        principal = loan.amount if is_last else ZERO
        remaining = ZERO if is_last else loan.amount
        rows.append(_installment(loan, number, principal, interest, remaining))
    return rows


def _bullet(loan: _Loan) -> list[Installment]:
    # One accrual period from disbursement to maturity: term/12 of a year under 30/360, the
    # actual number of days / 360 under actual/360.  Rounded once, on the whole period.
    maturity = loan.due_date(loan.term_months)
    interest = loan.interest(loan.amount, loan.start_date, maturity, loan.term_months)
    return [
        Installment(
            number=1,
            due_date=maturity,
            principal=loan.amount,
            interest=interest,
            total=loan.amount + interest,
            remaining=ZERO,
        )
    ]
