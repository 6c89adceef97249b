"""In the browser: a risk officer works a high-risk case through its stages with a second
officer (and the A/B account managers' investigation), and a loan committee vote passes a case."""

from __future__ import annotations

import pytest

from risk.models import ApprovalCase, ApprovalLog, CommitteeMeeting, Stage
from tests.conftest import login

pytestmark = pytest.mark.browser


def _as(page, user) -> None:
    if page.locator("[data-testid=logout]").count():
        page.click("[data-testid=logout]")
        page.wait_for_url("**/login/")
    login(page, user.username)


def _open_case(page, case) -> None:
    page.goto(f"{page.base_url}/risk/cases/{case.pk}/")
    page.wait_for_selector("[data-testid=case-state]")


def _do(page, action: str, comment: str, expect_state: str) -> None:
    page.fill(f"[data-testid=comment-{action}]", comment)
    page.click(f"[data-testid=action-{action}]")
    page.wait_for_selector(f"[data-testid=case-state][data-state={expect_state}]")


def test_a_high_risk_case_worked_through_by_two_officers(page, open_case, team):
    case = open_case("high")  # at acceptance review

    # The first officer finds it in their queue and completes the acceptance review.
    _as(page, team.hq_risk1)
    page.goto(f"{page.base_url}/risk/")
    page.click(f"[data-testid=queue-row][data-case='{case.pk}'] [data-testid=case-link]")
    page.wait_for_selector("[data-testid=route-diagram]")
    assert page.get_attribute("[data-testid=route-step][data-status=current]", "data-stage") == (
        "acceptance_review"
    )
    _do(page, "advance", "材料齐全，受理。", "investigation")

    # The A and B account managers each sign their part of the investigation.
    _as(page, team.am_a)
    _open_case(page, case)
    _do(page, "sign_investigation", "实地走访，经营正常。", "investigation")
    _as(page, team.am_b)
    _open_case(page, case)
    _do(page, "sign_investigation", "核实 A 角调查属实。", "credit_review")

    _as(page, team.hq_risk1)
    _open_case(page, case)
    _do(page, "advance", "授信审查通过。", "loan_approval")
    # Having completed the credit review, they may not also approve the loan.
    page.reload()
    assert page.locator("[data-testid=action-advance]").count() == 0

    _as(page, team.hq_risk2)
    _open_case(page, case)
    _do(page, "advance", "同意贷款。", "contract_review")
    _as(page, team.hq_risk1)
    _open_case(page, case)
    _do(page, "advance", "合同审查无误。", "payment_condition_review")
    _as(page, team.hq_risk2)
    _open_case(page, case)
    _do(page, "advance", "支付条件落实。", "approved")

    assert page.get_attribute("[data-testid=route-step][data-status=current]", "data-stage") == (
        "disbursement"
    )
    assert page.locator("[data-testid=trail-row]").count() == 7
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.APPROVED
    actors = list(
        ApprovalLog.objects.filter(case=case)
        .order_by("id")
        .values_list("actor__username", flat=True)
    )
    assert actors == ["am_a", "hq_risk1", "am_b", "hq_risk1", "hq_risk2", "hq_risk1", "hq_risk2"]


def test_a_committee_vote_passes_a_case(page, open_case, drive, team):
    case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)
    chair, *others = team.committee

    _as(page, chair)
    _open_case(page, case)
    page.click("[data-testid=convene]")
    page.wait_for_selector("[data-testid=meeting-status][data-status=open]")
    meeting = CommitteeMeeting.objects.get(case=case)
    meeting_url = f"{page.base_url}/risk/committee/{meeting.pk}/"

    for member in [chair, *others[:4]]:
        if member is not chair:
            _as(page, member)
            page.goto(meeting_url)
        page.check("[data-testid=vote-form] input[value=approve]")
        page.fill("[data-testid=vote-form] textarea", "同意。")
        page.click("[data-testid=cast-vote]")
        page.wait_for_selector("[data-testid=already-voted]")
        # Secret until closing: each member shows only whether they voted.
        cells = page.locator("[data-testid=member-vote]").all_inner_texts()
        assert len(cells) == len(team.committee)
        assert page.locator("[data-testid=member-vote] .text-bg-success").count() == (
            CommitteeMeeting.objects.get(pk=meeting.pk).votes.count()
        )
        assert page.locator("[data-testid=member-table] thead th").count() == 2

    _as(page, chair)
    page.goto(meeting_url)
    page.click("[data-testid=close-meeting]")
    page.wait_for_selector("[data-testid=meeting-status][data-status=closed]")
    assert page.locator("[data-testid=meeting-result]").is_visible()
    assert page.locator("[data-testid=member-table] thead th").count() == 3

    page.click("[data-testid=case-link]")
    page.wait_for_selector("[data-testid=case-state][data-state=contract_review]")
    meeting.refresh_from_db()
    assert (meeting.outcome, meeting.votes_for) == ("passed", 5)
