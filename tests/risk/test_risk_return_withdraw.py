"""Return for information (to the previous stage, with a comment) and withdrawal (by the
applicant's account manager, from any open stage)."""

from __future__ import annotations

import pytest

from coop.services import ConflictError, DomainError
from loans.models import LoanApplication
from risk import policy, services
from risk.models import ApprovalCase, ApprovalLog, CommitteeMeeting, Stage


def _state(case):
    stored = ApprovalCase.objects.get(pk=case.pk)
    return stored.state, ApprovalLog.objects.filter(case=case).count()


def test_return_needs_a_comment_and_changes_nothing_without_one(open_case, team):
    case = open_case("low")

    with pytest.raises(DomainError) as refused:
        services.approval_case_return(case=case, actor=team.branch_risk, comment="   ")

    assert (refused.value.field, refused.value.code) == ("comment", "required")
    assert _state(case) == (Stage.CREDIT_GRANTING, 1)


def test_return_goes_to_the_previous_stage_of_the_route(open_case, drive, team):
    case = drive(open_case("medium"), Stage.APPROVAL)
    credit_granter = ApprovalLog.objects.filter(case=case).latest("id").actor_id

    case = services.approval_case_return(
        case=case, actor=team.branch_manager, comment="请补充担保人收入证明"
    )

    assert case.state == Stage.CREDIT_GRANTING
    last = ApprovalLog.objects.filter(case=case).latest("id")
    assert (last.from_state, last.to_state, last.transition, last.comment) == (
        "approval",
        "credit_granting",
        "return_for_information",
        "请补充担保人收入证明",
    )
    # Who may complete credit granting again: not whoever completed the review before it.
    reviewer = ApprovalLog.objects.get(case=case, from_state="review").actor_id
    assert case.previous_stage_by == [reviewer]
    assert credit_granter != reviewer
    assert LoanApplication.objects.get(pk=case.application_id).state == "submitted"


def test_a_case_returned_to_the_application_is_resubmitted_by_its_account_manager(open_case, team):
    case = open_case("medium")
    case = services.approval_case_return(case=case, actor=team.branch_risk, comment="缺收入证明")

    assert policy.check(case, team.am_b, policy.ADVANCE).allowed is False
    case = services.approval_case_advance(case=case, actor=team.am_a, comment="已补充")

    assert case.state == Stage.REVIEW
    assert [r.transition for r in ApprovalLog.objects.filter(case=case)] == [
        "submit",
        "return_for_information",
        "advance",
    ]


@pytest.mark.parametrize(
    ("route", "stage"),
    [("low", "application"), ("low", "approval"), ("medium", "review"), ("high", "investigation")],
)
def test_the_account_manager_withdraws_from_any_open_stage(open_case, drive, team, route, stage):
    case = open_case(route)
    if stage == Stage.APPLICATION:
        case = services.approval_case_return(case=case, actor=team.branch_risk, comment="补充")
    else:
        case = drive(case, stage)

    case = services.approval_case_withdraw(case=case, actor=team.am_a, comment="客户不再需要")

    assert case.state == Stage.WITHDRAWN
    assert case.closed_at is not None
    assert LoanApplication.objects.get(pk=case.application_id).state == "withdrawn"
    last = ApprovalLog.objects.filter(case=case).latest("id")
    assert (last.from_state, last.transition, last.role) == (stage, "withdraw", "account_manager")


def test_only_the_applicants_account_manager_withdraws(open_case, team):
    case = open_case("low")

    for person in (team.am_b, team.branch_risk, team.branch_manager, team.hq_risk1):
        with pytest.raises(services.NotAllowedError):
            services.approval_case_withdraw(case=case, actor=person, comment="撤回")
    with pytest.raises(DomainError):
        services.approval_case_withdraw(case=case, actor=team.am_a, comment="")

    assert _state(case) == (Stage.CREDIT_GRANTING, 1)


def test_a_closed_case_cannot_be_withdrawn(open_case, drive, team):
    case = drive(open_case("low"), Stage.APPROVED)

    with pytest.raises(ConflictError):
        services.approval_case_withdraw(case=case, actor=team.am_a, comment="撤回")

    assert _state(case) == (Stage.APPROVED, 3)
    assert LoanApplication.objects.get(pk=case.application_id).state == "approved"


def test_withdrawing_cancels_an_open_committee_meeting(open_case, drive, team):
    case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)
    meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])

    services.approval_case_withdraw(case=case, actor=team.am_a, comment="客户撤回")

    meeting.refresh_from_db()
    assert (meeting.status, meeting.closed_by_id) == ("cancelled", team.am_a.pk)
    assert CommitteeMeeting.objects.filter(case=case, status="open").count() == 0
