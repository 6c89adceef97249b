"""Authority limits and segregation of duties: a stage is completed only by a role that works it,
within its limit at the decision stages; no one completes two consecutive stages; the preparer
never reviews or approves; A and B account managers check each other's investigation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coop.roles import Role
from coop.services import ConflictError, DomainError, staff_create
from risk import policy, services
from risk.models import ApprovalCase, ApprovalLog, InvestigationSignature, Stage, StageAuthority
from risk.selectors import case_list

D = Decimal


def _unchanged(case: ApprovalCase, state: str, log_rows: int) -> None:
    stored = ApprovalCase.objects.get(pk=case.pk)
    assert stored.state == state
    assert ApprovalLog.objects.filter(case=case).count() == log_rows


def _director(team):
    from coop.models import User

    existing = User.objects.filter(username="director").first()
    if existing is not None:
        return existing
    return staff_create(
        username="director",
        name="Director",
        org_unit=team.hq_risk1.org_unit,
        roles=[Role.MANAGEMENT],
        password="pw-Secret-123",
    )


@pytest.fixture
def all_medium(team):
    """Rules under which every individual loan takes the medium route, whatever its size, so the
    approval stage meets amounts above the branch manager's limit."""
    services.routing_ruleset_publish(
        actor=_director(team),
        rules=[{"name": "个人", "route": "medium", "customer_kind": "individual"}],
    )


@pytest.mark.parametrize(
    ("amount", "approver", "allowed"),
    [
        ("500000", "branch_manager", True),
        ("600000", "branch_manager", False),
        ("600000", "hq_risk2", True),
        ("1000000", "branch_risk", False),  # a branch risk officer does not approve at all
    ],
)
def test_approval_within_the_authority_limit(
    all_medium, open_case, drive, team, amount, approver, allowed
):
    case = drive(open_case("medium", amount=amount, product="golden-home"), Stage.APPROVAL)
    person = getattr(team, approver)

    if allowed:
        done = services.approval_case_advance(case=case, actor=person)
        assert done.state == Stage.APPROVED
        assert ApprovalLog.objects.filter(case=case).latest("id").role == person.groups.first().name
        return
    with pytest.raises(services.NotAllowedError) as refused:
        services.approval_case_advance(case=case, actor=person)
    if approver == "branch_manager":
        assert "¥500,000.00" in refused.value.message
    _unchanged(case, Stage.APPROVAL, 3)


def test_above_every_single_limit_only_the_committee_decides(open_case, drive, team):
    case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)

    with pytest.raises(services.NotAllowedError) as refused:
        services.approval_case_advance(case=case, actor=team.hq_risk2)
    for member in team.committee:
        assert policy.check(case, member, policy.ADVANCE).allowed is False

    assert "¥3,000,000.00" in refused.value.message
    assert policy.needs_committee(case) is True
    assert [c.pk for c in case_list(user=team.committee[0], view="waiting")] == [case.pk]
    assert [c.pk for c in case_list(user=team.hq_risk2, view="waiting")] == []
    _unchanged(case, Stage.LOAN_APPROVAL, 4)


def test_a_changed_limit_applies_at_once(all_medium, open_case, drive, team):
    case = drive(open_case("medium", amount="800000", product="golden-home"), Stage.APPROVAL)
    limit = StageAuthority.objects.get(
        stage=Stage.APPROVAL, role=Role.BRANCH_MANAGER, org_level="branch"
    )
    assert policy.check(case, team.branch_manager, policy.ADVANCE).allowed is False

    services.stage_authority_update(actor=_director(team), authority=limit, max_amount=D("1000000"))
    team.branch_manager._risk_authorities = None
    case = ApprovalCase.objects.get(pk=case.pk)

    assert policy.check(case, team.branch_manager, policy.ADVANCE).allowed is True


def test_a_limit_must_be_positive(team):
    limit = StageAuthority.objects.get(
        stage=Stage.APPROVAL, role=Role.BRANCH_MANAGER, org_level="branch"
    )

    with pytest.raises(DomainError):
        services.stage_authority_update(actor=_director(team), authority=limit, max_amount=D("0"))

    limit.refresh_from_db()
    assert limit.max_amount == D("500000.00")


# --- segregation of duties ----------------------------------------------------------------------


def test_no_one_completes_two_consecutive_stages(open_case, team):
    case = open_case("low")
    case = services.approval_case_advance(case=case, actor=team.hq_risk1)  # credit granting

    with pytest.raises(services.NotAllowedError) as refused:
        services.approval_case_advance(case=case, actor=team.hq_risk1)

    assert "previous stage" in refused.value.message
    _unchanged(case, Stage.APPROVAL, 2)
    assert services.approval_case_advance(case=case, actor=team.hq_risk2).state == Stage.APPROVED


def test_consecutive_rule_holds_through_every_high_stage(open_case, drive, team):
    case = drive(open_case("high"), Stage.APPROVED)

    completions = [
        (row.from_state, row.actor_id)
        for row in ApprovalLog.objects.filter(case=case, transition__in=["submit", "advance"])
    ]
    signers = {s.signer_id for s in InvestigationSignature.objects.filter(case=case, round=1)}
    by_stage = dict(completions)
    stages = [stage for stage, _actor in completions]
    for earlier, later in zip(stages, stages[1:], strict=False):
        earlier_people = signers if earlier == Stage.INVESTIGATION else {by_stage[earlier]}
        later_people = signers if later == Stage.INVESTIGATION else {by_stage[later]}
        assert earlier_people.isdisjoint(later_people), (earlier, later)


def test_the_preparer_never_reviews_or_approves(make_staff, make_customer, make_application, team):
    # A branch manager who also works as an account manager prepares a loan for their customer.
    both = make_staff(Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, username="am_and_manager")
    customer = make_customer(owner=both)
    case = services.approval_case_open(
        application=make_application(customer, "farmer-microcredit", "4000"), actor=both
    )
    case = services.approval_case_advance(case=case, actor=team.hq_risk1)

    decision = policy.check(case, both, policy.ADVANCE)
    with pytest.raises(services.NotAllowedError):
        services.approval_case_advance(case=case, actor=both)

    assert decision.reason == "You prepared this application, so you cannot review or approve it."
    _unchanged(case, Stage.APPROVAL, 2)
    assert case_list(user=both, view="waiting").filter(pk=case.pk).exists() is False


def test_the_preparer_may_not_reject_but_withdraws(open_case, drive, team):
    case = drive(open_case("high"), Stage.INVESTIGATION)

    with pytest.raises(services.NotAllowedError):
        services.approval_case_reject(
            case=case, actor=team.am_a, reason_code="other", comment="客户不需要了"
        )
    withdrawn = services.approval_case_withdraw(case=case, actor=team.am_a, comment="客户不需要了")

    assert withdrawn.state == Stage.WITHDRAWN


# --- A/B investigation (双人调查) -----------------------------------------------------------------


def test_investigation_needs_both_the_a_and_the_b_manager(open_case, drive, team, make_staff):
    case = drive(open_case("high"), Stage.INVESTIGATION)
    other_manager = make_staff(Role.ACCOUNT_MANAGER)

    with pytest.raises(ConflictError):
        services.approval_case_advance(case=case, actor=team.am_a)
    case = services.investigation_sign(case=case, actor=team.am_a, comment="走访，经营正常")
    assert case.state == Stage.INVESTIGATION
    with pytest.raises(services.NotAllowedError):
        services.investigation_sign(case=case, actor=team.am_a, comment="再签一次")
    with pytest.raises(services.NotAllowedError):
        services.investigation_sign(case=case, actor=other_manager, comment="代签")
    case = services.investigation_sign(case=case, actor=team.am_b, comment="核实无误")

    assert case.state == Stage.CREDIT_REVIEW
    parts = InvestigationSignature.objects.filter(case=case).values_list("part", "signer_id")
    assert sorted(parts) == [("A", team.am_a.pk), ("B", team.am_b.pk)]
    assert sorted(case.previous_stage_by) == sorted([team.am_a.pk, team.am_b.pk])
    last = ApprovalLog.objects.filter(case=case).latest("id")
    assert (last.from_state, last.to_state, last.actor_id) == (
        "investigation",
        "credit_review",
        team.am_b.pk,
    )


def test_a_return_to_the_investigation_starts_a_new_round(open_case, drive, team):
    case = drive(open_case("high"), Stage.CREDIT_REVIEW)

    case = services.approval_case_return(case=case, actor=team.hq_risk2, comment="补充存货盘点")

    assert (case.state, case.investigation_round) == (Stage.INVESTIGATION, 2)
    assert set(policy.available(case, team.am_a)) >= {policy.SIGN_INVESTIGATION}
    case = services.investigation_sign(case=case, actor=team.am_b, comment="已盘点")
    case = services.investigation_sign(case=case, actor=team.am_a, comment="复核")
    assert case.state == Stage.CREDIT_REVIEW
    assert InvestigationSignature.objects.filter(case=case, round=2).count() == 2


def test_the_acceptance_reviewer_does_not_sign_the_next_stage(
    make_staff, make_customer, make_application, team
):
    # A B-role manager who also holds the risk officer role reviews the acceptance.
    dual = make_staff(Role.ACCOUNT_MANAGER, Role.RISK_OFFICER, username="dual")
    customer = make_customer(kind="corporate", b_manager=dual)
    case = services.approval_case_open(
        application=make_application(customer, "small-enterprise", "800000"), actor=team.am_a
    )
    case = services.approval_case_advance(case=case, actor=dual)

    with pytest.raises(services.NotAllowedError):
        services.investigation_sign(case=case, actor=dual, comment="B 角调查")

    assert InvestigationSignature.objects.filter(case=case).count() == 0


def test_a_customer_without_b_manager_cannot_complete_the_investigation(
    make_customer, make_application, team, drive
):
    customer = make_customer(kind="corporate", b_manager=None)
    case = services.approval_case_open(
        application=make_application(customer, "small-enterprise", "800000"), actor=team.am_a
    )
    case = drive(case, Stage.INVESTIGATION)

    case = services.investigation_sign(case=case, actor=team.am_a, comment="A 角调查")

    assert case.state == Stage.INVESTIGATION
    assert policy.possible(case, policy.ADVANCE) is False
    assert policy.available(case, team.am_b) == []
