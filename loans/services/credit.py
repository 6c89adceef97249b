"""Credit lines (授信) and drawdowns (用信), and the maximum-amount guarantee contracts
(最高额保证合同) that cover several drawdowns.

The invariant that matters: concurrent drawdowns never take a line beyond its limit. The
drawdown service locks the credit line row and computes availability inside that lock, so two
drawdowns on one line run one after the other.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import User
from coop.money import format_yuan
from coop.services import ConflictError, DomainError, audit_record, keyed
from customers.models import Customer
from loans.models import (
    Contract,
    CreditLine,
    GuaranteeContract,
    Loan,
    Product,
    RepaymentMethod,
)
from loans.schedules import ScheduleError, generate_schedule
from loans.selectors_lifecycle import credit_line_usage, guarantee_usage
from loans.selectors_origination import amount_range_for, product_is_eligible
from loans.services.lifecycle_common import clean_amount, lock, next_number, require_perm

MAX_TEXT = 200


def _money_data(**values: Any) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


# --- guarantee contracts ------------------------------------------------------------------------


@transaction.atomic
@keyed("guarantee_contract.create", GuaranteeContract)
def guarantee_contract_create(
    *,
    actor: User,
    customer: Customer,
    guarantor_name: str,
    max_amount: Decimal,
    valid_from: date,
    valid_to: date,
    guarantor_is_company: bool = False,
    signed_on: date | None = None,
) -> GuaranteeContract:
    """Record a signed maximum-amount guarantee contract for ``customer`` (the borrower).
    Branch managers and risk officers record them; the caller has fetched the customer
    through the actor's scope. A form's ``request_key=`` records it once however often the
    form is submitted."""
    require_perm(actor, "loans.add_guaranteecontract")
    guarantor_name = (guarantor_name or "").strip()
    if not guarantor_name:
        raise DomainError(_("Name the guarantor."), field="guarantor_name")
    max_amount = clean_amount(max_amount, "max_amount")
    if valid_to < valid_from:
        raise DomainError(_("The end date is before the start date."), field="valid_to")
    guarantee = GuaranteeContract.objects.create(
        number=next_number(GuaranteeContract, "GC"),
        customer=customer,
        guarantor_name=guarantor_name[:100],
        guarantor_is_company=guarantor_is_company,
        max_amount=max_amount,
        valid_from=valid_from,
        valid_to=valid_to,
        signed_on=signed_on,
    )
    audit_record(
        actor=actor,
        action="guarantee_contract.create",
        obj=guarantee,
        data=_money_data(max_amount=max_amount, valid_from=valid_from, valid_to=valid_to),
    )
    return guarantee


def check_guarantee(guarantee: GuaranteeContract, customer: Customer, on: date) -> None:
    if guarantee.customer_id != customer.pk:
        raise DomainError(
            _("The guarantee contract belongs to another borrower."), field="guarantee_contract"
        )
    if not guarantee.valid_from <= on <= guarantee.valid_to:
        raise DomainError(
            _("The guarantee contract is not in force on %(date)s.") % {"date": on},
            field="guarantee_contract",
        )


def commit_guarantee(guarantee: GuaranteeContract, amount: Decimal) -> None:
    """Refuse ``amount`` beyond what the guarantee still covers. The guarantee row is locked
    first: several lines (or applications) may share one guarantee contract."""
    locked = lock(GuaranteeContract, guarantee.pk)
    usage = guarantee_usage(locked)
    if amount > usage.available:
        raise ConflictError(
            _("The guarantee contract covers only %(available)s more.")
            % {"available": format_yuan(usage.available)},
            code="guarantee_exhausted",
        )


# --- credit lines -------------------------------------------------------------------------------


def _check_limit(product: Product, customer: Customer, limit: Decimal) -> None:
    if not product_is_eligible(product, customer):
        raise DomainError(
            _("%(product)s is not offered to this customer.") % {"product": product.name},
            field="product",
            code="ineligible",
        )
    limits = amount_range_for(product, customer)
    if not limits.min_amount <= limit <= limits.max_amount:
        raise DomainError(
            _("The limit must be between %(min)s and %(max)s for this customer.")
            % {"min": format_yuan(limits.min_amount), "max": format_yuan(limits.max_amount)},
            field="limit",
            code="limit_out_of_range",
        )


@transaction.atomic
@keyed("credit_line.grant", CreditLine)
def credit_line_grant(
    *,
    actor: User,
    customer: Customer,
    product: Product,
    limit: Decimal,
    valid_from: date,
    valid_to: date,
    revolving: bool,
    guarantee_contract: GuaranteeContract | None = None,
    source: str = CreditLine.Source.APPLICATION,
) -> CreditLine:
    """Grant a credit line (授信). The limit must lie in the product's amount range for the
    customer (their rating's tier on tiered products). The caller checks who may grant: a
    branch manager on the credit-line page, the whole-village campaign at signing. A form's
    ``request_key=`` grants the line once however often the form is submitted."""
    limit = clean_amount(limit, "limit")
    if source not in CreditLine.Source.values:
        raise DomainError(_("Unknown source."), field="source")
    if valid_to < valid_from:
        raise DomainError(_("The end date is before the start date."), field="valid_to")
    _check_limit(product, customer, limit)
    if revolving and not product.revolving:
        raise DomainError(
            _("%(product)s is not a revolving product.") % {"product": product.name},
            field="revolving",
        )
    if revolving and product.revolving_years:
        # Seed 001: "revolving within 2 years up to the maximum".
        latest = valid_from + relativedelta(years=product.revolving_years)
        if valid_to > latest:
            raise DomainError(
                _("A revolving line of this product runs at most until %(date)s.")
                % {"date": latest},
                field="valid_to",
            )
    if product.security == Product.Security.MAX_AMOUNT_GUARANTEE and guarantee_contract is None:
        raise DomainError(
            _("This product needs a maximum-amount guarantee contract."),
            field="guarantee_contract",
        )
    if guarantee_contract is not None:
        check_guarantee(guarantee_contract, customer, valid_from)
    line = CreditLine.objects.create(
        number=next_number(CreditLine, "CL"),
        customer=customer,
        branch=customer.branch,
        product=product,
        limit=limit,
        valid_from=valid_from,
        valid_to=valid_to,
        revolving=revolving,
        guarantee_contract=guarantee_contract,
        source=source,
        granted_by=actor,
    )
    audit_record(
        actor=actor,
        action="credit_line.grant",
        obj=line,
        to_state=line.status,
        data=_money_data(limit=limit, valid_from=valid_from, valid_to=valid_to)
        | {"revolving": revolving, "source": source},
    )
    return line


@transaction.atomic
def credit_line_change_status(
    *, actor: User, credit_line: CreditLine, status: str, comment: str = ""
) -> CreditLine:
    """Freeze, unfreeze or close a line; drawdowns need an active one."""
    require_perm(actor, "loans.add_creditline")
    if status not in CreditLine.Status.values:
        raise DomainError(_("Unknown status."), field="status")
    line = lock(CreditLine, credit_line.pk)
    if line.status == CreditLine.Status.CLOSED:
        raise ConflictError(_("The credit line is closed."), code="closed")
    if line.status == status:
        return line
    previous = line.status
    line.status = status
    line.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="credit_line.status",
        obj=line,
        from_state=previous,
        to_state=status,
        comment=comment[:MAX_TEXT],
    )
    return line


# --- terms shared by drawdowns and contracts ----------------------------------------------------


def check_terms(
    *,
    product: Product,
    amount: Decimal,
    term_months: Any,
    annual_rate: Any,
    repayment_method: str,
) -> tuple[int, Decimal]:
    """Validate term, rate and method against the product and prove a schedule can be built,
    so the disbursement later cannot fail on terms accepted today."""
    try:
        term = int(term_months)
    except (TypeError, ValueError):
        raise DomainError(_("Enter the term in months."), field="term_months") from None
    if not product.min_term_months <= term <= product.max_term_months:
        raise DomainError(
            _("The term must be %(min)s to %(max)s months.")
            % {"min": product.min_term_months, "max": product.max_term_months},
            field="term_months",
        )
    try:
        rate = Decimal(str(annual_rate))
    except Exception:  # noqa: BLE001 — any unparsable input is the same user error
        raise DomainError(_("Enter the annual rate."), field="annual_rate") from None
    if not rate.is_finite() or not product.min_rate <= rate <= product.max_rate:
        raise DomainError(
            _("The annual rate must be between %(min)s and %(max)s.")
            % {"min": f"{product.min_rate * 100:.2f}%", "max": f"{product.max_rate * 100:.2f}%"},
            field="annual_rate",
        )
    if repayment_method not in RepaymentMethod.values or repayment_method not in (
        product.repayment_methods or []
    ):
        raise DomainError(
            _("This repayment method is not offered for the product."), field="repayment_method"
        )
    try:
        generate_schedule(
            amount=amount,
            annual_rate=rate,
            term_months=term,
            method=repayment_method,
            start_date=timezone.localdate(),
        )
    except ScheduleError:
        raise DomainError(
            _("No repayment schedule fits these terms; choose a shorter term or another method."),
            field="term_months",
        ) from None
    return term, rate


def commit_line(line: CreditLine, amount: Decimal, on: date) -> None:
    """Refuse a drawdown the (locked) line cannot carry on date ``on``."""
    if line.status != CreditLine.Status.ACTIVE:
        raise ConflictError(_("The credit line is not active."), code="line_not_active")
    if not line.valid_from <= on <= line.valid_to:
        raise ConflictError(
            _("The credit line is valid from %(start)s to %(end)s.")
            % {"start": line.valid_from, "end": line.valid_to},
            code="line_not_valid",
        )
    usage = credit_line_usage(line)
    if amount > usage.available:
        raise ConflictError(
            _("Only %(available)s of the credit line is available.")
            % {"available": format_yuan(usage.available)},
            code="limit_exceeded",
        )


def create_contract_and_loan(
    *,
    actor: User,
    customer: Customer,
    product: Product,
    amount: Decimal,
    term_months: int,
    annual_rate: Decimal,
    repayment_method: str,
    credit_line: CreditLine | None,
    application=None,
    guarantee_contract: GuaranteeContract | None,
    signed_on: date | None,
) -> Loan:
    contract = Contract.objects.create(
        number=next_number(Contract, "CT"),
        application=application,
        credit_line=credit_line,
        customer=customer,
        branch=customer.branch,
        amount=amount,
        term_months=term_months,
        annual_rate=annual_rate,
        repayment_method=repayment_method,
        guarantee_contract=guarantee_contract,
        signed_on=signed_on,
        created_by=actor,
    )
    loan = Loan.objects.create(
        number=next_number(Loan, "LN"),
        contract=contract,
        customer=customer,
        branch=customer.branch,
        product=product,
        credit_line=credit_line,
        account_manager_id=customer.owner_id,
        principal=amount,
        annual_rate=annual_rate,
        term_months=term_months,
        repayment_method=repayment_method,
    )
    terms = _money_data(amount=amount, annual_rate=annual_rate) | {
        "term_months": term_months,
        "repayment_method": repayment_method,
    }
    audit_record(actor=actor, action="contract.create", obj=contract, data=terms)
    if signed_on:
        audit_record(
            actor=actor, action="contract.sign", obj=contract, data={"signed_on": str(signed_on)}
        )
    audit_record(
        actor=actor,
        action="loan.create",
        obj=loan,
        to_state=Loan.State.CONTRACTED,
        data={"contract": contract.number},
    )
    return loan


@transaction.atomic
@keyed("credit_line.drawdown", Loan)
def credit_line_drawdown(
    *,
    actor: User,
    credit_line: CreditLine,
    amount: Decimal,
    term_months: int,
    repayment_method: str,
    annual_rate: Decimal,
    purpose: str,
    drawn_on: date | None = None,
) -> Loan:
    """用信: a Contract (under the line, no application) and its Loan in state contracted; the
    notice → disbursement path follows. ``drawn_on`` (default today) must lie in the line's
    validity; the demo data passes past dates to build a history. A form's ``request_key=``
    draws once however often the form is submitted."""
    require_perm(actor, "loans.add_contract")
    amount = clean_amount(amount)
    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError(_("State the purpose of the loan."), field="purpose")
    on = drawn_on or timezone.localdate()
    # The lock serialises drawdowns on this line: availability is read and consumed under it.
    line = lock(CreditLine, credit_line.pk)
    product = Product.objects.get(pk=line.product_id)
    customer = Customer.objects.select_related("branch").get(pk=line.customer_id)
    term, rate = check_terms(
        product=product,
        amount=amount,
        term_months=term_months,
        annual_rate=annual_rate,
        repayment_method=repayment_method,
    )
    commit_line(line, amount, on)
    if line.guarantee_contract_id:
        commit_guarantee(line.guarantee_contract, amount)
    loan = create_contract_and_loan(
        actor=actor,
        customer=customer,
        product=product,
        amount=amount,
        term_months=term,
        annual_rate=rate,
        repayment_method=repayment_method,
        credit_line=line,
        guarantee_contract=line.guarantee_contract,
        signed_on=None,
    )
    audit_record(
        actor=actor,
        action="credit_line.drawdown",
        obj=line,
        comment=purpose[:MAX_TEXT],
        data=_money_data(amount=amount, drawn_on=on) | {"loan": loan.number},
    )
    return loan
