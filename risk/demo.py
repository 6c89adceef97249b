"""Demo approval cases: one in every stage of every route (and in each terminal state), with
believable trails spread over the last two months, plus loan committee meetings — one open with
secret votes, one closed that passed its case.

Idempotent: a (route, stage) that already has a case is skipped, so a second run adds nothing.
Everything goes through the real services (with ``at`` set to replay a plausible history), so the
trails, the loans applications and the audit events are exactly what clerks would have produced.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from coop.models import User
from coop.roles import Role
from customers.models import Customer, CustomerCategory, IndustryCategory
from loans.models import LoanApplication, Product
from loans.selectors_origination import amount_range_for
from loans.services.origination import loan_application_create
from risk import policy, services
from risk.models import (
    ROUTE_STAGES,
    ApprovalCase,
    CommitteeMeeting,
    CommitteeVote,
    ReasonCode,
    Stage,
)
from risk.routing import has_overdue_history

PLAN = {
    # route: [(customer kind, product code, amount or None for the rating tier's maximum)],
    # the first with customers left is used.
    "low": [(Customer.Kind.INDIVIDUAL, "farmer-microcredit", None)],
    "medium": [(Customer.Kind.INDIVIDUAL, "white-collar", Decimal("80000.00"))],
    "high": [
        (Customer.Kind.CORPORATE, "small-enterprise", Decimal("800000.00")),
        # a large breeder's loan is high risk by amount (above the ¥300,000 threshold)
        (Customer.Kind.INDIVIDUAL, "large-scale-farming", Decimal("600000.00")),
    ],
}
COMMITTEE_AMOUNT = Decimal("3500000.00")
PURPOSE = {
    "low": "购买化肥、种子等春耕生产资料",
    "medium": "家庭装修",
    "high": "采购原材料，补充流动资金",
}
GUARANTOR = [{"name": "县农业融资担保有限公司", "is_company": True}]


class _Clock:
    """Plausible history: each step a few hours to two days after the previous one."""

    def __init__(self, start: datetime, rng: random.Random):
        self.now = start
        self.rng = rng

    def step(self, low: int = 2, high: int = 40) -> datetime:
        self.now += timedelta(hours=self.rng.randint(low, high), minutes=self.rng.randint(0, 59))
        return min(self.now, timezone.now())


def _candidates(kind: str) -> list[Customer]:
    """Customers the default rules route as planned: no cautious category or industry, no
    overdue history, an A/B pair of account managers (the high route's investigation)."""
    queryset = (
        Customer.objects.filter(kind=kind, b_manager__isnull=False)
        .exclude(customer_category__in=[CustomerCategory.CAUTIOUS, CustomerCategory.EXIT])
        .exclude(industry_category=IndustryCategory.CAUTIOUS)
        .select_related("branch", "owner", "b_manager")
        .order_by("branch__code", "id")
    )
    if kind == Customer.Kind.INDIVIDUAL:
        queryset = queryset.exclude(credit_rating="")
    return [c for c in queryset[:200] if not has_overdue_history(c.pk)]


def _people(customer: Customer) -> list[User]:
    """Who may act on the customer's case, in the order the demo asks them."""
    branch_staff = User.objects.filter(
        is_active=True, org_unit__path__startswith=customer.branch.path
    )
    head_office_risk = User.objects.filter(
        is_active=True, org_unit__parent__isnull=True, groups__name=Role.RISK_OFFICER
    )
    return [
        customer.b_manager,
        customer.owner,
        *branch_staff.filter(groups__name=Role.RISK_OFFICER).order_by("id"),
        *branch_staff.filter(groups__name=Role.BRANCH_MANAGER).order_by("id"),
        *head_office_risk.order_by("id"),
    ]


def _first_allowed(case: ApprovalCase, name: str, people: list[User]) -> User | None:
    return next((p for p in people if p and policy.check(case, p, name)), None)


def _application(customer: Customer, route: str, product: Product, amount: Decimal | None):
    if amount is None:
        amount = amount_range_for(product, customer).max_amount
    needs_guarantor = product.security in (
        Product.Security.GUARANTOR,
        Product.Security.MAX_AMOUNT_GUARANTEE,
        Product.Security.GUARANTEE_COMPANY,
    )
    return loan_application_create(
        actor=customer.owner,
        customer=customer,
        product=product,
        amount=amount,
        term_months=12,
        annual_rate=product.min_rate,
        repayment_method=product.repayment_methods[0],
        purpose=PURPOSE[route],
        guarantors=GUARANTOR if needs_guarantor else [],
    )


def _drive(case: ApprovalCase, stage: str, clock: _Clock, people: list[User]) -> ApprovalCase:
    """Advance ``case`` until it reaches ``stage`` (a working stage or approved)."""
    while case.state != stage and not case.is_closed:
        if case.state == Stage.INVESTIGATION:
            customer = case.customer
            case = services.investigation_sign(
                case=case, actor=customer.owner, comment="实地走访，经营正常。", at=clock.step()
            )
            case = services.investigation_sign(
                case=case, actor=customer.b_manager, comment="核实无误。", at=clock.step(1, 8)
            )
            continue
        actor = _first_allowed(case, policy.ADVANCE, people)
        if actor is None:  # e.g. above every limit: the committee's part
            return case
        case = services.approval_case_advance(
            case=case, actor=actor, comment="同意。", at=clock.step()
        )
    return case


def _open(customer, route, product, amount, clock) -> ApprovalCase:
    application = _application(customer, route, product, amount)
    return services.approval_case_open(
        application=application, actor=customer.owner, at=clock.step()
    )


def _targets(route: str) -> list[str]:
    stages = list(ROUTE_STAGES[route])
    return [*stages, Stage.APPROVED, Stage.REJECTED, Stage.WITHDRAWN]


def _committee_members() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.LOAN_COMMITTEE, is_active=True)
        .filter(org_unit__parent__isnull=True)
        .order_by("username")
    )


def _committee_cases(products, pool: list[Customer], clock_for, created: list) -> None:
    members = _committee_members()
    if len(members) < 5 or not pool:
        return
    existing = CommitteeMeeting.objects.values_list("status", flat=True)
    product = products["small-enterprise"]
    if CommitteeMeeting.Status.CLOSED not in existing:
        customer = pool[0]
        clock = clock_for()
        case = _drive(
            _open(customer, "high", product, COMMITTEE_AMOUNT, clock),
            Stage.LOAN_APPROVAL,
            clock,
            _people(customer),
        )
        meeting = services.committee_meeting_convene(case=case, actor=members[0], at=clock.step())
        for member, vote in zip(members, ["approve"] * 5 + ["abstain"], strict=False):
            services.committee_vote_cast(
                meeting=meeting, actor=member, vote=vote, comment="同意。", at=clock.step(1, 3)
            )
        services.committee_meeting_close(meeting=meeting, actor=members[0], at=clock.step(1, 2))
        created.append(case)
    if CommitteeMeeting.Status.OPEN not in existing:
        customer = pool[-1]
        clock = clock_for()
        case = _drive(
            _open(customer, "high", product, COMMITTEE_AMOUNT + Decimal("500000"), clock),
            Stage.LOAN_APPROVAL,
            clock,
            _people(customer),
        )
        meeting = services.committee_meeting_convene(case=case, actor=members[0], at=clock.step())
        for member, vote in zip(members[:3], ["approve", "approve", "reject"], strict=True):
            services.committee_vote_cast(
                meeting=meeting,
                actor=member,
                vote=CommitteeVote.Vote(vote),
                comment="担保需加强。" if vote == "reject" else "",
                at=clock.step(1, 3),
            )
        created.append(case)


def seed() -> str:
    from loans.demo_origination import seed_products

    products = seed_products()
    services.config_ensure_defaults()
    rng = random.Random(5)
    start = timezone.now() - timedelta(days=60)
    created: list[ApprovalCase] = []

    def clock_for() -> _Clock:
        return _Clock(start + timedelta(hours=rng.randint(0, 24 * 40)), rng)

    used: set[int] = set(
        LoanApplication.objects.filter(approval_case__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    pools = {kind: _candidates(kind) for kind in Customer.Kind.values}

    def next_customer(route: str):
        for kind, code, amount in PLAN[route]:
            for customer in pools[kind]:
                if customer.pk not in used:
                    used.add(customer.pk)
                    return customer, products[code], amount
        return None

    # The committee's cases first: only corporates borrow above every single officer's limit.
    _committee_cases(
        products,
        [c for c in pools[Customer.Kind.CORPORATE] if c.pk not in used][:2],
        clock_for,
        created,
    )
    used.update(case.customer_id for case in created)

    for route in PLAN:
        for target in _targets(route):
            if ApprovalCase.objects.filter(route=route, state=target).exists():
                continue
            picked = next_customer(route)
            if picked is None:
                break
            customer, product, amount = picked
            clock = clock_for()
            people = _people(customer)
            case = _open(customer, route, product, amount, clock)
            if case.route != route:  # the rules were changed: leave it where they sent it
                created.append(case)
                continue
            stages = list(ROUTE_STAGES[route])
            if target == Stage.REJECTED:
                case = _drive(case, stages[-1], clock, people)
                actor = _first_allowed(case, policy.REJECT, people)
                if actor is not None:
                    case = services.approval_case_reject(
                        case=case,
                        actor=actor,
                        reason_code=ReasonCode.REPAYMENT_CAPACITY,
                        comment="经营收入不足以覆盖还款。",
                        at=clock.step(),
                    )
            elif target == Stage.WITHDRAWN:
                case = services.approval_case_withdraw(
                    case=case,
                    actor=customer.owner,
                    comment="客户已通过其他渠道解决资金需求。",
                    at=clock.step(),
                )
            elif target == Stage.APPLICATION:
                # Back with the account manager for more information.
                actor = _first_allowed(case, policy.RETURN, people)
                if actor is not None:
                    case = services.approval_case_return(
                        case=case, actor=actor, comment="请补充收入证明。", at=clock.step()
                    )
            else:
                case = _drive(case, target, clock, people)
            created.append(case)
    open_count = ApprovalCase.objects.exclude(
        Q(state__in=[Stage.APPROVED, Stage.REJECTED, Stage.WITHDRAWN])
    ).count()
    return f"{len(created)} new approval cases, {open_count} open"
