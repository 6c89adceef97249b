"""Grade changes are proposed, decided by someone else with the authority, and kept as history."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from coop.models import AuditEvent
from coop.roles import Role
from coop.services import ConflictError, DomainError
from customers.models import Customer, GradeChange
from customers.services.relationship import (
    DecisionForbidden,
    grade_change_approve,
    grade_change_propose,
    grade_change_reject,
)
from tests.customers.test_relationship_support import (
    grade_of,
    make_customer,
    open_proposal,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")

DEFAULT_GRADE = ("maintenance", "branch", "moderate", "moderate")


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def manager(make_staff):
    return make_staff(Role.BRANCH_MANAGER, unit="B01")


@pytest.fixture
def director(make_staff):
    return make_staff(Role.MANAGEMENT, unit="HQ")


@pytest.fixture
def customer(am):
    return make_customer(am)


def test_propose_then_approve_applies_the_values_and_keeps_the_old_ones(am, manager, customer):
    change = open_proposal(customer, am)
    assert grade_of(customer) == DEFAULT_GRADE  # nothing changes before approval

    approved = grade_change_approve(actor=manager, change=change, comment="同意")

    assert grade_of(customer) == ("strategic", "branch", "moderate", "key")
    approved.refresh_from_db()
    assert approved.status == GradeChange.Status.APPROVED
    assert (approved.decided_by, approved.decision_comment) == (manager, "同意")
    assert approved.decided_at is not None
    assert (
        approved.old_customer_class,
        approved.old_managing_level,
        approved.old_industry_category,
        approved.old_customer_category,
    ) == DEFAULT_GRADE
    assert list(
        AuditEvent.objects.order_by("id").values_list("action", "from_state", "to_state", "actor")
    )[-3:] == [
        ("grade_change.propose", "", "proposed", am.pk),
        ("grade_change.approve", "proposed", "approved", manager.pk),
        ("customer.grade", "maintenance", "strategic", manager.pk),
    ]


def test_history_keeps_every_decision(am, manager, customer):
    first = open_proposal(customer, am)
    grade_change_approve(actor=manager, change=first)
    second = open_proposal(customer, am, new_customer_class="partner")
    grade_change_reject(actor=manager, change=second, comment="依据不足")

    history = list(
        GradeChange.objects.filter(customer=customer)
        .order_by("id")
        .values_list("status", "old_customer_class", "new_customer_class")
    )
    assert history == [
        ("approved", "maintenance", "strategic"),
        ("rejected", "strategic", "partner"),
    ]
    assert grade_of(customer)[0] == "strategic"


def test_reject_needs_a_comment_and_changes_no_grade(am, manager, customer):
    change = open_proposal(customer, am)

    with pytest.raises(DomainError) as refused:
        grade_change_reject(actor=manager, change=change, comment="  ")
    assert refused.value.field == "comment"
    change.refresh_from_db()
    assert change.status == GradeChange.Status.PROPOSED

    grade_change_reject(actor=manager, change=change, comment="资料不全")

    change.refresh_from_db()
    assert (change.status, change.decision_comment) == ("rejected", "资料不全")
    assert grade_of(customer) == DEFAULT_GRADE
    audit = AuditEvent.objects.get(action="grade_change.reject")
    assert (audit.from_state, audit.to_state, audit.comment) == ("proposed", "rejected", "资料不全")


def test_the_proposer_can_never_decide_their_own_proposal(manager, customer):
    # A branch manager may both propose and approve, but never their own proposal.
    change = open_proposal(customer, manager)

    with pytest.raises(DecisionForbidden) as refused:
        grade_change_approve(actor=manager, change=change)
    assert refused.value.code == "four_eyes"
    assert refused.value.status_code == 403
    with pytest.raises(DecisionForbidden):
        grade_change_reject(actor=manager, change=change, comment="撤回")

    change.refresh_from_db()
    assert change.status == GradeChange.Status.PROPOSED
    assert grade_of(customer) == DEFAULT_GRADE


def test_a_stale_proposal_is_a_conflict(am, manager, customer):
    change = open_proposal(customer, am)
    # The grade moved after the proposal (e.g. a data correction by another process)
    Customer.objects.filter(pk=customer.pk).update(customer_category="exit")

    with pytest.raises(ConflictError) as refused:
        grade_change_approve(actor=manager, change=change)

    assert refused.value.code == "stale"
    change.refresh_from_db()
    assert change.status == GradeChange.Status.PROPOSED
    assert grade_of(customer) == ("maintenance", "branch", "moderate", "exit")


def test_a_decided_proposal_cannot_be_decided_again(am, manager, make_staff, customer):
    change = open_proposal(customer, am)
    grade_change_approve(actor=manager, change=change)
    other_manager = make_staff(Role.BRANCH_MANAGER, unit="B01")

    with pytest.raises(ConflictError) as refused:
        grade_change_reject(actor=other_manager, change=change, comment="晚了")

    assert refused.value.code == "decided"
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("approved", manager)


def test_a_second_open_proposal_is_refused(am, make_staff, customer):
    open_proposal(customer, am)
    colleague = make_staff(Role.BRANCH_MANAGER, unit="B01")

    with pytest.raises(DomainError) as refused:
        open_proposal(customer, colleague, new_customer_class="partner")

    assert refused.value.code == "open_proposal"
    assert GradeChange.objects.filter(customer=customer).count() == 1


def test_a_proposal_that_changes_nothing_is_refused(am, customer):
    with pytest.raises(DomainError) as refused:
        open_proposal(
            customer, am, new_customer_class="maintenance", new_customer_category="moderate"
        )

    assert refused.value.code == "unchanged"
    assert GradeChange.objects.count() == 0


def test_proposing_needs_a_reason_and_known_values(am, customer):
    with pytest.raises(DomainError) as no_reason:
        open_proposal(customer, am, reason="")
    with pytest.raises(DomainError) as bad_value:
        open_proposal(customer, am, new_customer_category="vip")

    assert no_reason.value.field == "reason"
    assert bad_value.value.field == "new_customer_category"
    assert GradeChange.objects.count() == 0


@pytest.mark.parametrize("managed_by_head_office", ["current", "proposed"])
def test_head_office_managed_customers_need_head_office_management(
    am, manager, director, customer, managed_by_head_office
):
    if managed_by_head_office == "current":
        Customer.objects.filter(pk=customer.pk).update(managing_level="head_office")
        customer.refresh_from_db()
        change = open_proposal(customer, am)
    else:
        change = open_proposal(customer, am, new_managing_level="head_office")

    with pytest.raises(DecisionForbidden) as refused:
        grade_change_approve(actor=manager, change=change)
    assert refused.value.code == "head_office_only"
    change.refresh_from_db()
    assert change.status == GradeChange.Status.PROPOSED

    grade_change_approve(actor=director, change=change)
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("approved", director)
    assert grade_of(customer)[1] == "head_office"


def test_only_approvers_decide(am, make_staff, customer):
    change = open_proposal(customer, am)
    other_am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")

    with pytest.raises(PermissionDenied):
        grade_change_approve(actor=other_am, change=change)

    change.refresh_from_db()
    assert change.status == GradeChange.Status.PROPOSED


def test_tellers_cannot_propose(make_staff, customer):
    teller = make_staff(Role.TELLER, unit="B01-01")

    with pytest.raises(PermissionDenied):
        open_proposal(customer, teller)

    assert GradeChange.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_exactly_one_wins(org, make_staff):
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    approvers = [make_staff(Role.BRANCH_MANAGER, unit="B01") for _ in range(4)]
    customer = make_customer(am)
    change = grade_change_propose(
        actor=am,
        customer=customer,
        new_customer_class="partner",
        new_managing_level="branch",
        new_industry_category="moderate",
        new_customer_category="key",
        reason="合作加深",
    )
    barrier = threading.Barrier(len(approvers))
    outcomes: list[str] = []

    def approve(user):
        try:
            barrier.wait()
            grade_change_approve(actor=user, change=GradeChange.objects.get(pk=change.pk))
            outcomes.append("approved")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "conflict", "conflict", "conflict"]
    assert AuditEvent.objects.filter(action="grade_change.approve").count() == 1
    assert grade_of(customer) == ("partner", "branch", "moderate", "key")
