"""Management opens the dashboard from the workbench, filters by branch and drills into the NPL
loans, in a real browser (charts drawn by the vendored ECharts, no inline script)."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.coop import test_dashboard_factories as factories

pytestmark = pytest.mark.browser

dash_roles = factories.dash_roles
people = factories.people
book = factories.book


def test_management_filters_by_branch_and_drills_into_npl_loans(page, org, people, book):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.base_url}])
    login(page, people.director.username)
    page.click("a[href='/dashboard/']")
    page.wait_for_selector("[data-testid=section-loans]")

    # December 2025, the whole bank: six loans, three of them non-performing.
    page.fill("[data-testid=filter-from]", "2025-12-01")
    page.fill("[data-testid=filter-to]", "2025-12-31")
    page.click("[data-testid=filter-submit]")
    page.wait_for_selector("[data-testid=figure-loans-npl_count][data-value='3']")
    assert page.get_attribute("[data-testid=figure-loans-outstanding_count]", "data-value") == "6"
    # The classification chart is drawn by ECharts; the NPL trend arrives by fetch.
    page.wait_for_selector("[data-chart='loans.classes'] canvas")
    page.wait_for_selector("[data-chart='loans.trend'][data-loaded=true]")

    # Filter by the 城关 branch (B01): five loans, two non-performing.
    page.select_option("[data-testid=filter-branch]", str(org["B01"].pk))
    page.click("[data-testid=filter-submit]")
    page.wait_for_selector("[data-testid=figure-loans-npl_count][data-value='2']")
    assert org["B01"].name in page.inner_text("[data-testid=dashboard-scope]")

    # Drill into the NPL loans: exactly B01's substandard and doubtful loans.
    page.click("[data-testid=figure-loans-npl_count]")
    page.wait_for_selector("[data-testid=drill-table]")
    assert page.inner_text("[data-testid=drill-count]") == "2"
    assert page.inner_text("[data-testid=drill-total]") == "¥17,000.00"
    rows = page.locator("[data-testid=drill-row]")
    assert rows.count() == 2
    listed = {rows.nth(i).locator("td").first.inner_text() for i in range(2)}
    assert listed == {book.loans["sub"].number, book.loans["dbt"].number}

    # A loan number opens the loan page.
    rows.first.locator("a").first.click()
    page.wait_for_url("**/loans/loan/*/")
    assert errors == []


def test_a_trend_that_cannot_load_says_so_without_a_script_error(page, org, people, book):
    # The trend's request fails (network down, or the user leaves while it loads): the chart
    # says so, and the page raises no script error (the page fixture fails on any).
    page.route("**/dashboard/npl-trend/**", lambda route: route.abort())
    page.expected_console_errors.append("Failed to load resource: net::ERR_FAILED")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.base_url}])
    login(page, people.director.username)
    page.goto(page.base_url + "/dashboard/")
    page.wait_for_selector("[data-chart='loans.trend'][data-loaded=failed]")
    assert "could not be loaded" in page.inner_text("[data-chart='loans.trend']")
    # The rest of the dashboard is drawn.
    page.wait_for_selector("[data-chart='loans.classes'] canvas")
