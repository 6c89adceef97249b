"""Printable documents: amounts in Chinese capitals, one-page PDFs, masked ID numbers."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from customers.models import Customer
from loans.pdf import (
    amount_in_words,
    contract_document,
    notice_document,
    render_contract_pdf,
    render_notice_pdf,
)
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import draw, grant, issue, make_product

D = Decimal

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "零元整"),
        ("0.05", "伍分"),
        ("3000.00", "叁仟元整"),
        ("3000.50", "叁仟元伍角整"),
        ("1010.00", "壹仟零壹拾元整"),
        ("10000.00", "壹万元整"),
        ("12345.60", "壹万贰仟叁佰肆拾伍元陆角整"),
        ("100500.05", "壹拾万零伍佰元零伍分"),
        ("1000000.00", "壹佰万元整"),
        ("100010000.00", "壹亿零壹万元整"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(D(amount)) == words


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_documents_fit_one_page_and_mask_the_id_number(org, staff):
    customer = Customer.objects.create(
        kind="individual",
        name="张三",
        branch=org["B01"],
        owner=staff.am,
        credit_rating="good",
        id_number="11010519491231002X",
    )
    loan = draw(staff.risk, grant(staff.manager, customer, make_product()), amount="9000.00")
    notice = issue(staff.risk, loan, signed_on=date(2025, 1, 10))
    contract = loan.contract

    with translation.override("en"):
        document = contract_document(contract, loan, None, contract.branch.name)
    values = dict(document.rows)

    assert values["ID number / credit code"] == "1101**********002X"
    assert "11010519491231002X" not in str(document.rows)
    assert values["Amount in words"] == "人民币玖仟元整"
    assert _pages(render_contract_pdf(document)) == 1
    assert _pages(render_notice_pdf(notice_document(notice))) == 1
