"""Builders shared by the loan-lifecycle tests (this module holds no tests).

Loans are made through the real services — grant, drawdown, sign, notice, disbursement — so the
tests start from states the application can reach. Products are catalogue data and are created
directly (the catalogue services belong to origination).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from coop.models import User
from coop.roles import Role
from customers.models import Customer
from loans.models import CreditLine, DisbursementNotice, Loan, Product
from loans.services.credit import credit_line_drawdown, credit_line_grant
from loans.services.disbursement import contract_sign, loan_disburse, notice_issue

D = Decimal
_sequence = itertools.count(1)


@pytest.fixture
def lifecycle_roles(db):
    """Groups with every app's permissions: ``coop`` syncs roles on its own post_migrate, before
    the loans permissions exist in a fresh test database, so sync again (idempotent)."""
    from coop.roles import sync_roles

    sync_roles()


@dataclass
class Staff:
    am: User
    am2: User
    risk: User
    teller: User
    manager: User
    director: User
    hq_risk: User
    other_am: User
    other_teller: User
    other_manager: User
    other_risk: User


@pytest.fixture
def staff(lifecycle_roles, make_staff) -> Staff:
    return Staff(
        am=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am_b1"),
        am2=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am2_b1"),
        risk=make_staff(Role.RISK_OFFICER, unit="B01", username="risk_b1"),
        teller=make_staff(Role.TELLER, unit="B01-01", username="teller_b1"),
        manager=make_staff(Role.BRANCH_MANAGER, unit="B01", username="manager_b1"),
        director=make_staff(Role.MANAGEMENT, unit="HQ", username="director"),
        hq_risk=make_staff(Role.RISK_OFFICER, unit="HQ", username="risk_hq"),
        other_am=make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="am_b2"),
        other_teller=make_staff(Role.TELLER, unit="B02-01", username="teller_b2"),
        other_manager=make_staff(Role.BRANCH_MANAGER, unit="B02", username="manager_b2"),
        other_risk=make_staff(Role.RISK_OFFICER, unit="B02", username="risk_b2"),
    )


def make_product(**overrides) -> Product:
    n = next(_sequence)
    values = {
        "code": f"test-product-{n}",
        "name": f"测试产品{n}",
        "kind": Product.Kind.GUARANTEED,
        "customer_kind": Product.CustomerKind.INDIVIDUAL,
        "min_amount": D("1000.00"),
        "max_amount": D("100000.00"),
        "min_term_months": 1,
        "max_term_months": 36,
        "min_rate": D("0.0300"),
        "max_rate": D("0.1200"),
        "repayment_methods": [
            "equal_installment",
            "equal_principal",
            "interest_only",
            "bullet",
        ],
        "security": Product.Security.NONE,
        "revolving": True,
        "revolving_years": 2,
        "default_route": "low",
    }
    values.update(overrides)
    return Product.objects.create(**values)


def make_customer(org, owner: User, *, branch: str = "B01", name: str | None = None) -> Customer:
    return Customer.objects.create(
        kind="individual",
        name=name or f"客户{next(_sequence)}",
        branch=org[branch],
        owner=owner,
        credit_rating="good",
    )


def grant(
    actor: User,
    customer: Customer,
    product: Product,
    *,
    limit: str = "20000.00",
    revolving: bool = True,
    valid_from: date = date(2024, 1, 1),
    valid_to: date = date(2025, 12, 31),
) -> CreditLine:
    return credit_line_grant(
        actor=actor,
        customer=customer,
        product=product,
        limit=D(limit),
        valid_from=valid_from,
        valid_to=valid_to,
        revolving=revolving,
    )


def draw(
    actor: User,
    line: CreditLine,
    *,
    amount: str = "12000.00",
    term_months: int = 12,
    method: str = "equal_principal",
    rate: str = "0.0600",
    on: date = date(2025, 1, 10),
) -> Loan:
    return credit_line_drawdown(
        actor=actor,
        credit_line=line,
        amount=D(amount),
        term_months=term_months,
        repayment_method=method,
        annual_rate=D(rate),
        purpose="购买化肥",
        drawn_on=on,
    )


def issue(risk: User, loan: Loan, *, signed_on: date = date(2025, 1, 10)) -> DisbursementNotice:
    contract_sign(actor=risk, contract=loan.contract, signed_on=signed_on)
    return notice_issue(actor=risk, contract=loan.contract, account_number="6228480012345678")


def disburse(teller: User, notice: DisbursementNotice, *, on: date = date(2025, 1, 10)) -> Loan:
    return loan_disburse(
        actor=teller, notice=notice, idempotency_key=str(uuid.uuid4()), disbursed_on=on
    )


def active_loan(
    staff: Staff,
    line: CreditLine,
    *,
    amount: str = "12000.00",
    term_months: int = 12,
    method: str = "equal_principal",
    rate: str = "0.0600",
    on: date = date(2025, 1, 10),
) -> Loan:
    """A loan drawn, signed, noticed and disbursed on ``on``."""
    loan = draw(
        staff.risk, line, amount=amount, term_months=term_months, method=method, rate=rate, on=on
    )
    notice = issue(staff.risk, loan, signed_on=on)
    return disburse(staff.teller, notice, on=on)


def fresh(loan: Loan) -> Loan:
    """The loan as stored now (Loan's protected FSM field forbids refresh_from_db)."""
    return Loan.objects.get(pk=loan.pk)
