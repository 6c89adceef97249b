"""In a real browser: a branch manager opens a campaign's four-quadrant chart and exports it;
a customer answers through the personal link on a phone."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from surveys.models import Invitation, Response
from tests.conftest import login
from tests.surveys.conftest import CODES, HAND_RESPONSES, answers_of, make_customers, submit

pytestmark = pytest.mark.browser


@pytest.fixture
def answered(org, sv, small_framework, make_campaign):
    make_customers(org, sv.am, 4)
    campaign = make_campaign(small_framework, name="二季度信贷服务满意度调查")
    invitations = list(Invitation.objects.filter(campaign=campaign).order_by("reference"))
    for invitation, values in zip(invitations, HAND_RESPONSES, strict=False):
        submit(invitation, answers_of(values))
    return campaign, invitations[3]


def test_manager_opens_the_chart_and_exports_it(page, sv, answered):
    from openpyxl import load_workbook

    campaign, _waiting = answered
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.base_url}])
    login(page, sv.manager.username)
    page.goto(page.base_url + "/surveys/")
    page.click(f"[data-testid=campaign-link]:has-text('{campaign.name}')")
    assert page.inner_text("[data-testid=count-valid]") == "3"
    page.click("[data-testid=open-analysis]")
    page.wait_for_selector("[data-testid=quadrant-chart][data-ready='1']")
    assert page.locator("[data-testid=quadrant-chart] canvas").count() >= 1
    assert "a value equal to the crosshair counts as high" in page.inner_text(
        "[data-testid=crosshair-rule]"
    )
    assert page.inner_text("[data-testid=analysis-index]") == "54.50"
    # The midpoint rule moves Q3 into quadrant I.
    page.click("[data-testid=crosshair-midpoint]")
    page.wait_for_selector("[data-testid=quadrant-chart][data-ready='1']")
    assert "I · keep up" in page.inner_text("[data-testid=indicator-row-Q3]")
    with page.expect_download() as download_info:
        page.click("[data-testid=export-xlsx]")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    codes = [book.worksheets[0].cell(row=r, column=1).value for r in range(3, 8)]
    assert codes == CODES
    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("P1,")


def test_customer_answers_on_a_phone(browser, live_server, answered):
    _campaign, invitation = answered
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone = context.new_page()
    try:
        phone.goto(f"{live_server.url}/surveys/r/{invitation.token}/")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        for code, (imp, sat) in HAND_RESPONSES[1].items():
            phone.click(f"label[for=imp-{code}-{imp}]")
            phone.click(f"label[for=sat-{code}-{sat}]")
        phone.click("[data-testid=submit-answers]")
        phone.wait_for_selector("[data-testid=survey-message]")
        response = Response.objects.get(invitation=invitation)
        assert (response.channel, response.is_valid) == ("link", True)
        phone.goto(f"{live_server.url}/surveys/r/{invitation.token}/")
        assert phone.locator("[data-testid=submit-answers]").count() == 0
    finally:
        context.close()
