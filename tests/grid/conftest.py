"""Fixtures for the grid tests: staff of two branches, a grid with a village of households, a
campaign driven to any phase through the real services, and loans for bad credit records.

Test modules use the helpers through the ``world`` fixture and never import this module: without
``__init__.py`` files pytest imports it under its own name, and a second import would give the
helpers a second sequence of ID numbers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coop.roles import Role, sync_roles
from customers.models import Customer
from customers.validators import id_check_character
from grid.models import Grid, Household, Village, VillageCreditCampaign
from grid.services.campaigns import (
    campaign_create,
    campaign_evaluators_set,
    campaign_households_add,
    campaign_start_crediting,
    evaluation_submit,
)
from grid.services.households import household_create
from grid.services.structure import grid_create, grid_officer_add, village_create
from loans.models import Contract, CreditLine, Loan, Product

D = Decimal
_sequence = itertools.count(1)


@pytest.fixture
def grid_roles(db):
    """Role groups with every app's permissions (coop syncs before later apps migrate)."""
    sync_roles()


def new_id_number(birth: date = date(1980, 5, 17), male: bool = True) -> str:
    n = next(_sequence) % 499
    first17 = f"341226{birth:%Y%m%d}{n * 2 + (1 if male else 0):03d}"
    return first17 + id_check_character(first17)


def make_customer(org, owner, *, branch: str = "B01", name: str | None = None) -> Customer:
    return Customer.objects.create(
        kind=Customer.Kind.INDIVIDUAL,
        name=name or f"村民{next(_sequence)}",
        branch=org[branch],
        owner=owner,
        id_number=new_id_number(),
        gender=Customer.Gender.MALE,
        birth_date=date(1980, 5, 17),
        mobile=f"138{next(_sequence):08d}",
    )


def make_product(**overrides) -> Product:
    n = next(_sequence)
    values = {
        "code": f"grid-test-{n}",
        "name": f"整村授信测试产品{n}",
        "kind": Product.Kind.CREDIT,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("500.00"),
        "max_amount": D("200000.00"),
        "min_term_months": 1,
        "max_term_months": 36,
        "min_rate": D("0.0435"),
        "max_rate": D("0.0850"),
        "repayment_methods": ["equal_installment", "bullet"],
        "security": Product.Security.NONE,
        "revolving": False,
        "default_route": "low",
    }
    values.update(overrides)
    return Product.objects.create(**values)


def make_loan(customer: Customer, granted_by, *, classification="normal", days_past_due=0):
    """A loan on the customer's record (ORM only: the grid tests need the fact, not its story)."""
    n = next(_sequence)
    product = make_product()
    line = CreditLine.objects.create(
        number=f"CLT{n:08d}",
        customer=customer,
        branch=customer.branch,
        product=product,
        limit=D("10000.00"),
        valid_from=date(2023, 1, 1),
        valid_to=date(2024, 12, 31),
        granted_by=granted_by,
    )
    contract = Contract.objects.create(
        number=f"CTT{n:08d}",
        credit_line=line,
        customer=customer,
        branch=customer.branch,
        amount=D("5000.00"),
        term_months=12,
        annual_rate=D("0.06"),
        repayment_method="bullet",
        created_by=granted_by,
    )
    return Loan.objects.create(
        number=f"LNT{n:08d}",
        contract=contract,
        customer=customer,
        branch=customer.branch,
        product=product,
        credit_line=line,
        account_manager=granted_by,
        principal=D("5000.00"),
        outstanding_principal=D("5000.00"),
        annual_rate=D("0.06"),
        term_months=12,
        repayment_method="bullet",
        days_past_due=days_past_due,
        classification=classification,
    )


@dataclass
class World:
    org: dict
    am: object  # owns the grid, evaluator 1
    am2: object  # grid officer with a login, evaluator 2
    am3: object  # grid officer with a login, evaluator 3
    manager: object  # B01 branch manager (the batch-credit group)
    director: object  # head-office management
    other_am: object  # B02 account manager
    other_manager: object  # B02 branch manager
    outsider_am: object  # B01 account manager without this grid
    grid: Grid
    village: Village
    product: Product

    @property
    def evaluators(self) -> list:
        return [self.am, self.am2, self.am3]

    def customer(self, name: str, *, owner=None, branch: str = "B01") -> Customer:
        return make_customer(self.org, owner or self.am, branch=branch, name=name)

    def loan(self, customer: Customer, **kwargs) -> Loan:
        return make_loan(customer, self.am, **kwargs)

    def household(self, name: str, *, filed: bool = True, group: str = "1组") -> Household:
        head = make_customer(self.org, self.am, name=name) if filed else None
        return household_create(
            actor=self.am,
            village=self.village,
            head_name=name,
            head=head,
            village_group=group,
            address=f"安徽省阜阳市颍上县城关镇{self.village.name}{group}",
            income_sources=["farming"],
            assets="住房一处，耕地6亩",
            labour_count=2,
        )

    def campaign(self, *, tolerance=D("0.20"), households=None) -> VillageCreditCampaign:
        campaign = campaign_create(
            actor=self.am,
            village=self.village,
            name=f"{self.village.name}整村授信",
            project_manager=self.am,
            product=self.product,
            starts_on=timezone.localdate() - timedelta(days=3),
            ends_on=timezone.localdate() + timedelta(days=60),
            tolerance=tolerance,
        )
        campaign_evaluators_set(actor=self.am, campaign=campaign, evaluators=self.evaluators)
        campaign_households_add(actor=self.am, campaign=campaign, households=households)
        return campaign

    def crediting(self, **kwargs) -> VillageCreditCampaign:
        campaign = self.campaign(**kwargs)
        return campaign_start_crediting(actor=self.am, campaign=campaign)

    def evaluate(self, entry, *entries: tuple[str, str]) -> None:
        """Each evaluator in turn submits (rating, limit)."""
        for evaluator, (rating, limit) in zip(self.evaluators, entries, strict=False):
            evaluation_submit(actor=evaluator, entry=entry, rating=rating, suggested_limit=D(limit))


@pytest.fixture
def world(grid_roles, org, make_staff) -> World:
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="grid_am")
    am2 = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="grid_am2")
    am3 = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="grid_am3")
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01", username="grid_mgr")
    director = make_staff(Role.MANAGEMENT, unit="HQ", username="grid_director")
    other_am = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="grid_am_b2")
    other_manager = make_staff(Role.BRANCH_MANAGER, unit="B02", username="grid_mgr_b2")
    outsider_am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="grid_am_outside")
    grid = grid_create(
        actor=manager, branch=org["B01"], code="B01-G01", name="五里湖网格", account_manager=am
    )
    for officer in (am2, am3):
        grid_officer_add(
            actor=manager, grid=grid, role="grid_staff", user=officer, duty="背靠背评议"
        )
    grid_officer_add(
        actor=manager, grid=grid, role="village_cadre", name="王支书", mobile="13912345678"
    )
    village = village_create(actor=manager, grid=grid, town="城关镇", name="五里湖村")
    return World(
        org=org,
        am=am,
        am2=am2,
        am3=am3,
        manager=manager,
        director=director,
        other_am=other_am,
        other_manager=other_manager,
        outsider_am=outsider_am,
        grid=grid,
        village=village,
        product=make_product(),
    )
