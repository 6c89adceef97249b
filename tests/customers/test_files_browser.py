"""In a real Chromium: an account manager opens a customer's 360 page from the list (desktop and
tablet); a branch manager reveals an ID number through htmx with the CSRF header."""

from __future__ import annotations

import pytest

from coop.roles import Role
from customers.models import Customer, GradeChange, OwnershipTransfer, PersonalDataAccess
from customers.validators import mask_id_number
from tests.conftest import login
from tests.customers.test_files_factories import (
    add_complaint,
    add_segment,
    add_visit,
    make_customer,
)

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1280, 900), "tablet": (820, 1180)}


def watch_errors(page) -> list[str]:
    """Script errors, CSP refusals and failed requests of our own pages and static files."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    return errors


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_account_manager_opens_the_360_page_from_the_list(page, make_staff, viewport):
    width, height = VIEWPORTS[viewport]
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am_browser")
    colleague = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    customer = make_customer(manager, name="陈桂英")
    make_customer(colleague, name="别人的客户")
    Customer.objects.filter(pk=customer.pk).update(
        customer_class="strategic", industry_category="key", customer_category="key"
    )
    add_segment(customer, code="migrant", name="外出务工客户")
    add_visit(customer, manager, next_step="回访贷款需求")
    add_complaint(customer, manager, subject="柜台等候过久")
    GradeChange.objects.create(
        customer=customer,
        status=GradeChange.Status.APPROVED,
        old_customer_class="maintenance",
        new_customer_class="strategic",
        old_managing_level="branch",
        new_managing_level="branch",
        old_industry_category="moderate",
        new_industry_category="key",
        old_customer_category="moderate",
        new_customer_category="key",
        reason="年度分类分级",
        proposed_by=manager,
    )
    OwnershipTransfer.objects.create(
        customer=customer,
        from_owner=colleague,
        to_owner=manager,
        reason="网格调整",
        transferred_by=colleague,
    )
    errors = watch_errors(page)
    login(page, "am_browser")  # the shell's helper expects the desktop navigation bar
    page.set_viewport_size({"width": width, "height": height})

    page.goto(page.base_url + "/customers/")
    rows = page.locator("[data-testid=customer-row]")
    assert rows.count() == 1
    assert "别人的客户" not in page.locator("[data-testid=customer-table]").inner_text()
    link = page.locator("[data-testid=customer-link]", has_text="陈桂英")
    assert link.bounding_box()["height"] >= 44  # a finger-sized target on the tablet
    link.click()
    page.wait_for_url(f"**/customers/{customer.pk}/")

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("[data-testid=customer-name]").inner_text() == "陈桂英"
    assert page.locator("[data-testid=section-profile]").is_visible()
    masked = page.locator("[data-testid=masked-id_number]")
    assert masked.inner_text() == mask_id_number(customer.id_number)
    assert page.locator("[data-testid=reveal-id_number]").count() == 0
    assert customer.id_number not in page.content()
    assert page.locator("[data-testid=grade-class]").inner_text().strip() != ""
    assert page.locator("[data-testid=policy] li").count() == 2
    assert page.locator("[data-testid=segment]").inner_text() == "外出务工客户"
    for section in ("visits", "complaints", "grade-history", "transfers"):
        assert page.locator(f"[data-testid=section-{section}]").is_visible(), section
    assert "回访贷款需求" in page.locator("[data-testid=section-visits]").inner_text()
    assert "柜台等候过久" in page.locator("[data-testid=section-complaints]").inner_text()
    assert "年度分类分级" in page.locator("[data-testid=section-grade-history]").inner_text()
    assert page.locator("[data-testid=transfer-row]").count() == 1
    # nothing wider than the screen: the page scrolls vertically only
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width
    assert errors == []


def test_branch_manager_reveals_the_id_number_with_htmx(page, make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01", username="boss_browser")
    customer = make_customer(manager, name="吴建军")
    errors = watch_errors(page)
    login(page, "boss_browser")

    page.goto(page.base_url + f"/customers/{customer.pk}/")
    assert page.locator("[data-testid=masked-id_number]").inner_text() == mask_id_number(
        customer.id_number
    )
    page.click("[data-testid=reveal-id_number]")
    full = page.locator("[data-testid=full-id_number]")
    full.wait_for()

    assert full.inner_text() == customer.id_number
    assert page.url == page.base_url + f"/customers/{customer.pk}/"  # swapped in, no navigation
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.customer, access.field, access.channel) == (
        boss,
        customer,
        "id_number",
        "page",
    )
    assert errors == []


def test_a_number_typed_into_the_name_filter_is_posted_instead(page, make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am_find")
    customer = make_customer(manager, name="郑秀梅")
    login(page, "am_find")

    page.goto(page.base_url + "/customers/")
    page.fill("[data-testid=filter-form] [name=q]", customer.id_number)
    page.click("[data-testid=filter-submit]")
    page.wait_for_url(f"**/customers/{customer.pk}/")

    assert customer.id_number not in page.url
    assert page.locator("[data-testid=customer-name]").inner_text() == "郑秀梅"
