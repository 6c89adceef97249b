"""In a real browser: record a visit from the due list, define a segment, approve a grade."""

from __future__ import annotations

import pytest

from coop.roles import Role
from customers.models import GradeChange, Segment, Visit
from customers.services.due_contacts import contacts_plan
from customers.services.relationship import contact_plan_create
from tests.conftest import login
from tests.customers.test_relationship_support import (
    grade_of,
    make_customer,
    open_proposal,
    roles_synced,  # noqa: F401
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("roles_synced")]


def test_account_manager_records_a_visit_from_the_due_list(page, make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="web_am")
    contact_plan_create(
        actor=director, name="维护客户月访", customer_class="maintenance", interval_days=30
    )
    customer = make_customer(am, name="王大山", mobile="13812345678")
    contacts_plan()  # the beat sweep materializes the due contacts
    login(page, "web_am")

    page.click("[data-testid=entry-due_contacts]")
    row = page.locator(f"[data-testid=due-{customer.pk}]")
    assert "王大山" in row.inner_text()
    assert "138****5678" in row.inner_text()

    page.click(f"[data-testid=record-visit-{customer.pk}]")
    assert page.locator("[data-testid=visit-customer]").inner_text() == "王大山"
    page.select_option("#id_channel", "phone")
    page.select_option("#id_outcome", "interested")
    page.fill("#id_next_step", "带农机贷资料上门")
    page.click("[data-testid=visit-save]")

    page.wait_for_selector("[data-testid=no-due-contacts]")
    assert "/customers/contacts/due/" in page.url
    visit = Visit.objects.get(customer=customer)
    assert (visit.staff, visit.channel, visit.next_step) == (am, "phone", "带农机贷资料上门")


def test_buttons_are_touch_sized_on_a_tablet(page, make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="tablet_am")
    contact_plan_create(actor=director, name="月访", customer_class="maintenance", interval_days=30)
    customer = make_customer(am)
    contacts_plan()
    login(page, "tablet_am")  # on a desktop-sized window: the tablet menu hides the user name
    page.set_viewport_size({"width": 820, "height": 1180})

    page.goto(page.base_url + "/customers/contacts/due/")

    box = page.locator(f"[data-testid=record-visit-{customer.pk}]").bounding_box()
    assert box is not None and box["height"] >= 44
    box = page.locator(f"[data-testid=due-done-open-{customer.pk}]").bounding_box()
    assert box is not None and box["height"] >= 44


def test_management_defines_a_segment_with_the_rule_builder(page, make_staff):
    make_staff(Role.MANAGEMENT, unit="HQ", username="web_director")
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    rich = make_customer(am, name="存款大户", deposit_balance="800000", workplace="away")
    make_customer(am, name="普通客户", deposit_balance="1000", workplace="away")
    login(page, "web_director")

    page.click("[data-testid=entry-segments]")
    page.click("[data-testid=segment-new]")
    page.fill("#id_code", "rich-away")
    page.fill("#id_name", "外出务工存款大户")
    page.select_option("[data-testid=rule-0-attribute]", "deposit_balance")
    page.select_option("[data-testid=rule-0-op]", "gte")
    page.fill("[data-testid=rule-0-value]", "500000")
    page.select_option("[data-testid=rule-1-attribute]", "workplace")
    page.select_option("[data-testid=rule-1-op]", "eq")
    page.fill("[data-testid=rule-1-value]", "away")
    page.click("[data-testid=segment-save]")

    page.wait_for_selector("[data-testid=segment-member-count]")
    assert page.locator("[data-testid=segment-member-count]").inner_text() == "1"
    assert page.locator(f"[data-testid=member-{rich.pk}]").is_visible()
    assert Segment.objects.get(code="rich-away").member_count == 1


def test_branch_manager_approves_a_grade_change_in_the_queue(page, make_staff):
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    make_staff(Role.BRANCH_MANAGER, unit="B01", username="web_manager")
    customer = make_customer(am, name="合作社")
    change = open_proposal(customer, am)
    login(page, "web_manager")

    page.click("[data-testid=entry-grade_changes]")
    page.fill(f"[data-testid=grade-comment-{change.pk}]", "同意调整")
    page.click(f"[data-testid=grade-approve-{change.pk}]")

    page.wait_for_selector("[data-testid=grade-queue-empty]")
    change.refresh_from_db()
    assert (change.status, change.decision_comment) == (GradeChange.Status.APPROVED, "同意调整")
    assert grade_of(customer)[0] == "strategic"
    assert "同意调整" in page.locator("[data-testid=grade-decided]").inner_text()
