"""Builders the drills share: states reached through the real services."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from customers.models import Complaint
from customers.services.service import complaint_receive
from loans.models import CreditLine, DisbursementNotice
from tests.loans.test_lifecycle_factories import draw, grant, issue, make_customer, make_product


def today() -> dt.date:
    return timezone.localdate()


def credit_line(staff, org, *, limit: str = "20000.00") -> CreditLine:
    customer = make_customer(org, staff.am)
    return grant(
        staff.manager,
        customer,
        make_product(),
        limit=limit,
        valid_from=today() - dt.timedelta(days=30),
        valid_to=today() + dt.timedelta(days=365),
    )


def issued_notices(staff, org, count: int, *, amount: str = "3000.00") -> list[DisbursementNotice]:
    """``count`` loans drawn today and signed, each with a notice waiting at the counter."""
    notices = []
    for _ in range(count):
        line = credit_line(staff, org)
        loan = draw(staff.risk, line, amount=amount, on=today())
        notices.append(issue(staff.risk, loan, signed_on=today()))
    return notices


def overdue_complaints(teller, count: int) -> list[Complaint]:
    """Complaints received 40 days ago (ordinary: 15 days to answer), none escalated yet."""
    received = timezone.now() - dt.timedelta(days=40)
    return [
        complaint_receive(
            actor=teller,
            kind="complaint",
            channel="counter",
            subject=f"Drill complaint {n}",
            description="Waited too long at the counter.",
            contact_name="赵女士",
            received_at=received,
        )
        for n in range(count)
    ]


def new_key() -> str:
    return str(uuid.uuid4())
