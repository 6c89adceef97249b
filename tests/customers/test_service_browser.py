"""The teller's counter entry in a real Chromium, keyboard only, and the complaint round trip."""

from __future__ import annotations

import pytest

from coop.roles import Role, sync_roles
from customers.models import Complaint, Customer, ServiceInteraction
from tests.conftest import login

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def roles_synced(transactional_db):
    # See test_service_interactions: the shared role sync misses this app's permissions.
    sync_roles()


class Keyboard:
    """Presses keys and counts them, so the test can hold the form to its promise of speed."""

    def __init__(self, page):
        self.page = page
        self.presses = 0

    def press(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)
            self.presses += 1

    def type(self, text: str) -> None:
        for character in text:
            self.press(character)


def focused_name(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def test_teller_records_a_service_with_the_keyboard_only(page, make_staff):
    teller = make_staff(Role.TELLER, unit="B01-01", username="kb_teller")
    login(page, "kb_teller")
    page.goto(page.base_url + "/customers/counter/")
    page.wait_for_selector("[data-testid=counter-form]")
    assert focused_name(page) == "business_type"  # autofocus on the first field
    keys = Keyboard(page)

    keys.press("2")  # withdrawal
    keys.press("Tab")
    assert focused_name(page) == "wait_minutes"
    keys.type("12")
    keys.press("Tab")
    keys.type("4")
    keys.press("Tab")
    assert focused_name(page) == "rating"
    keys.press("5")  # inside the rating row, 5 means five stars
    keys.press("Tab", "Space")  # smile
    keys.press("Tab", "Space")  # standing
    keys.press("Tab", "Space")  # standardized wording
    keys.press("Control+Enter")

    row = page.locator("[data-testid=today-row]").first
    row.wait_for()
    assert keys.presses <= 20
    assert keys.presses == 15
    assert row.locator("[data-testid=today-business-type]").get_attribute("data-value") == (
        "withdrawal"
    )
    assert row.locator("[data-testid=today-wait]").inner_text() == "12"
    assert row.locator("[data-testid=today-handling]").inner_text() == "4"
    assert row.locator("[data-testid=today-rating]").inner_text() == "5"
    saved = ServiceInteraction.objects.get()
    assert (saved.teller, saved.business_type, saved.wait_minutes, saved.handling_minutes) == (
        teller,
        "withdrawal",
        12,
        4,
    )
    assert (saved.smile, saved.standing, saved.standard_wording, saved.rating) == (
        True,
        True,
        True,
        5,
    )
    assert saved.customer is None
    # the form is back, empty and focused for the next customer
    assert focused_name(page) == "business_type"
    assert page.locator("#id_wait_minutes").input_value() == ""
    assert page.locator("input[name=business_type]:checked").count() == 0
    assert page.locator(".messages .alert-success").count() == 1


def test_enter_on_a_checkbox_saves_too(page, make_staff):
    make_staff(Role.TELLER, unit="B01-01", username="enter_teller")
    login(page, "enter_teller")
    page.goto(page.base_url + "/customers/counter/")
    page.wait_for_selector("[data-testid=counter-form]")
    keys = Keyboard(page)

    keys.press("9", "Tab", "0", "Tab", "1", "Tab", "Tab", "Space", "Enter")

    page.locator("[data-testid=today-row]").first.wait_for()
    saved = ServiceInteraction.objects.get()
    assert (saved.business_type, saved.wait_minutes, saved.handling_minutes) == ("other", 0, 1)
    assert (saved.smile, saved.standing, saved.rating) == (True, False, None)
    assert keys.presses == 9


def test_teller_picks_a_customer_by_name_with_the_keyboard(page, org, make_staff):
    make_staff(Role.TELLER, unit="B01-01", username="lookup_teller")
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    customer = Customer.objects.create(
        kind="individual", name="欧阳小明", branch=org["B01"], owner=owner
    )
    other_owner = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    Customer.objects.create(
        kind="individual", name="欧阳大明", branch=org["B02"], owner=other_owner
    )
    login(page, "lookup_teller")
    page.goto(page.base_url + "/customers/counter/")
    page.wait_for_selector("[data-testid=counter-form]")
    keys = Keyboard(page)

    keys.press("1")  # deposit
    keys.press("Tab")
    keys.type("3")
    keys.press("Tab")
    keys.type("2")
    page.focus("[data-testid=customer-search]")
    page.keyboard.insert_text("欧阳")  # an input method commits the name in one go
    page.wait_for_selector("[data-testid=lookup-result]")
    assert page.locator("[data-testid=lookup-result]").count() == 1  # B02's customer is not offered
    keys.press("Enter")  # picks the first match, does not submit
    assert page.locator("[data-testid=customer-chosen]").is_visible()
    assert ServiceInteraction.objects.count() == 0
    keys.press("Control+Enter")

    page.locator("[data-testid=today-row]").first.wait_for()
    saved = ServiceInteraction.objects.get()
    assert (saved.customer, saved.business_type, saved.rating) == (customer, "deposit", None)


def test_complaint_round_trip_in_the_browser(page, org, make_staff):
    make_staff(Role.TELLER, unit="B01-01", username="c_teller")
    make_staff(Role.BRANCH_MANAGER, unit="B01", username="c_manager")
    handler = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="c_am")

    login(page, "c_teller")
    page.goto(page.base_url + "/customers/complaints/")
    page.click("[data-testid=complaint-new]")
    page.click("label[for=id_channel_1]")  # phone
    page.fill("[data-testid=contact-name]", "钱先生")
    page.fill("[data-testid=subject]", "ATM out of cash")
    page.fill("[data-testid=description]", "The ATM at the market had no cash all weekend.")
    page.click("[data-testid=complaint-save]")
    page.wait_for_selector("[data-testid=complaint-state][data-state=received]")
    complaint = Complaint.objects.get()
    assert complaint.channel == "phone"

    page.click("[data-testid=logout]")
    login(page, "c_manager")
    page.goto(page.base_url + "/customers/complaints/")
    page.click(
        f"[data-testid=complaint-row][data-id='{complaint.pk}'] [data-testid=complaint-link]"
    )
    page.select_option("[data-testid=action-assign] select[name=assignee]", str(handler.pk))
    page.click("[data-testid=action-assign] button[type=submit]")
    page.wait_for_selector("[data-testid=complaint-state][data-state=assigned]")
    assert page.locator("[data-testid=trail-item]").count() == 2
    assert Complaint.objects.get().assignee == handler
