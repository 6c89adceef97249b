"""Builders shared by the relationship tests (this module holds no tests).

Customers are created directly with ``Customer.objects.create`` (identity numbers left empty): the
relationship features read segment attributes, owners and grades, not identities.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest

from customers.models import Customer, GradeChange, Segment, Visit

_sequence = itertools.count(1)


@pytest.fixture
def roles_synced(db):
    """The role groups with every app's permissions.

    The groups are synced on the coop app's ``post_migrate``, which Django sends before the later
    apps' permissions exist, so a fresh test database has no customers permission in any group.
    """
    from coop.roles import sync_roles

    sync_roles()


def make_customer(owner, *, branch=None, name: str | None = None, **fields) -> Customer:
    """A customer of ``branch`` (default: the owner's branch) owned by ``owner``."""
    fields.setdefault("kind", Customer.Kind.INDIVIDUAL)
    if "deposit_balance" in fields:
        fields["deposit_balance"] = Decimal(str(fields["deposit_balance"]))
    return Customer.objects.create(
        name=name or f"客户{next(_sequence)}",
        branch=branch or owner.org_unit.branch(),
        owner=owner,
        **fields,
    )


def born_years_ago(years: int, on: date, *, days_later: int = 0) -> date:
    """The birth date of someone who turns ``years`` on ``on`` (``days_later`` shifts it)."""
    return on.replace(year=on.year - years) + timedelta(days=days_later)


def make_visit(customer, staff, *, visited_on: date, next_contact_on: date | None = None) -> Visit:
    return Visit.objects.create(
        customer=customer,
        staff=staff,
        visited_on=visited_on,
        channel=Visit.Channel.VISIT,
        outcome=Visit.Outcome.CONTACTED,
        next_contact_on=next_contact_on,
    )


def make_segment(code: str, rules: list, *, name: str | None = None, active: bool = True):
    """A segment row as management left it, without computing members."""
    return Segment.objects.create(code=code, name=name or code, rules=rules, is_active=active)


def membership_ids(segment: Segment) -> set[int]:
    return set(segment.memberships.values_list("customer_id", flat=True))


def grade_of(customer: Customer) -> tuple[str, str, str, str]:
    customer.refresh_from_db()
    return (
        customer.customer_class,
        customer.managing_level,
        customer.industry_category,
        customer.customer_category,
    )


def open_proposal(customer: Customer, proposer, **new) -> GradeChange:
    """Propose through the service: strategic / key by default."""
    from customers.services.relationship import grade_change_propose

    values = {
        "new_customer_class": "strategic",
        "new_managing_level": customer.managing_level,
        "new_industry_category": customer.industry_category,
        "new_customer_category": "key",
        "reason": "年存款稳定增长，合作紧密",
    }
    values.update(new)
    return grade_change_propose(actor=proposer, customer=customer, **values)
