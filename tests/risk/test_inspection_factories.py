"""Builders shared by the post-loan inspection tests (this module holds no tests).

Loans are disbursed through the real loans services, so every inspection starts the way it does
in production: planned inside the disbursement's transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from coop.roles import Role
from loans.models import Loan
from risk.inspections import InspectionFindings
from risk.models import Inspection
from tests.loans.test_lifecycle_factories import (
    Staff,
    active_loan,
    grant,
    make_customer,
    make_product,
)

D = Decimal


@pytest.fixture(name="staff")
def staff_fixture(make_staff) -> Staff:
    """B01's and B02's staff (the loans lifecycle cast), with every app's permissions synced:
    ``coop`` syncs roles before the other apps' permissions exist in a fresh test database."""
    from coop.roles import sync_roles

    sync_roles()
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


NORMAL = InspectionFindings(
    funds_use="matches",
    conclusion="normal",
    operation_note="养殖场存栏正常，收入稳定。",
)
RISK = InspectionFindings(
    funds_use="diverted",
    funds_use_note="部分资金用于偿还民间借贷。",
    conclusion="risk",
    operation_note="经营停滞，收入下降。",
    signals=("business_stopped", "income_fell", "funds_diverted"),
    next_action="三日内再次走访并提请风险部门复核分类。",
)


def loan_for(
    org,
    staff: Staff,
    *,
    amount: str = "12000.00",
    on: date = date(2025, 1, 10),
    branch: str = "B01",
    owner=None,
) -> Loan:
    """A loan of ``amount`` disbursed on ``on`` to a new customer of ``owner`` (the branch's
    account manager), worked by the branch's own staff."""
    if branch != "B01":
        staff = replace(
            staff,
            am=staff.other_am,
            risk=staff.other_risk,
            teller=staff.other_teller,
            manager=staff.other_manager,
        )
    product = make_product(max_amount=D("1000000.00"))
    customer = make_customer(org, owner or staff.am, branch=branch)
    line = grant(
        staff.manager,
        customer,
        product,
        limit=amount,
        valid_from=on - timedelta(days=10),
        valid_to=on + timedelta(days=300),
    )
    return active_loan(staff, line, amount=amount, on=on)


def open_inspection(loan: Loan) -> Inspection:
    return Inspection.objects.get(loan=loan, status__in=("due", "overdue"))


def fresh_inspection(inspection: Inspection) -> Inspection:
    """The row as stored now (the protected FSM field forbids refresh_from_db)."""
    return Inspection.objects.get(pk=inspection.pk)
