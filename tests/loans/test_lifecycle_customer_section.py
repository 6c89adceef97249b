"""The loans section on the customer 360 page (registered by loans, rendered by customers)."""

from datetime import date
from decimal import Decimal

import pytest

from coop.roles import Role
from customers.models import Customer
from loans.demo_origination import seed_products
from loans.models import Product
from loans.services.credit import credit_line_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(org, make_staff):
    from coop.roles import sync_roles

    sync_roles()
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="sec_am")
    teller = make_staff(Role.TELLER, unit="B01-01", username="sec_teller")
    seed_products()
    customer = Customer.objects.create(
        kind="individual", name="王小二", branch=org["B01"], owner=am, credit_rating="good"
    )
    product = Product.objects.get(code="farmer-microcredit")
    line = credit_line_grant(
        actor=am,
        customer=customer,
        product=product,
        limit=Decimal("5000"),
        valid_from=date(2026, 1, 1),
        valid_to=date(2027, 12, 31),
        revolving=False,
    )
    return am, teller, customer, line


def test_account_manager_sees_the_credit_lines_on_the_360_page(client, setup):
    am, _teller, customer, line = setup
    client.force_login(am)
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="section-loans"' in body
    assert line.number in body
