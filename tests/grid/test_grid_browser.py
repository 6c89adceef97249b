"""In a real Chromium: an account manager runs a small village from the back-to-back evaluation
to door-to-door signing — evaluate (HTMX rows), reconcile, read the public notice, sign."""

from __future__ import annotations

import re

import pytest

from grid.models import CampaignHousehold
from grid.services.campaigns import evaluation_submit
from loans.models import CreditLine
from tests.conftest import login

pytestmark = pytest.mark.browser


def watch_errors(page) -> list[str]:
    """Script errors, CSP refusals and failed requests of our pages and static files."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Failed loads are caught by the response handler below (which ignores only the favicon).
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


@pytest.mark.parametrize("viewport", [(1280, 900), (820, 1180)], ids=["desktop", "tablet"])
def test_an_account_manager_runs_a_small_village(page, world, viewport):
    from decimal import Decimal

    # Given a crediting campaign of two households where the two other evaluators are done
    errors = watch_errors(page)
    zhang = world.household("张建国", group="1组")
    li = world.household("李秀英", group="2组")
    campaign = world.crediting()
    for household, limits in ((zhang, ("5000", "5500")), (li, ("4000", "4500"))):
        entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
        for evaluator, limit in zip((world.am2, world.am3), limits, strict=True):
            evaluation_submit(
                actor=evaluator, entry=entry, rating="good", suggested_limit=Decimal(limit)
            )

    # When the account manager signs in and opens the campaign from the workbench
    login(page, world.am.username)  # the helper waits for the desktop navbar
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.click("[data-testid=entry-village_credit]")
    page.click("[data-testid=campaign-link]")
    page.click("[data-testid=tab-evaluate]")

    # Then only the count of the others' entries shows: "2 of 3" for both households
    rows = page.locator("[data-testid=evaluate-row]")
    assert rows.count() == 2
    assert "5,500" not in page.content() and "4,500" not in page.content()

    # When they evaluate both households (each row saves in place over HTMX)
    for name, limit in (("张建国", "5900"), ("李秀英", "4800")):
        row = page.locator(f"[data-testid=evaluate-row][data-household='{name}']")
        row.locator("select[name$=rating]").select_option("good")
        row.locator("input[name$=suggested_limit]").fill(limit)
        row.locator("[data-testid=evaluate-submit]").click()
        saved = page.locator(f"[data-testid=evaluate-row][data-household='{name}']")
        saved.locator("[data-testid=revealed]").wait_for()
        # All three are in: now the others' entries are open
        assert "¥5,500.00" in saved.inner_text() or "¥4,500.00" in saved.inner_text()

    # And reconcile the village
    page.click("[data-testid=tab-results]")
    page.click("[data-testid=reconcile]")
    page.wait_for_selector("[data-testid=outcome]")
    zhang_row = page.locator("[data-testid=result-row][data-household='张建国']")
    assert zhang_row.locator("[data-testid=proposed-limit]").inner_text() == "¥5,000.00"
    assert "¥5,466.67" in zhang_row.locator("[data-testid=rule]").inner_text()

    # The public notice masks the names and shows no numbers of persons
    page.click("[data-testid=tab-notice]")
    notice = page.locator("[data-testid=notice]").inner_text()
    assert "张*国" in notice and "李*英" in notice
    assert "张建国" not in notice
    assert zhang.head.id_number not in page.content()

    # And signs 张建国 door to door (the default channel)
    page.click("[data-testid=tab-precredit]")
    row = page.locator("[data-testid=precredit-row][data-household='张建国']")
    row.locator("[data-testid=sign]").click()
    page.wait_for_selector(".alert-success")
    row = page.locator("[data-testid=precredit-row][data-household='张建国']")
    assert re.search(r"CL\d{14}", row.locator("[data-testid=credit-line]").inner_text())

    line = CreditLine.objects.get(customer=zhang.head)
    assert (line.limit, line.source) == (Decimal("5000.00"), "village_campaign")
    entry = CampaignHousehold.objects.get(campaign=campaign, household=zhang)
    assert (entry.signing, entry.channel) == ("signed", "door_to_door")
    assert CampaignHousehold.objects.get(campaign=campaign, household=li).signing == "pending"
    assert errors == []
