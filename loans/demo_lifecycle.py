"""Demo data for the loan lifecycle: credit lines, contracts, notices and loans in every state —
contracted, waiting for disbursement, active, overdue at several days past due (special mention,
substandard, doubtful, loss), settled and written off — with their schedules, repayments and
classification overrides.

Everything goes through the services, with past dates (drawdown, signing, disbursement,
repayments) so the schedules have installments already due. Idempotent: a customer who already
has a credit line is left alone, so a second run creates nothing.

Needs the organisation and its demo staff (``coop.demo``), and customers with credit ratings owned
by account managers of their branch (the customers demo).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from coop.models import User
from customers.models import Customer
from loans.demo_origination import seed_products
from loans.models import CreditLine, Installment, Loan, Product
from loans.selectors_origination import amount_range_for, product_is_eligible
from loans.services.classification import (
    classification_override_approve,
    classification_override_propose,
    loan_write_off,
    loans_classify_all,
)
from loans.services.credit import (
    credit_line_drawdown,
    credit_line_grant,
    guarantee_contract_create,
)
from loans.services.disbursement import contract_sign, loan_cancel, loan_disburse, notice_issue
from loans.services.repayment import repayment_quote, repayment_record

D = Decimal
MICRO = "farmer-microcredit"
REVOLVING = "guaranteed-revolving"


@dataclass
class Cast:
    """Who does what in one branch."""

    manager: User
    risk: User
    teller: User
    director: User


@dataclass
class Ctx:
    today: date
    cast: Cast
    products: dict[str, Product]

    def months_ago(self, months: int, days: int = 0) -> date:
        return self.today - relativedelta(months=months) - relativedelta(days=days)


def _account(customer: Customer) -> str:
    return f"6228480{customer.pk:012d}"


def _line(ctx: Ctx, customer: Customer, code: str, *, guarantee: bool = False) -> CreditLine:
    product = ctx.products[code]
    limits = amount_range_for(product, customer)
    valid_from = ctx.months_ago(20)
    gc = None
    if guarantee:
        gc = guarantee_contract_create(
            actor=ctx.cast.manager,
            customer=customer,
            guarantor_name="颍上县农业融资担保有限公司",
            guarantor_is_company=True,
            max_amount=limits.max_amount,
            valid_from=valid_from,
            valid_to=valid_from + relativedelta(years=2),
            signed_on=valid_from,
        )
    return credit_line_grant(
        actor=ctx.cast.manager,
        customer=customer,
        product=product,
        limit=limits.max_amount if code == MICRO else D("50000.00"),
        valid_from=valid_from,
        valid_to=valid_from + relativedelta(years=2) - relativedelta(days=1),
        revolving=product.revolving,
        guarantee_contract=gc,
    )


def _draw(ctx: Ctx, line: CreditLine, amount: str, term: int, method: str, on: date) -> Loan:
    product = line.product
    rate = product.min_rate + (product.max_rate - product.min_rate) / 2
    return credit_line_drawdown(
        actor=ctx.cast.risk,
        credit_line=line,
        amount=D(amount),
        term_months=term,
        repayment_method=method,
        annual_rate=rate.quantize(D("0.0001")),
        purpose="春耕生产资料及扩大种植",
        drawn_on=on,
    )


def _notice(ctx: Ctx, loan: Loan, on: date):
    contract_sign(actor=ctx.cast.risk, contract=loan.contract, signed_on=on)
    return notice_issue(
        actor=ctx.cast.risk, contract=loan.contract, account_number=_account(loan.customer)
    )


def _active(ctx: Ctx, line: CreditLine, amount: str, term: int, method: str, on: date) -> Loan:
    loan = _draw(ctx, line, amount, term, method, on)
    notice = _notice(ctx, loan, on)
    return loan_disburse(
        actor=ctx.cast.teller, notice=notice, idempotency_key=str(uuid.uuid4()), disbursed_on=on
    )


def draw_and_disburse(line: CreditLine, amount: Decimal, *, term: int = 12) -> Loan | None:
    """A farmer draws on a freshly signed line today: drawdown, signed contract, notice and
    disbursement at the counter, by the staff of the line's branch (the whole-village demo
    uses it). None when the branch has no demo staff."""
    cast = _cast(line.branch.code) if line.branch.code in _CAST else None
    if cast is None:
        return None
    ctx = Ctx(today=timezone.localdate(), cast=cast, products={})
    method = (line.product.repayment_methods or ["equal_installment"])[0]
    return _active(ctx, line, str(amount), term, method, ctx.today)


def _pay_installments(ctx: Ctx, loan: Loan, count: int) -> None:
    """Pay the first ``count`` installments on their due dates."""
    for row in Installment.objects.filter(loan=loan).order_by("number")[:count]:
        repayment_record(
            actor=ctx.cast.teller,
            loan=loan,
            amount=row.principal + row.interest,
            paid_on=row.due_date,
            idempotency_key=str(uuid.uuid4()),
        )


# --- the plan: one step per customer ------------------------------------------------------------


def _revolving_in_use(ctx: Ctx, customer: Customer) -> None:
    # A guaranteed revolving line with one loan repaid on time and a second drawdown whose notice
    # waits at the counter.
    line = _line(ctx, customer, REVOLVING, guarantee=True)
    loan = _active(ctx, line, "20000.00", 12, "equal_principal", ctx.months_ago(5))
    _pay_installments(ctx, loan, 4)
    waiting = _draw(ctx, line, "10000.00", 6, "equal_installment", ctx.today)
    _notice(ctx, waiting, ctx.today)


def _contract_unsigned(ctx: Ctx, customer: Customer) -> None:
    # A drawdown the borrower gave up after its notice was issued (cancelled with the notice),
    # then the one they took instead, its contract not signed yet.
    line = _line(ctx, customer, REVOLVING, guarantee=True)
    given_up = _draw(ctx, line, "30000.00", 12, "equal_installment", ctx.months_ago(0, 10))
    _notice(ctx, given_up, ctx.months_ago(0, 10))
    loan_cancel(actor=ctx.cast.risk, loan=given_up, reason="借款人改变用款计划，申请减少借款金额")
    _draw(ctx, line, "15000.00", 12, "interest_only", ctx.today)


def _current_micro(ctx: Ctx, customer: Customer) -> None:
    line = _line(ctx, customer, MICRO)
    loan = _active(ctx, line, str(line.limit), 12, "equal_installment", ctx.months_ago(3))
    _pay_installments(ctx, loan, 3)


def _special_mention(ctx: Ctx, customer: Customer) -> None:
    # A bullet loan 10 days past its maturity.
    line = _line(ctx, customer, MICRO)
    _active(ctx, line, str(line.limit), 6, "bullet", ctx.months_ago(6, days=10))


def _substandard_with_partial(ctx: Ctx, customer: Customer) -> None:
    # Three installments on time, then a partial late payment, then nothing: ~5 months past due.
    line = _line(ctx, customer, MICRO)
    loan = _active(ctx, line, str(line.limit), 12, "equal_principal", ctx.months_ago(8))
    _pay_installments(ctx, loan, 3)
    fourth = Installment.objects.get(loan=loan, number=4)
    repayment_record(
        actor=ctx.cast.teller,
        loan=loan,
        amount=(fourth.interest + D("100.00")),
        paid_on=fourth.due_date + relativedelta(days=12),
        idempotency_key=str(uuid.uuid4()),
    )


def _doubtful(ctx: Ctx, customer: Customer) -> None:
    line = _line(ctx, customer, MICRO)
    _active(ctx, line, str(line.limit), 12, "equal_installment", ctx.months_ago(9, days=20))


def _loss(ctx: Ctx, customer: Customer) -> None:
    line = _line(ctx, customer, MICRO)
    _active(ctx, line, str(line.limit), 12, "interest_only", ctx.months_ago(14))


def _settled_early(ctx: Ctx, customer: Customer) -> None:
    line = _line(ctx, customer, MICRO)
    loan = _active(ctx, line, str(line.limit), 12, "equal_installment", ctx.months_ago(8))
    _pay_installments(ctx, loan, 5)
    paid_on = ctx.months_ago(2, days=5)
    payoff = repayment_quote(loan=Loan.objects.get(pk=loan.pk), as_of=paid_on).payoff
    repayment_record(
        actor=ctx.cast.teller,
        loan=loan,
        amount=payoff,
        paid_on=paid_on,
        idempotency_key=str(uuid.uuid4()),
    )


def _written_off(ctx: Ctx, customer: Customer) -> None:
    line = _line(ctx, customer, MICRO)
    loan = _active(ctx, line, str(line.limit), 6, "bullet", ctx.months_ago(19))
    loan_write_off(
        actor=ctx.cast.director, loan=loan, reason="借款人长期外出失联，担保落空，经贷审会同意核销"
    )


PLAN_B01: list[tuple[str, Callable[[Ctx, Customer], None]]] = [
    (REVOLVING, _revolving_in_use),
    (REVOLVING, _contract_unsigned),
    (MICRO, _current_micro),
    (MICRO, _special_mention),
    (MICRO, _substandard_with_partial),
    (MICRO, _doubtful),
    (MICRO, _loss),
    (MICRO, _settled_early),
    (MICRO, _written_off),
]
PLAN_OTHER: list[tuple[str, Callable[[Ctx, Customer], None]]] = [
    (MICRO, _current_micro),
    (MICRO, _special_mention),
    (REVOLVING, _revolving_in_use),
]


# (branch manager, risk officer, teller, head-office director) per branch; branches without a
# risk officer of their own are served by the head office's.
_CAST = {
    "B01": ("b1_manager", "b1_risk", "b1_teller", "director"),
    "B02": ("b2_manager", "risk1", "b2_teller", "director"),
    "B03": ("b3_manager", "risk1", "b3_teller", "director"),
    "B04": ("b4_manager", "risk1", "b4_teller", "director"),
}


def _cast(branch_code: str) -> Cast | None:
    names = _CAST[branch_code]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    if not all(name in users for name in names):
        return None
    return Cast(*(users[name] for name in names))


def _candidates(branch_code: str) -> list[Customer]:
    # Newest first: the origination demo files its applications for the oldest customers.
    return list(
        Customer.objects.filter(
            branch__code=branch_code, kind=Customer.Kind.INDIVIDUAL, credit_lines__isnull=True
        )
        .exclude(credit_rating="")
        .select_related("branch", "owner")
        .order_by("-id")
    )


def _overrides(ctx_by_branch: dict[str, Ctx]) -> int:
    """One approved (locked) manual downgrade and one proposal waiting, in B01."""
    ctx = ctx_by_branch.get("B01")
    if ctx is None or ctx.cast.risk.pk == ctx.cast.manager.pk:
        return 0
    live = Loan.objects.filter(
        branch__code="B01",
        state__in=[Loan.State.ACTIVE, Loan.State.OVERDUE],
        classification_overrides__isnull=True,
    ).order_by("days_past_due", "id")
    made = 0
    normal = live.filter(classification="normal", state=Loan.State.ACTIVE).first()
    if normal is not None:
        proposal = classification_override_propose(
            actor=ctx.cast.risk,
            loan=normal,
            to_class="special_mention",
            reason="借款人所在养殖场受洪灾影响，还款来源存在不确定性",
        )
        classification_override_approve(actor=ctx.cast.manager, override=proposal)
        made += 1
    overdue = live.filter(classification="special_mention", classification_locked=False).first()
    if overdue is not None:
        classification_override_propose(
            actor=ctx.cast.risk,
            loan=overdue,
            to_class="substandard",
            reason="借款人经营收入明显下降，已连续逾期，建议下调为次级",
        )
        made += 1
    return made


@transaction.atomic
def seed(*, today: date | None = None) -> str:
    """Credit lines and loans in every state for the demo branches (``today`` defaults to the
    current date; the history is dated back from it). Safe to run again: a branch that already
    has credit lines is skipped."""
    today = today or timezone.localdate()
    products = seed_products()
    if MICRO not in products or REVOLVING not in products:
        return "loan products missing: nothing seeded"
    ctx_by_branch: dict[str, Ctx] = {}
    done = 0
    for branch_code, plan in (
        ("B01", PLAN_B01),
        ("B02", PLAN_OTHER),
        ("B03", PLAN_OTHER),
        ("B04", PLAN_OTHER),
    ):
        cast = _cast(branch_code)
        # A branch that already has credit lines was seeded before (or holds real data).
        if cast is None or CreditLine.objects.filter(branch__code=branch_code).exists():
            continue
        ctx = Ctx(today=today, cast=cast, products=products)
        ctx_by_branch[branch_code] = ctx
        customers = _candidates(branch_code)
        for code, step in plan:
            customer = next((c for c in customers if product_is_eligible(products[code], c)), None)
            if customer is None:
                break
            customers.remove(customer)
            step(ctx, customer)
            done += 1
    classified = loans_classify_all(today=today)
    overrides = _overrides(ctx_by_branch) if done else 0
    return (
        f"{done} customers given credit, {Loan.objects.count()} loans in all; "
        f"{classified['reclassified']} reclassified, {overrides} overrides"
    )
