"""Builders shared by the origination tests (this module holds no tests).

The catalogue is the demo seed's (``seed_products``), so the tests exercise the products the
cooperative actually offers; applications are made through the real services.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from coop.models import User
from coop.roles import Role
from customers.models import Customer
from loans.models import LoanApplication, Product
from loans.services.origination import loan_application_create

D = Decimal
_sequence = itertools.count(1)


@pytest.fixture
def origination_roles(db):
    """Groups with every app's permissions: ``coop`` syncs roles on its own post_migrate, before
    the loans permissions exist in a fresh test database, so sync again (idempotent)."""
    from coop.roles import sync_roles

    sync_roles()


@dataclass
class People:
    am: User
    am2: User
    manager: User
    risk: User
    committee: User
    director: User
    hq_risk: User
    teller: User
    other_am: User
    other_manager: User


@pytest.fixture
def people(origination_roles, make_staff) -> People:
    return People(
        am=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="o_am"),
        am2=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="o_am2"),
        manager=make_staff(Role.BRANCH_MANAGER, unit="B01", username="o_manager"),
        risk=make_staff(Role.RISK_OFFICER, unit="B01", username="o_risk"),
        committee=make_staff(Role.LOAN_COMMITTEE, unit="HQ", username="o_committee"),
        director=make_staff(Role.MANAGEMENT, unit="HQ", username="o_director"),
        hq_risk=make_staff(Role.RISK_OFFICER, unit="HQ", username="o_hq_risk"),
        teller=make_staff(Role.TELLER, unit="B01-01", username="o_teller"),
        other_am=make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="o_other_am"),
        other_manager=make_staff(Role.BRANCH_MANAGER, unit="B02", username="o_other_manager"),
    )


@pytest.fixture
def catalogue(db) -> dict[str, Product]:
    from loans.demo_origination import seed_products

    return seed_products()


def make_customer(
    org,
    owner: User,
    *,
    rating: str = "good",
    kind: str = "individual",
    branch: str = "B01",
    name: str | None = None,
) -> Customer:
    n = next(_sequence)
    return Customer.objects.create(
        kind=kind,
        name=name or f"客户{n}",
        branch=org[branch],
        owner=owner,
        credit_rating=rating,
    )


def terms_for(product: Product, **overrides) -> dict:
    """Valid terms for ``product`` (amount at its minimum); override what the test is about."""
    values = {
        "amount": product.min_amount,
        "term_months": max(product.min_term_months, min(12, product.max_term_months)),
        "annual_rate": product.min_rate,
        "repayment_method": product.repayment_methods[0],
        "purpose": "购买化肥种子",
        "guarantors": [],
        "collaterals": [],
    }
    if product.security in ("guarantor", "max_amount_guarantee"):
        values["guarantors"] = [{"name": "王大伟", "relationship": "邻居"}]
    if product.security == "guarantee_company":
        values["guarantors"] = [{"name": "县农业融资担保有限公司", "is_company": True}]
    if product.security in ("collateral", "pledge"):
        values["collaterals"] = [{"description": "自有住房一套", "appraised_value": D("300000")}]
    values.update(overrides)
    return values


def apply(actor: User, customer: Customer, product: Product, **overrides) -> LoanApplication:
    return loan_application_create(
        actor=actor, customer=customer, product=product, **terms_for(product, **overrides)
    )
