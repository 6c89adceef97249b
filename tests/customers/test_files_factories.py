"""Builders shared by the customer-files tests (this module holds no tests).

Numbers are generated valid (GB 11643 / GB 32100 check characters) and unique per test run;
customers are filed through the real service, so the tests start from states the app can reach.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

from django.utils import timezone

from customers.models import Complaint, Customer, Segment, SegmentMembership, Visit
from customers.services.files import customer_create
from customers.validators import credit_code_check_character, id_check_character

_sequence = itertools.count(1)


def new_id_number(*, birth: date = date(1985, 3, 14), male: bool = True) -> str:
    n = next(_sequence) % 499
    first17 = f"341226{birth:%Y%m%d}{n * 2 + (1 if male else 0):03d}"
    return first17 + id_check_character(first17)


def new_credit_code() -> str:
    first17 = f"91341226MA{next(_sequence):07d}"
    return first17 + credit_code_check_character(first17)


def new_mobile() -> str:
    return f"139{next(_sequence):08d}"


def make_customer(owner, *, kind: str = "individual", name: str | None = None, **fields):
    """File a customer as ``owner`` (an account manager) through the service."""
    data = {"kind": kind, "name": name or f"客户{next(_sequence)}", "mobile": new_mobile()}
    if kind == Customer.Kind.INDIVIDUAL:
        data["id_number"] = new_id_number()
    else:
        data["credit_code"] = new_credit_code()
    data.update(fields)
    return customer_create(actor=owner, data=data)


def add_segment(customer, *, code: str, name: str) -> Segment:
    segment, _created = Segment.objects.get_or_create(code=code, defaults={"name": name})
    SegmentMembership.objects.create(segment=segment, customer=customer, computed_at=timezone.now())
    return segment


def add_visit(customer, staff, *, days_ago: int = 0, next_step: str = "") -> Visit:
    return Visit.objects.create(
        customer=customer,
        staff=staff,
        visited_on=timezone.localdate() - timedelta(days=days_ago),
        channel=Visit.Channel.VISIT,
        outcome=Visit.Outcome.CONTACTED,
        next_step=next_step,
    )


def add_complaint(customer, staff, *, subject: str) -> Complaint:
    now = timezone.now()
    return Complaint.objects.create(
        kind=Complaint.Kind.COMPLAINT,
        channel=Complaint.Channel.COUNTER,
        customer=customer,
        branch=customer.branch,
        subject=subject,
        description=subject,
        received_by=staff,
        received_at=now,
        due_at=now + timedelta(days=15),
    )


_HREF_RE = re.compile(r"""(?:href|action|hx-post|hx-get|src)=["']([^"']*)["']""")


def links_in(html: str) -> list[str]:
    """Every URL a page links to or submits to."""
    return _HREF_RE.findall(html)
