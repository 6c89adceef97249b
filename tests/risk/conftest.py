"""Fixtures for the approval workflow: the default rules, the demo product catalogue, customers
with A/B account managers, and applications opened as cases and driven to any stage through the
real services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import count

import pytest
from django.utils import translation

from coop.roles import Role
from customers.models import CreditRating, Customer, CustomerCategory, IndustryCategory
from loans.demo_origination import seed_products
from loans.models import LoanApplication, Product
from loans.services.origination import loan_application_create
from risk import services
from risk.models import ApprovalCase, Stage

D = Decimal
GUARANTOR = [{"name": "县农业融资担保有限公司", "is_company": True}]
COLLATERAL = [{"description": "自有住房一套", "appraised_value": D("2000000.00")}]
COLLATERAL_SECURITIES = (Product.Security.COLLATERAL, Product.Security.PLEDGE)


@dataclass
class Team:
    """Everyone a case meets on its way: B01's account managers (A and B roles), risk officer
    and manager, two head-office risk officers, and the loan committee."""

    am_a: object
    am_b: object
    branch_risk: object
    branch_manager: object
    hq_risk1: object
    hq_risk2: object
    committee: list

    @property
    def pool(self) -> list:
        return [
            self.am_b,
            self.am_a,
            self.branch_risk,
            self.hq_risk1,
            self.hq_risk2,
            self.branch_manager,
        ]


@pytest.fixture(autouse=True)
def english():
    """Messages compared in these tests are the English msgids, whatever the catalogue says."""
    with translation.override("en"):
        yield


@pytest.fixture
def risk_config(db):
    # The post_migrate hook installs the defaults; a test that changed them rolls back.
    services.config_ensure_defaults()


@pytest.fixture
def products(db):
    return seed_products()


@pytest.fixture
def team(make_staff, risk_config) -> Team:
    return Team(
        am_a=make_staff(Role.ACCOUNT_MANAGER, username="am_a"),
        am_b=make_staff(Role.ACCOUNT_MANAGER, username="am_b"),
        branch_risk=make_staff(Role.RISK_OFFICER, username="b1_risk"),
        branch_manager=make_staff(Role.BRANCH_MANAGER, username="b1_manager"),
        hq_risk1=make_staff(Role.RISK_OFFICER, unit="HQ", username="hq_risk1"),
        hq_risk2=make_staff(Role.RISK_OFFICER, unit="HQ", username="hq_risk2"),
        committee=[
            make_staff(Role.LOAN_COMMITTEE, unit="HQ", username=f"member{i}") for i in range(1, 7)
        ],
    )


_names = count(1)


@pytest.fixture
def make_customer(org, team):
    def make(
        *,
        kind: str = Customer.Kind.INDIVIDUAL,
        branch: str = "B01",
        owner=None,
        b_manager="default",
        credit_rating: str = CreditRating.GOOD,
        category: str = CustomerCategory.MODERATE,
        industry: str = IndustryCategory.MODERATE,
    ) -> Customer:
        return Customer.objects.create(
            kind=kind,
            name=f"客户{next(_names)}",
            branch=org[branch],
            owner=owner or team.am_a,
            b_manager=team.am_b if b_manager == "default" else b_manager,
            credit_rating=credit_rating if kind == Customer.Kind.INDIVIDUAL else "",
            customer_category=category,
            industry_category=industry,
        )

    return make


@pytest.fixture
def make_application(products):
    def make(customer: Customer, product_code: str, amount, *, actor=None) -> LoanApplication:
        product: Product = products[product_code]
        needs_guarantor = product.security in (
            Product.Security.GUARANTOR,
            Product.Security.MAX_AMOUNT_GUARANTEE,
            Product.Security.GUARANTEE_COMPANY,
        )
        return loan_application_create(
            actor=actor or customer.owner,
            customer=customer,
            product=product,
            amount=D(str(amount)),
            term_months=12,
            annual_rate=product.min_rate,
            repayment_method=product.repayment_methods[0],
            purpose="生产经营",
            guarantors=GUARANTOR if needs_guarantor else [],
            collaterals=COLLATERAL if product.security in COLLATERAL_SECURITIES else [],
        )

    return make


# Products and amounts the default rules send down each route.
ROUTE_EXAMPLES = {
    "low": ("individual", "farmer-microcredit", "4000"),
    "medium": ("individual", "white-collar", "50000"),
    "high": ("corporate", "small-enterprise", "800000"),
}


@pytest.fixture
def open_case(make_customer, make_application, team):
    """``open_case("high")`` — a case opened by its customer's account manager (A role), with a
    customer and product the default rules send down that route (``expect`` when the test
    changed the rules)."""

    def make(
        route: str = "low",
        *,
        amount=None,
        product=None,
        customer=None,
        expect: str | None = None,
        **customer_kw,
    ) -> ApprovalCase:
        kind, product_code, default_amount = ROUTE_EXAMPLES[route]
        customer = customer or make_customer(kind=kind, **customer_kw)
        application = make_application(customer, product or product_code, amount or default_amount)
        case = services.approval_case_open(application=application, actor=customer.owner)
        assert case.route == (expect or route), case.routing_facts
        return case

    return make


def first_allowed(case: ApprovalCase, name: str, people: list):
    from risk import policy

    for person in people:
        if policy.check(case, person, name):
            return person
    raise AssertionError(f"nobody in the pool may {name} at {case.state}")


@pytest.fixture
def drive(team):
    """Drive a case forward through the services to ``stage`` (signing the investigation with
    the A and B managers on the way); each stage is completed by the first person allowed."""

    def run(case: ApprovalCase, stage: str) -> ApprovalCase:
        while case.state != stage:
            if case.state == Stage.INVESTIGATION:
                case = services.investigation_sign(case=case, actor=team.am_a, comment="A 调查")
                case = services.investigation_sign(case=case, actor=team.am_b, comment="B 核实")
                continue
            actor = first_allowed(case, "advance", team.pool)
            case = services.approval_case_advance(case=case, actor=actor, comment="同意")
        return case

    return run
