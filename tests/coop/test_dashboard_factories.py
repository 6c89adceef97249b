"""Builders shared by the dashboard tests (this module holds no tests).

``book`` makes a small loan book through the real services (grant, drawdown, sign, notice,
disbursement) and runs the real nightly classification on 2025-12-31, so days past due and the
five categories come from the schedules, not from the test. ``bulk_book`` writes many rows
directly (the query-budget tests need volume, not history).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from coop.models import User
from coop.roles import Role
from customers.models import Complaint, Customer, ServiceInteraction, Visit
from loans.models import Contract, CreditLine, Loan, Product, ProductTier
from loans.services.classification import loans_classify_all
from tests.loans.test_lifecycle_factories import disburse, draw, grant, issue, make_product

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = {"date_from": "2025-12-01", "date_to": "2025-12-31"}
_numbers = itertools.count(1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


@pytest.fixture
def dash_roles(db):
    """Groups with every app's permissions (the coop app syncs before the others migrate); and
    no survey results cached by an earlier test."""
    from django.core.cache import cache

    from coop.roles import sync_roles

    sync_roles()
    cache.clear()


@dataclass
class People:
    director: User
    manager_b1: User
    manager_b2: User
    am_b1: User
    am2_b1: User
    am_b2: User
    risk_b1: User
    risk_b2: User
    teller_b1: User
    teller_b2: User


@pytest.fixture
def people(dash_roles, make_staff) -> People:
    return People(
        director=make_staff(Role.MANAGEMENT, unit="HQ", username="director"),
        manager_b1=make_staff(Role.BRANCH_MANAGER, unit="B01", username="manager_b1"),
        manager_b2=make_staff(Role.BRANCH_MANAGER, unit="B02", username="manager_b2"),
        am_b1=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am_b1"),
        am2_b1=make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am2_b1"),
        am_b2=make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="am_b2"),
        risk_b1=make_staff(Role.RISK_OFFICER, unit="B01", username="risk_b1"),
        risk_b2=make_staff(Role.RISK_OFFICER, unit="B02", username="risk_b2"),
        teller_b1=make_staff(Role.TELLER, unit="B01-01", username="teller_b1"),
        teller_b2=make_staff(Role.TELLER, unit="B02-01", username="teller_b2"),
    )


def customer(org, owner: User, *, branch: str = "B01", name: str | None = None) -> Customer:
    with time_machine.travel(at(dt.date(2025, 12, 3)), tick=False):
        return Customer.objects.create(
            kind="individual",
            name=name or f"客户{next(_numbers)}",
            branch=org[branch],
            owner=owner,
            credit_rating="good",
        )


@dataclass
class Book:
    product: Product
    loans: dict[str, Loan]


# name: (branch, amount, disbursed on). A monthly schedule's first instalment falls due one
# month after disbursement, so on 2025-12-31 these stand at the days past due in the comment.
BOOK = {
    "normal": ("B01", "12000.00", dt.date(2025, 12, 15)),  # first due 2026-01-15: 0 days
    "sm20": ("B01", "6000.00", dt.date(2025, 11, 11)),  # due 2025-12-11: 20 days
    "sm44": ("B01", "7000.00", dt.date(2025, 10, 17)),  # due 2025-11-17: 44 days
    "sub": ("B01", "8000.00", dt.date(2025, 8, 22)),  # due 2025-09-22: 100 days
    "dbt": ("B01", "9000.00", dt.date(2025, 5, 14)),  # due 2025-06-14: 200 days
    "loss": ("B02", "10000.00", dt.date(2024, 10, 26)),  # due 2024-11-26: 400 days
}


@pytest.fixture
def book(org, people) -> Book:
    product = make_product(name="农户小额信用贷款", code="dash-micro")
    ProductTier.objects.create(
        product=product, rating="general", min_amount=D("1000.00"), max_amount=D("7000.00")
    )
    ProductTier.objects.create(
        product=product, rating="good", min_amount=D("7000.01"), max_amount=D("100000.00")
    )
    loans = {}
    for name, (branch, amount, on) in BOOK.items():
        b1 = branch == "B01"
        owner = people.am_b1 if b1 else people.am_b2
        risk = people.risk_b1 if b1 else people.risk_b2
        teller = people.teller_b1 if b1 else people.teller_b2
        borrower = customer(org, owner, branch=branch)
        line = grant(
            risk,
            borrower,
            product,
            limit="20000.00",
            valid_from=dt.date(2024, 1, 1),
            valid_to=dt.date(2025, 12, 31),
        )
        loan = draw(risk, line, amount=amount, on=on)
        notice = issue(risk, loan, signed_on=on)
        loans[name] = disburse(teller, notice, on=on)
    with time_machine.travel(at(dt.date(2025, 12, 31), 20), tick=False):
        loans_classify_all(today=dt.date(2025, 12, 31))
    return Book(product=product, loans={k: Loan.objects.get(pk=v.pk) for k, v in loans.items()})


def bulk_book(org, owner: User, *, n: int, branch: str = "B01") -> None:
    """``n`` live loans (ORM only) with a spread of classes and days past due, plus a visit, a
    counter service and a complaint each: volume for the query-budget tests."""
    product = make_product()
    classes = ["normal", "special_mention", "substandard", "doubtful", "loss"]
    dpd = [0, 15, 100, 200, 400]
    borrowers = Customer.objects.bulk_create(
        [
            Customer(kind="individual", name=f"批量{i}", branch=org[branch], owner=owner)
            for i in range(n)
        ]
    )
    base = next(_numbers) * 100_000
    lines = CreditLine.objects.bulk_create(
        [
            CreditLine(
                number=f"BCL{base + i}",
                customer=c,
                branch=org[branch],
                product=product,
                limit=D("9000.00"),
                valid_from=dt.date(2025, 1, 1),
                valid_to=dt.date(2026, 12, 31),
                granted_by=owner,
            )
            for i, c in enumerate(borrowers)
        ]
    )
    contracts = Contract.objects.bulk_create(
        [
            Contract(
                number=f"BCT{base + i}",
                credit_line=line,
                customer=line.customer,
                branch=org[branch],
                amount=D("5000.00"),
                term_months=12,
                annual_rate=D("0.06"),
                repayment_method="bullet",
                created_by=owner,
            )
            for i, line in enumerate(lines)
        ]
    )
    Loan.objects.bulk_create(
        [
            Loan(
                number=f"BLN{base + i}",
                contract=contract,
                customer=contract.customer,
                branch=org[branch],
                product=product,
                credit_line=contract.credit_line,
                account_manager=owner,
                principal=D("5000.00"),
                outstanding_principal=D("4000.00"),
                annual_rate=D("0.06"),
                term_months=12,
                repayment_method="bullet",
                state="overdue" if dpd[i % 5] else "active",
                disbursed_on=dt.date(2025, 12, 1 + i % 28),
                days_past_due=dpd[i % 5],
                classification=classes[i % 5],
            )
            for i, contract in enumerate(contracts)
        ]
    )
    Visit.objects.bulk_create(
        [
            Visit(
                customer=c,
                staff=owner,
                visited_on=dt.date(2025, 12, 5),
                channel="visit",
                outcome="contacted",
            )
            for c in borrowers
        ]
    )
    outlet = org[f"{branch}-01"]
    ServiceInteraction.objects.bulk_create(
        [
            ServiceInteraction(
                teller=owner,
                outlet=outlet,
                branch=org[branch],
                customer=c,
                business_type="transfer",
                wait_minutes=3,
                handling_minutes=4,
                rating=1 + i % 5,
                served_at=at(dt.date(2025, 12, 8)),
            )
            for i, c in enumerate(borrowers)
        ]
    )
    Complaint.objects.bulk_create(
        [
            Complaint(
                kind="complaint",
                channel="counter",
                customer=c,
                branch=org[branch],
                subject="排队时间长",
                description="排队时间长",
                received_by=owner,
                received_at=at(dt.date(2025, 12, 9)),
                due_at=at(dt.date(2025, 12, 24)),
            )
            for c in borrowers
        ]
    )
