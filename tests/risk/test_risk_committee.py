"""The loan committee (贷审会): quorum and majority, secret votes until the meeting closes, one
vote per member, and closing that passes or rejects the case through the workflow."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coop.roles import Role
from coop.services import ConflictError
from loans.models import LoanApplication
from risk import services
from risk.models import ApprovalCase, ApprovalLog, CommitteeMeeting, CommitteeVote, Stage


@pytest.fixture
def sitting(open_case, drive, team):
    """A ¥3.5m corporate loan at loan approval — above every single officer's limit — with an
    open committee meeting."""
    case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)
    meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])
    return case, meeting


def _vote(meeting, members, votes):
    for member, vote in zip(members, votes, strict=True):
        services.committee_vote_cast(meeting=meeting, actor=member, vote=vote, comment=vote)


@pytest.mark.parametrize(
    ("votes", "outcome"),
    [
        (["approve"] * 5, "passed"),
        (["approve"] * 4 + ["reject"], "passed"),
        (["approve"] * 4 + ["reject"] * 2, "passed"),  # exactly two thirds
        (["approve"] * 3 + ["reject"] * 2, "failed"),
        (["approve"] * 3 + ["reject", "abstain"], "failed"),  # abstaining counts as present
        (["approve"] * 4 + ["abstain"] * 2, "passed"),
        (["approve"] * 4, "no_quorum"),
        (["reject"] * 5, "failed"),
        (["abstain"] * 6, "failed"),
    ],
)
def test_quorum_and_majority(sitting, team, votes, outcome):
    case, meeting = sitting
    _vote(meeting, team.committee[: len(votes)], votes)

    closed = services.committee_meeting_close(meeting=meeting, actor=team.committee[0])

    assert closed.outcome == outcome
    assert (closed.votes_for, closed.votes_against, closed.abstentions) == (
        votes.count("approve"),
        votes.count("reject"),
        votes.count("abstain"),
    )
    case = ApprovalCase.objects.get(pk=case.pk)
    application = LoanApplication.objects.get(pk=case.application_id)
    if outcome == "passed":
        assert case.state == Stage.CONTRACT_REVIEW
        last = ApprovalLog.objects.filter(case=case).latest("id")
        assert (last.transition, last.role, last.actor_id) == (
            "advance",
            Role.LOAN_COMMITTEE,
            team.committee[0].pk,
        )
        assert application.state == "submitted"
    elif outcome == "failed":
        assert case.state == Stage.REJECTED
        assert ApprovalLog.objects.filter(case=case).latest("id").reason_code == "committee"
        assert application.state == "rejected"
    else:
        assert case.state == Stage.LOAN_APPROVAL
        assert ApprovalLog.objects.filter(case=case).count() == 4
        again = services.committee_meeting_convene(case=case, actor=team.committee[1])
        assert again.status == CommitteeMeeting.Status.OPEN


def test_a_configured_quorum_and_majority_apply_to_new_meetings(sitting, team, make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    services.committee_policy_update(
        actor=director, quorum=3, majority_numerator=1, majority_denominator=2
    )
    case, old_meeting = sitting
    services.approval_case_withdraw(case=case, actor=team.am_a, comment="重新上会")

    assert CommitteeMeeting.objects.get(pk=old_meeting.pk).status == "cancelled"
    assert (old_meeting.quorum, old_meeting.majority_numerator) == (5, 2)


def test_passing_at_a_final_approval_stage_approves_the_application(
    open_case, drive, team, make_staff
):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    services.routing_ruleset_publish(
        actor=director, rules=[{"name": "全部中风险", "route": "medium"}]
    )
    case = drive(open_case("high", amount="3500000", expect="medium"), Stage.APPROVAL)
    meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])
    _vote(meeting, team.committee[:5], ["approve"] * 5)

    services.committee_meeting_close(meeting=meeting, actor=team.committee[0])

    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.APPROVED
    assert LoanApplication.objects.get(pk=case.application_id).state == "approved"


def test_votes_are_secret_until_the_meeting_closes(client, sitting, team):
    case, meeting = sitting
    _vote(meeting, team.committee[:5], ["approve", "reject", "approve", "approve", "abstain"])
    api = APIClient()
    api.force_authenticate(team.committee[5])
    client.force_login(team.committee[5])

    page = client.get(reverse("risk:meeting", args=[meeting.pk]))
    body = api.get(f"/api/v1/committee-meetings/{meeting.pk}/").json()

    rows = {r.member.username: (r.voted, r.vote) for r in page.context["rows"]}
    assert rows == {m.username: (i < 5, "") for i, m in enumerate(team.committee)}
    assert 'data-testid="member-vote"><span class="badge text-bg-success">' in page.content.decode()
    assert body["tally"] is None
    members = {m["member"]["id"]: (m["voted"], m["vote"], m["comment"]) for m in body["members"]}
    assert members == {
        m.pk: (True, "", "") if i < 5 else (False, "", "") for i, m in enumerate(team.committee)
    }

    services.committee_meeting_close(meeting=meeting, actor=team.committee[0])
    after = api.get(f"/api/v1/committee-meetings/{meeting.pk}/").json()

    assert after["tally"] == {"for": 3, "against": 1, "abstain": 1}
    votes = {m["member"]["id"]: (m["vote"], m["comment"]) for m in after["members"]}
    cast = ["approve", "reject", "approve", "approve", "abstain", ""]
    assert votes == {m.pk: (cast[i], cast[i]) for i, m in enumerate(team.committee)}


def test_a_member_votes_once(sitting, team):
    _case, meeting = sitting
    services.committee_vote_cast(meeting=meeting, actor=team.committee[1], vote="approve")

    with pytest.raises(ConflictError):
        services.committee_vote_cast(meeting=meeting, actor=team.committee[1], vote="reject")

    assert list(CommitteeVote.objects.filter(meeting=meeting).values_list("vote", flat=True)) == [
        "approve"
    ]


def test_only_members_vote_and_the_preparer_never(
    make_staff, make_customer, make_application, team, drive
):
    member_and_manager = make_staff(Role.ACCOUNT_MANAGER, Role.LOAN_COMMITTEE, username="mixed")
    customer = make_customer(kind="corporate", owner=member_and_manager)
    case = services.approval_case_open(
        application=make_application(customer, "small-enterprise", "3500000"),
        actor=member_and_manager,
    )
    case = drive(case, Stage.INVESTIGATION)
    case = services.investigation_sign(case=case, actor=member_and_manager, comment="A")
    case = services.investigation_sign(case=case, actor=team.am_b, comment="B")
    case = drive(case, Stage.LOAN_APPROVAL)
    meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])

    with pytest.raises(services.NotAllowedError):
        services.committee_vote_cast(meeting=meeting, actor=member_and_manager, vote="approve")
    with pytest.raises(services.NotAllowedError):
        services.committee_vote_cast(meeting=meeting, actor=team.hq_risk1, vote="approve")

    assert CommitteeVote.objects.filter(meeting=meeting).count() == 0


def test_no_single_officer_decides_while_the_committee_sits(open_case, drive, team):
    case = drive(open_case("high", amount="2000000"), Stage.LOAN_APPROVAL)
    services.committee_meeting_convene(case=case, actor=team.committee[0])

    with pytest.raises(ConflictError) as refused:
        services.approval_case_advance(case=case, actor=team.hq_risk2)

    assert "committee" in refused.value.message
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.LOAN_APPROVAL


def test_a_meeting_is_convened_only_at_an_approval_stage_and_once(open_case, sitting, team):
    case, _meeting = sitting
    early = open_case("high")

    with pytest.raises(ConflictError):
        services.committee_meeting_convene(case=early, actor=team.committee[0])
    with pytest.raises(ConflictError):
        services.committee_meeting_convene(case=case, actor=team.committee[1])
    with pytest.raises(services.NotAllowedError):
        services.committee_meeting_convene(case=case, actor=team.hq_risk1)

    assert CommitteeMeeting.objects.filter(case=case).count() == 1
    assert CommitteeMeeting.objects.filter(case=early).count() == 0


def test_a_closed_meeting_takes_no_more_votes(sitting, team):
    _case, meeting = sitting
    _vote(meeting, team.committee[:5], ["approve"] * 5)
    services.committee_meeting_close(meeting=meeting, actor=team.committee[0])

    with pytest.raises(ConflictError):
        services.committee_vote_cast(meeting=meeting, actor=team.committee[5], vote="reject")
    with pytest.raises(ConflictError):
        services.committee_meeting_close(meeting=meeting, actor=team.committee[0])

    assert CommitteeVote.objects.filter(meeting=meeting).count() == 5


def test_vote_and_close_through_the_api(sitting, team):
    case, meeting = sitting
    api = APIClient()
    for member in team.committee[:5]:
        api.force_authenticate(member)
        response = api.post(
            f"/api/v1/committee-meetings/{meeting.pk}/votes/",
            {"vote": "approve", "comment": "同意"},
            format="json",
        )
        assert response.status_code == 201
        assert response.json()["tally"] is None

    closed = api.post(f"/api/v1/committee-meetings/{meeting.pk}/close/")
    again = api.post(f"/api/v1/committee-meetings/{meeting.pk}/close/")

    assert closed.status_code == 200
    assert closed.json()["outcome"] == "passed"
    assert again.status_code == 409
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.CONTRACT_REVIEW
