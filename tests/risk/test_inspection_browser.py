"""In the browser, on a tablet-sized screen: an account manager finds the inspection on the
workbench, completes it — ticks risk signals, takes a photo, concludes "risk" — and the risk
officer finds the early warning."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from risk.models import EarlyWarning, Inspection, InspectionAttachment
from tests.risk.test_inspection_factories import (
    loan_for,
    open_inspection,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)

pytestmark = pytest.mark.browser

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def login(page, username: str, password: str = "pw-Secret-123") -> None:
    # On a tablet the navigation (with the user's name) is collapsed behind the menu button:
    # wait for the workbench instead.
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/")


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(
        viewport={"width": 820, "height": 1180}, locale="en-US", has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base_url = live_server.url
    yield page
    context.close()


def test_account_manager_completes_an_inspection_on_a_tablet(
    tablet, org, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    loan = loan_for(org, staff, on=date(2025, 1, 10))
    inspection = open_inspection(loan)
    photo = Path(tmp_path) / "storefront.png"
    photo.write_bytes(PNG)
    page = tablet

    login(page, staff.am.username)
    # The workbench panel lists it with its due date.
    row = page.locator(f"[data-testid=panel-inspection][data-inspection='{inspection.pk}']")
    assert "2025-02-10" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector("[data-testid=inspection-form]")

    page.check("input[name=funds_use][value=partly]")
    page.fill("#id_funds_use_note", "约三成资金用于归还亲友借款。")
    page.fill("#id_operation_note", "生猪存栏减少一半，月收入下降。")
    page.fill("#id_guarantor_note", "保证人在外务工，联系正常。")
    page.click("[data-testid=signal-income_fell]")
    page.click("[data-testid=signal-funds_diverted]")
    page.set_input_files("#id_photos", str(photo))
    page.wait_for_selector("[data-testid=photo-thumb]")
    page.click("[data-testid=conclusion-risk]")
    assert page.is_visible("[data-inspection-risk-hint]")
    page.fill("#id_next_action", "一周内复查并报风险部门。")
    # Touch targets of the checklist are at least 44 px high.
    box = page.locator("[data-testid=signal-lawsuit]").bounding_box()
    assert box["height"] >= 44
    submit = page.locator("[data-testid=inspection-submit]")
    submit.scroll_into_view_if_needed()
    submit.tap()
    page.wait_for_selector("[data-testid=inspection-state][data-state=completed]")

    done = Inspection.objects.get(pk=inspection.pk)
    assert (done.status, done.funds_use, done.signals, done.conclusion, done.completed_by) == (
        "completed",
        "partly",
        ["income_fell", "funds_diverted"],
        "risk",
        staff.am,
    )
    attachment = InspectionAttachment.objects.get(inspection=inspection)
    assert (attachment.original_name, attachment.content_type) == ("storefront.png", "image/png")
    assert page.locator("[data-testid=inspection-attachment]").count() == 1
    assert open_inspection(loan).kind == "routine"
    warning = EarlyWarning.objects.get(inspection=inspection)

    # The branch's risk officer sees the warning and acknowledges it.
    page.context.clear_cookies()
    login(page, staff.risk.username)
    page.goto(f"{page.base_url}/risk/warnings/")
    page.click(f"[data-testid=warning-row][data-warning='{warning.pk}'] [data-testid=warning-link]")
    page.click("[data-testid=warning-acknowledge]")
    page.wait_for_selector("[data-testid=warning-state][data-state=acknowledged]")
    assert EarlyWarning.objects.get(pk=warning.pk).status == "acknowledged"
