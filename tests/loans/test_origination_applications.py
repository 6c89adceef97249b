"""Loan applications: validation on create and update, numbering, the state machine
(submit / approve / reject / withdraw) with its audit rows and conflicts, and exposure."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import (
    Collateral,
    Contract,
    CreditLine,
    Guarantor,
    Loan,
    LoanApplication,
)
from loans.selectors_origination import customer_exposure
from loans.services.origination import (
    loan_application_approve,
    loan_application_create,
    loan_application_reject,
    loan_application_submit,
    loan_application_update,
    loan_application_withdraw,
    product_update,
)
from tests.loans import test_origination_support as support
from tests.loans.test_origination_support import apply, make_customer, terms_for

D = Decimal

# Shared fixtures, bound here so pytest finds them in this module.
catalogue = support.catalogue
origination_roles = support.origination_roles
people = support.people
MICRO = "farmer-microcredit"
State = LoanApplication.State


def counts() -> tuple[int, int, int, int]:
    return (
        LoanApplication.objects.count(),
        Guarantor.objects.count(),
        Collateral.objects.count(),
        AuditEvent.objects.filter(object_type="loans.loanapplication").count(),
    )


# --- create ---------------------------------------------------------------------------------------


def test_create_makes_a_numbered_draft_with_security_and_audit(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    product = catalogue["golden-home"]

    application = loan_application_create(
        actor=people.am,
        customer=customer,
        product=product,
        amount=D("200000"),
        term_months=240,
        annual_rate=D("0.0490"),
        repayment_method="equal_installment",
        purpose=" 新建住房 ",
        collaterals=[{"description": "宅基地上自建房一处", "appraised_value": D("380000.00")}],
    )

    application.refresh_from_db()
    assert application.state == State.DRAFT
    assert application.number == f"SQ{timezone.localdate():%Y%m%d}0001"
    assert (application.amount, application.annual_rate, application.purpose) == (
        D("200000.00"),
        D("0.049000"),
        "新建住房",
    )
    assert (application.branch, application.prepared_by) == (org["B01"], people.am)
    assert list(application.collaterals.values_list("description", "appraised_value")) == [
        ("宅基地上自建房一处", D("380000.00"))
    ]
    event = AuditEvent.objects.get(object_type="loans.loanapplication")
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        "loan_application.create",
        people.am,
        "",
        "draft",
    )
    assert event.data["amount"] == "200000.00"


def test_numbers_follow_each_other_within_a_day(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    numbers = [
        apply(people.am, customer, catalogue[MICRO], amount=D("4000")).number for _ in range(3)
    ]

    prefix = f"SQ{timezone.localdate():%Y%m%d}"
    assert numbers == [f"{prefix}0001", f"{prefix}0002", f"{prefix}0003"]


def test_concurrent_creates_draw_distinct_numbers(transactional_db, org, people, catalogue):
    customers = [make_customer(org, people.am, rating="good") for _ in range(4)]
    barrier = threading.Barrier(len(customers))
    errors: list[Exception] = []

    def create(customer) -> None:
        barrier.wait()
        try:
            apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
        except Exception as exc:  # a duplicate number would surface as IntegrityError
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    prefix = f"SQ{timezone.localdate():%Y%m%d}"
    assert sorted(LoanApplication.objects.values_list("number", flat=True)) == [
        f"{prefix}000{n}" for n in range(1, 5)
    ]


@pytest.mark.parametrize(
    ("product_code", "overrides", "field"),
    [
        (MICRO, {"amount": D("5000.01")}, "amount"),
        (MICRO, {"amount": D("3000.00")}, "amount"),
        (MICRO, {"amount": D("0")}, "amount"),
        (MICRO, {"amount": D("4000.001")}, "amount"),
        (MICRO, {"term_months": 37}, "term_months"),
        (MICRO, {"term_months": 0}, "term_months"),
        (MICRO, {"annual_rate": D("0.0434")}, "annual_rate"),
        (MICRO, {"annual_rate": D("0.0851")}, "annual_rate"),
        ("golden-home", {"repayment_method": "bullet"}, "repayment_method"),
        (MICRO, {"purpose": "   "}, "purpose"),
        ("merchant", {"guarantors": []}, "guarantors"),
        ("guaranteed-revolving", {"guarantors": []}, "guarantors"),
        ("large-scale-farming", {"guarantors": [{"name": "张三"}]}, "guarantors"),
        ("merchant", {"guarantors": [{"name": ""}]}, "guarantors"),
        ("golden-home", {"collaterals": []}, "collaterals"),
        (
            "car-loan",
            {"collaterals": [{"description": "轿车", "appraised_value": D("0")}]},
            "collaterals",
        ),
        ("women-entrepreneur", {}, "product"),  # the customer's rating is "general"
        ("small-enterprise", {}, "product"),  # for corporates only
    ],
)
def test_create_refuses_bad_terms_and_creates_nothing(
    org, people, catalogue, product_code, overrides, field
):
    customer = make_customer(org, people.am, rating="general" if product_code != MICRO else "good")
    product = catalogue[product_code]
    if product_code == MICRO:
        overrides = {"amount": D("4000"), **overrides}

    with pytest.raises(DomainError) as caught:
        apply(people.am, customer, product, **overrides)

    assert caught.value.field == field
    assert counts() == (0, 0, 0, 0)


def test_the_borrower_cannot_guarantee_their_own_loan(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    with pytest.raises(DomainError) as caught:
        apply(people.am, customer, catalogue["merchant"], guarantors=[{"customer": customer}])

    assert caught.value.field == "guarantors"
    assert counts() == (0, 0, 0, 0)


def test_a_filed_guarantor_takes_their_name_and_kind_from_the_file(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    company = make_customer(org, people.am, rating="", kind="corporate", name="县融资担保公司")

    application = apply(
        people.am, customer, catalogue["large-scale-farming"], guarantors=[{"customer": company}]
    )

    guarantor = application.guarantors.get()
    assert (guarantor.name, guarantor.is_company, guarantor.customer) == (
        "县融资担保公司",
        True,
        company,
    )


def test_create_needs_the_permission_and_a_customer_in_scope(org, people, catalogue):
    mine = make_customer(org, people.am, rating="good")
    colleagues = make_customer(org, people.am2, rating="good")

    with pytest.raises(PermissionDenied):
        apply(people.manager, mine, catalogue[MICRO], amount=D("4000"))
    with pytest.raises(DomainError) as caught:
        apply(people.am, colleagues, catalogue[MICRO], amount=D("4000"))

    assert caught.value.field == "customer"
    assert counts() == (0, 0, 0, 0)


# --- update ---------------------------------------------------------------------------------------


def test_update_changes_a_draft_and_replaces_guarantors(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue["merchant"], amount=D("30000"))

    loan_application_update(
        actor=people.am,
        application=application,
        amount=D("45000.50"),
        guarantors=[{"name": "李四", "relationship": "亲属"}, {"name": "王五"}],
    )

    application.refresh_from_db()
    assert application.amount == D("45000.50")
    assert sorted(application.guarantors.values_list("name", flat=True)) == ["李四", "王五"]
    event = AuditEvent.objects.get(action="loan_application.update")
    assert event.data["changed"] == ["amount"]
    assert (event.data["before"]["amount"], event.data["after"]["amount"]) == (
        "30000.00",
        "45000.50",
    )


def test_update_refusal_changes_nothing(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    before = counts()

    with pytest.raises(DomainError) as caught:
        loan_application_update(actor=people.am, application=application, amount=D("5000.01"))

    assert caught.value.field == "amount"
    application.refresh_from_db()
    assert application.amount == D("4000.00")
    assert counts() == before


def test_only_a_draft_can_be_changed(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    loan_application_submit(application=application, actor=people.am)

    with pytest.raises(ConflictError) as caught:
        loan_application_update(actor=people.am, application=application, amount=D("4500"))

    assert caught.value.status_code == 409
    application.refresh_from_db()
    assert application.amount == D("4000.00")


# --- transitions ----------------------------------------------------------------------------------


def make_in_state(people, customer, product, state: str) -> LoanApplication:
    application = apply(people.am, customer, product, amount=D("4000"))
    if state == State.DRAFT:
        return application
    if state == State.WITHDRAWN:
        return loan_application_withdraw(
            application=application, actor=people.am, comment="不需要了"
        )
    # The loans state machine on its own: no approval case (the risk tests cover the case).
    loan_application_submit(application=application, actor=people.am, open_case=False)
    if state == State.APPROVED:
        loan_application_approve(application=application, actor=people.risk)
    elif state == State.REJECTED:
        loan_application_reject(application=application, actor=people.risk, comment="收入不足")
    application.refresh_from_db()
    return application


def run(action: str, application: LoanApplication, people) -> LoanApplication:
    if action == "submit":
        return loan_application_submit(application=application, actor=people.am, open_case=False)
    if action == "approve":
        return loan_application_approve(application=application, actor=people.risk)
    if action == "reject":
        return loan_application_reject(application=application, actor=people.risk, comment="否")
    return loan_application_withdraw(application=application, actor=people.am, comment="撤回")


ALLOWED = {
    ("draft", "submit"): "submitted",
    ("draft", "withdraw"): "withdrawn",
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("submitted", "withdraw"): "withdrawn",
}
STATES = ["draft", "submitted", "approved", "rejected", "withdrawn"]
ACTIONS = ["submit", "approve", "reject", "withdraw"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_state_and_transition(org, people, catalogue, state, action):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], state)
    events_before = AuditEvent.objects.filter(object_type="loans.loanapplication").count()

    if (state, action) in ALLOWED:
        result = run(action, application, people)
        application.refresh_from_db()
        assert application.state == result.state == ALLOWED[(state, action)]
        event = AuditEvent.objects.filter(action=f"loan_application.{action}").latest("id")
        assert (event.from_state, event.to_state, event.object_id) == (
            state,
            ALLOWED[(state, action)],
            str(application.pk),
        )
    else:
        with pytest.raises(ConflictError) as caught:
            run(action, application, people)
        assert caught.value.status_code == 409
        application.refresh_from_db()
        assert application.state == state
        assert (
            AuditEvent.objects.filter(object_type="loans.loanapplication").count() == events_before
        )


def test_submit_sets_the_time_and_rechecks_the_terms(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4500"))
    # The customer's rating drops to "general" (tier ≤ 3,000) before the draft is submitted.
    type(customer).objects.filter(pk=customer.pk).update(credit_rating="general")

    with pytest.raises(DomainError) as caught:
        loan_application_submit(application=application, actor=people.am)

    assert caught.value.field == "amount"
    application.refresh_from_db()
    assert (application.state, application.submitted_at) == ("draft", None)

    type(customer).objects.filter(pk=customer.pk).update(credit_rating="good")
    loan_application_submit(application=application, actor=people.am)
    application.refresh_from_db()
    assert application.state == "submitted"
    assert application.submitted_at is not None


def test_submit_refuses_a_product_withdrawn_from_sale(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4500"))
    product_update(actor=people.director, product=catalogue[MICRO], data={"is_active": False})

    with pytest.raises(DomainError) as caught:
        loan_application_submit(application=application, actor=people.am)

    assert caught.value.field == "product"
    application.refresh_from_db()
    assert application.state == "draft"


def test_approve_records_the_decision(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)

    loan_application_approve(
        application=application, actor=people.risk, approved_amount=D("3500"), comment="同意"
    )

    application.refresh_from_db()
    assert (application.state, application.approved_amount, application.decision_comment) == (
        "approved",
        D("3500.00"),
        "同意",
    )
    assert application.decided_at is not None
    event = AuditEvent.objects.get(action="loan_application.approve")
    assert (event.actor, event.comment, event.from_state, event.to_state) == (
        people.risk,
        "同意",
        "submitted",
        "approved",
    )


def test_approve_defaults_to_the_amount_applied_for(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)

    loan_application_approve(application=application, actor=people.risk)

    application.refresh_from_db()
    assert application.approved_amount == D("4000.00")


@pytest.mark.parametrize("amount", [D("4000.01"), D("0"), D("-1")])
def test_approve_refuses_an_amount_above_the_request_and_changes_nothing(
    org, people, catalogue, amount
):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)

    with pytest.raises(DomainError) as caught:
        loan_application_approve(application=application, actor=people.risk, approved_amount=amount)

    assert caught.value.field == "approved_amount"
    application.refresh_from_db()
    assert (application.state, application.approved_amount, application.decided_at) == (
        "submitted",
        None,
        None,
    )


def test_nobody_decides_on_what_they_prepared(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)

    with pytest.raises(PermissionDenied):
        loan_application_approve(application=application, actor=people.am)
    with pytest.raises(PermissionDenied):
        loan_application_reject(application=application, actor=people.am, comment="否")

    application.refresh_from_db()
    assert application.state == "submitted"


@pytest.mark.parametrize("action", ["reject", "withdraw"])
def test_reject_and_withdraw_need_a_reason(org, people, catalogue, action):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)
    service = loan_application_reject if action == "reject" else loan_application_withdraw
    actor = people.risk if action == "reject" else people.am

    with pytest.raises(DomainError) as caught:
        service(application=application, actor=actor, comment="  ")

    assert caught.value.field == "comment"
    application.refresh_from_db()
    assert (application.state, application.decided_at) == ("submitted", None)


def test_reject_and_withdraw_record_the_reason_and_time(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    rejected = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)
    withdrawn = make_in_state(people, customer, catalogue[MICRO], State.DRAFT)

    loan_application_reject(application=rejected, actor=people.risk, comment="负债过高")
    loan_application_withdraw(application=withdrawn, actor=people.am, comment="客户已筹到资金")

    rejected.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (rejected.state, rejected.decision_comment) == ("rejected", "负债过高")
    assert (withdrawn.state, withdrawn.decision_comment) == ("withdrawn", "客户已筹到资金")
    assert rejected.decided_at is not None and withdrawn.decided_at is not None
    assert AuditEvent.objects.get(action="loan_application.reject").comment == "负债过高"


def test_a_stale_copy_cannot_transition_twice(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)
    stale = LoanApplication.objects.get(pk=application.pk)
    loan_application_approve(application=application, actor=people.risk)

    with pytest.raises(ConflictError):
        loan_application_reject(application=stale, actor=people.risk, comment="否")

    application.refresh_from_db()
    assert application.state == "approved"
    assert AuditEvent.objects.filter(action="loan_application.reject").count() == 0


def test_concurrent_decisions_exactly_one_wins(transactional_db, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = make_in_state(people, customer, catalogue[MICRO], State.SUBMITTED)
    deciders = [people.risk, people.hq_risk, people.manager, people.director]
    barrier = threading.Barrier(len(deciders))
    outcomes: list[str] = []
    lock = threading.Lock()

    def decide(user, approve: bool) -> None:
        copy = LoanApplication.objects.get(pk=application.pk)
        barrier.wait()
        try:
            if approve:
                loan_application_approve(application=copy, actor=user)
            else:
                loan_application_reject(application=copy, actor=user, comment="否")
            result = "won"
        except ConflictError:
            result = "409"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=decide, args=(user, n % 2 == 0)) for n, user in enumerate(deciders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["409", "409", "409", "won"]
    application.refresh_from_db()
    assert application.state in ("approved", "rejected")
    decisions = AuditEvent.objects.filter(
        action__in=["loan_application.approve", "loan_application.reject"]
    )
    assert decisions.count() == 1
    assert decisions.get().to_state == application.state


# --- exposure -------------------------------------------------------------------------------------


def test_exposure_sums_live_loans_and_open_applications(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    other = make_customer(org, people.am, rating="good")
    product = catalogue[MICRO]
    draft = apply(people.am, customer, product, amount=D("4500"))
    approved = make_in_state(people, customer, product, State.SUBMITTED)
    loan_application_approve(application=approved, actor=people.risk, approved_amount=D("3500"))
    rejected = make_in_state(people, customer, product, State.SUBMITTED)
    loan_application_reject(application=rejected, actor=people.risk, comment="否")
    apply(people.am, other, product, amount=D("5000"))  # someone else's
    line = CreditLine.objects.create(
        number="SX001",
        customer=customer,
        branch=org["B01"],
        product=product,
        limit=D("10000"),
        drawn_total=D("2500"),
        valid_from=date(2026, 1, 1),
        valid_to=date(2027, 12, 31),
        granted_by=people.manager,
    )
    contract = Contract.objects.create(
        number="HT001",
        credit_line=line,
        customer=customer,
        branch=org["B01"],
        amount=D("2500"),
        term_months=12,
        annual_rate=D("0.05"),
        repayment_method="equal_principal",
        created_by=people.risk,
    )
    loan = Loan.objects.create(
        number="DK001",
        contract=contract,
        customer=customer,
        branch=org["B01"],
        product=product,
        credit_line=line,
        account_manager=people.am,
        principal=D("2500"),
        annual_rate=D("0.05"),
        term_months=12,
        repayment_method="equal_principal",
        state=Loan.State.ACTIVE,
        outstanding_principal=D("1874.99"),
    )

    exposure = customer_exposure(customer)

    assert exposure["loans"] == [loan]
    assert {a.pk for a in exposure["applications"]} == {draft.pk, approved.pk}
    assert exposure["credit_lines"] == [line]
    assert exposure["outstanding_principal"] == D("1874.99")
    assert exposure["open_application_amount"] == D("8000.00")  # 4,500 + approved 3,500
    assert exposure["total_exposure"] == D("9874.99")
    assert (exposure["credit_limit"], exposure["credit_drawn"]) == (D("10000"), D("2500"))


def test_exposure_takes_three_queries(org, people, catalogue, django_assert_num_queries):
    customer = make_customer(org, people.am, rating="good")
    for _ in range(5):
        apply(people.am, customer, catalogue[MICRO], amount=D("4000"))

    with django_assert_num_queries(3):
        exposure = customer_exposure(customer)

    assert exposure["total_exposure"] == D("20000.00")


def test_terms_helper_is_valid_for_every_seeded_individual_product(org, people, catalogue):
    # Guards the other tests' helper: each product's minimum terms make a valid draft.
    customer = make_customer(org, people.am, rating="excellent")
    for code, product in catalogue.items():
        if code in ("small-enterprise",):
            continue
        amount = D("5001") if code == MICRO else product.min_amount
        apply(people.am, customer, product, **{"amount": amount})
    company = make_customer(org, people.am, rating="", kind="corporate")
    apply(people.am, company, catalogue["small-enterprise"])

    assert LoanApplication.objects.count() == 10
    assert terms_for(catalogue["golden-home"])["collaterals"][0]["description"] == "自有住房一套"


def test_a_submitted_application_in_approval_is_withdrawn_through_its_case(org, people, catalogue):
    from risk.models import ApprovalCase

    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    loan_application_submit(application=application, actor=people.am)
    assert ApprovalCase.objects.filter(application=application).exists()

    with pytest.raises(ConflictError) as caught:
        loan_application_withdraw(application=application, actor=people.am, comment="撤回")

    assert caught.value.code == "in_approval"
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
