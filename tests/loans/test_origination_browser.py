"""An account manager takes a customer from product choice to a submitted application, in a real
Chromium, with keyboard and mouse as a person would."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coop.roles import Role
from loans.models import LoanApplication
from tests.conftest import login
from tests.loans import test_origination_support as support
from tests.loans.test_origination_support import make_customer

pytestmark = pytest.mark.browser

D = Decimal

# Shared fixtures, bound here so pytest finds them in this module.
catalogue = support.catalogue
origination_roles = support.origination_roles


def test_account_manager_from_product_choice_to_submitted_application(
    page, org, origination_roles, make_staff, catalogue
):
    # Given an account manager with a customer rated "good" (较好) in the farmer-microcredit tiers
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="amy_browser")
    customer = make_customer(org, manager, rating="good", name="李春花")
    make_customer(org, manager, rating="excellent", name="王志刚")
    login(page, "amy_browser")

    # When they open the applications from the workbench and start a new one
    page.click("[data-testid=entry-applications]")
    page.click("[data-testid=application-new]")

    # Step 1: search the customer by name, with the keyboard
    search = page.locator("[data-testid=customer-search] input[name=q]")
    search.click()
    search.type("李春")
    search.press("Enter")
    page.wait_for_url("**q=*")
    assert page.locator("[data-testid^=customer-]").filter(has_text="王志刚").count() == 0
    page.click(f"[data-testid=choose-customer-{customer.pk}]")

    # Step 2: the eligible products, with the most this customer's tier allows
    products = page.locator("[data-testid=eligible-products]")
    products.wait_for()
    assert page.inner_text("[data-testid=product-max-farmer-microcredit]") == "¥5,000.00"
    assert page.inner_text("[data-testid=product-min-farmer-microcredit]") == "¥3,001.00"
    assert products.locator("[data-testid=product-small-enterprise]").count() == 0
    page.click("[data-testid=choose-farmer-microcredit]")

    # Step 3: an amount above the tier is refused with a message naming the limit
    assert "¥5,000.00" in page.inner_text("[data-testid=amount-limit]")
    page.fill("#id_amount", "")
    page.locator("#id_amount").type("6000")
    page.locator("#id_purpose").click()
    page.keyboard.type("购买春耕化肥和种子")
    page.click("[data-testid=preview-schedule]")
    page.locator("[data-testid=schedule-table]").wait_for()
    assert page.locator("[data-testid=schedule-table] tbody tr").count() == 12
    page.click("[data-testid=save-application]")
    error = page.locator("[data-testid=error-amount]")
    error.wait_for()
    assert "¥3,001.00" in error.inner_text()
    assert "¥5,000.00" in error.inner_text()
    assert LoanApplication.objects.count() == 0

    # …they fix it (the other fields kept what was typed) and save the draft
    assert page.input_value("#id_purpose") == "购买春耕化肥和种子"
    page.fill("#id_amount", "4800")
    page.locator("#id_amount").press("Enter")
    state = page.locator("[data-testid=application-state]")
    state.wait_for()
    assert state.get_attribute("data-state") == "draft"
    assert page.inner_text("[data-testid=application-amount]").startswith("¥4,800.00")
    page.locator("[data-testid=schedule-table]").wait_for()  # the schedule loads by itself

    # Then they submit it and see it submitted
    page.click("[data-testid=submit-application]")
    page.wait_for_selector("[data-testid=application-state][data-state=submitted]")
    assert page.locator("[data-testid=submit-application]").count() == 0
    application = LoanApplication.objects.get()
    assert (application.state, application.amount, application.customer) == (
        "submitted",
        D("4800.00"),
        customer,
    )
    assert application.number in page.inner_text("h1")
