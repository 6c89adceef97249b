"""Helpers shared by the lifecycle services (credit, disbursement, repayment, classification).

Nothing here opens a transaction of its own: every helper runs inside the calling service's
``transaction.atomic`` block.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.money import to_fen
from coop.services import DomainError
from loans.models import Loan, LoanPolicy

ZERO = Decimal("0.00")
LIVE_STATES = (Loan.State.CONTRACTED, Loan.State.ACTIVE, Loan.State.OVERDUE)
DISBURSED_LIVE_STATES = (Loan.State.ACTIVE, Loan.State.OVERDUE)
DEFAULT_ALLOCATION_ORDER = ("penalty", "interest", "principal")

M = TypeVar("M", bound=models.Model)

# The longest reason or comment a state change keeps in its audit row (the forms allow as much).
MAX_REASON = 2000


def require_perm(actor, perm: str) -> None:
    """Services check the permission too, so no caller (API, page, task) can skip it."""
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(perm)


def lock(model: type[M], pk: Any) -> M:
    """The row, locked until the end of the transaction (``SELECT … FOR UPDATE``)."""
    return model.objects.select_for_update().get(pk=pk)


def next_number(model: type[models.Model], prefix: str) -> str:
    """<prefix><yyyymmdd><6-digit daily sequence>, e.g. LN20260315000042.

    An advisory lock held to the end of the transaction serialises numbering per prefix and day,
    so two concurrent drawdowns never draw the same number.
    """
    stem = f"{prefix}{timezone.localdate():%Y%m%d}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"loans.number.{stem}"])
    last = (
        model.objects.filter(number__startswith=stem)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(stem) :]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


def loan_policy() -> LoanPolicy:
    """The bank-wide loan policy row, created with the defaults on first use."""
    policy = LoanPolicy.objects.order_by("pk").first()
    if policy is None:
        policy, _created = LoanPolicy.objects.get_or_create(pk=1)
    return policy


def allocation_order(policy: LoanPolicy) -> tuple[str, ...]:
    """The configured order of penalty / interest / principal; unknown entries are ignored and
    missing ones follow in the default order, so a half-edited policy still allocates everything."""
    order = [item for item in policy.allocation_order if item in DEFAULT_ALLOCATION_ORDER]
    seen: list[str] = []
    for item in order + list(DEFAULT_ALLOCATION_ORDER):
        if item not in seen:
            seen.append(item)
    return tuple(seen)


def clean_amount(value: Any, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals (fen); anything else is refused, not rounded:
    silently rounding what a teller typed would move money nobody asked for."""
    if isinstance(value, float):
        raise DomainError(_("Enter the amount as a decimal number."), field=field)
    try:
        amount = Decimal(str(value))
    except Exception:  # noqa: BLE001 — any unparsable input is the same user error
        raise DomainError(_("Enter a valid amount."), field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError(_("The amount must be greater than zero."), field=field)
    if to_fen(amount) != amount:
        raise DomainError(_("Amounts have at most two decimals (fen)."), field=field)
    if amount >= Decimal("1E+14"):
        raise DomainError(_("The amount is too large."), field=field)
    return to_fen(amount)


def not_in_future(value: date, field: str) -> date:
    if value > timezone.localdate():
        raise DomainError(_("The date cannot be in the future."), field=field)
    return value
