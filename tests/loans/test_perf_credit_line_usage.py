"""The list annotation of a line's usage (correlated sums per line) agrees with the figure the
drawdown service computes for one line, for revolving and non-revolving lines, with contracted,
disbursed, repaid and settled loans, and on lines without any loan."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from loans.models import CreditLine
from loans.selectors_lifecycle import credit_line_get, credit_line_list, credit_line_usage
from loans.services.repayment import repayment_record
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    active_loan,
    draw,
    grant,
    make_customer,
    make_product,
)

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

D = Decimal


def _lines(org, staff) -> dict[str, CreditLine]:
    product = make_product()
    customer = make_customer(org, staff.am)
    revolving = grant(staff.manager, customer, product, limit="20000.00")
    active_loan(staff, revolving, amount="6000.00", term_months=1, method="bullet")
    draw(staff.risk, revolving, amount="5000.00")  # contracted, not disbursed

    once = grant(
        staff.manager, make_customer(org, staff.am), product, limit="20000.00", revolving=False
    )
    settled = active_loan(staff, once, amount="12000.00", term_months=1, method="bullet")
    repayment_record(
        actor=staff.teller,
        loan=settled,
        amount=D("12060.00"),
        paid_on=date(2025, 2, 10),
        idempotency_key=str(uuid.uuid4()),
    )
    draw(staff.risk, CreditLine.objects.get(pk=once.pk), amount="3000.00")

    empty = grant(staff.manager, make_customer(org, staff.am), product, limit="9000.00")
    return {"revolving": revolving, "once": once, "empty": empty}


def test_list_and_detail_usage_equal_the_single_line_figure(org, staff):
    lines = _lines(org, staff)

    listed = {line.pk: line for line in credit_line_list(staff.manager)}

    expected = {
        "revolving": (D("11000.00"), D("9000.00")),  # 6,000 outstanding + 5,000 contracted
        "once": (D("15000.00"), D("5000.00")),  # 12,000 ever drawn + 3,000 contracted
        "empty": (D("0.00"), D("9000.00")),
    }
    for key, line in lines.items():
        usage = credit_line_usage(CreditLine.objects.get(pk=line.pk))
        assert (usage.used, usage.available) == expected[key]
        row = listed[line.pk]
        assert (row.used, row.available) == expected[key]
        detail = credit_line_get(user=staff.manager, pk=line.pk)
        assert (detail.used, detail.available) == expected[key]


def test_the_list_costs_the_same_queries_whatever_the_number_of_loans(
    org, staff, django_assert_max_num_queries
):
    line = grant(staff.manager, make_customer(org, staff.am), make_product(), limit="90000.00")
    with django_assert_max_num_queries(5) as small:
        assert len(list(credit_line_list(staff.manager))) == 1
    for _ in range(3):
        draw(staff.risk, line, amount="1000.00")
    _lines(org, staff)
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows = {row.pk: row for row in credit_line_list(staff.manager)}
    assert len(rows) == 4
    assert (rows[line.pk].used, rows[line.pk].available) == (D("3000.00"), D("87000.00"))
