"""Each role signs in and sees its own workbench entries, and no other role's; the language
switch turns the page into English and back."""

import pytest

from coop.roles import Role
from coop.workbench import all_entries
from tests.conftest import login

pytestmark = pytest.mark.browser

ROLE_UNITS = {
    Role.ACCOUNT_MANAGER: "B01",
    Role.TELLER: "B01-01",
    Role.RISK_OFFICER: "HQ",
    Role.LOAN_COMMITTEE: "HQ",
    Role.BRANCH_MANAGER: "B01",
    Role.MANAGEMENT: "HQ",
    Role.SYSADMIN: "HQ",
}


@pytest.mark.parametrize("role", list(Role.values))
def test_each_role_sees_its_own_workbench(page, make_staff, role):
    make_staff(role, unit=ROLE_UNITS[role], username=f"demo_{role}")

    login(page, f"demo_{role}")

    assert page.locator(f"[data-testid=section-{role}]").is_visible()
    for entry in all_entries():
        locator = page.locator(f"[data-testid=entry-{entry.key}]")
        if role in entry.roles:
            assert locator.first.is_visible(), f"{role} should see {entry.key}"
            # and the entry leads to a page this role may open
            response = page.request.get(page.base_url + entry.url)
            assert response.status == 200, f"{role} → {entry.key}: {response.status}"
        else:
            assert locator.count() == 0, f"{role} must not see {entry.key}"


def test_language_switch_turns_the_page_into_english_and_back(page, make_staff):
    make_staff(Role.TELLER, unit="B01-01", username="lang_teller")
    login(page, "lang_teller")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "工作台" in page.locator("nav").inner_text()

    page.click("[data-testid=language-switch] button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert "Workbench" in page.locator("nav").inner_text()
    assert "Teller" in page.locator("[data-testid=section-teller]").inner_text()
    assert "工作台" not in page.content()

    page.click("[data-testid=language-switch] button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-hans]")
    assert "工作台" in page.locator("nav").inner_text()
    assert "柜员" in page.locator("[data-testid=section-teller]").inner_text()


def test_sign_in_out_and_bad_password_message(page, make_staff):
    make_staff(Role.TELLER, unit="B01-01", username="signin_teller")
    page.goto(page.base_url + "/")
    assert "/login/" in page.url  # anonymous → the login page
    page.fill("#id_username", "signin_teller")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").is_visible()

    login(page, "signin_teller")
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login/")
