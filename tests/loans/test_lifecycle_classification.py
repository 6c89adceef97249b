"""Days past due, the five categories on their thresholds, overrides, write-off, NPL ratio."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import ClassificationOverride, CreditLine, Installment, Loan
from loans.selectors_lifecycle import classification_totals, npl_ratio
from loans.services.classification import (
    classification_override_approve,
    classification_override_propose,
    classification_override_reject,
    classification_override_release,
    loan_write_off,
    loans_classify_all,
)
from loans.tasks import loans_classify_nightly
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    active_loan,
    draw,
    fresh,
    grant,
    make_customer,
    make_product,
)

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

D = Decimal
DISBURSED = date(2025, 1, 10)
DUE = date(2025, 2, 10)  # the single installment of a one-month bullet loan


@pytest.fixture
def line(org, staff):
    customer = make_customer(org, staff.am)
    return grant(
        staff.manager,
        customer,
        make_product(revolving_years=0, max_amount=D("1000000.00")),
        limit="1000000.00",
        valid_from=date(2024, 1, 1),
        valid_to=date(2026, 12, 31),
    )


def bullet(staff, line, amount="10000.00", on=DISBURSED) -> Loan:
    return active_loan(staff, line, amount=amount, term_months=1, method="bullet", on=on)


def classify_events() -> int:
    return AuditEvent.objects.filter(
        action__in=["loan.classify", "loan.mark_overdue", "loan.cure"]
    ).count()


@pytest.mark.parametrize(
    ("days", "expected", "state"),
    [
        (0, "normal", "active"),
        (1, "special_mention", "overdue"),
        (90, "special_mention", "overdue"),
        (91, "substandard", "overdue"),
        (180, "substandard", "overdue"),
        (181, "doubtful", "overdue"),
        (360, "doubtful", "overdue"),
        (361, "loss", "overdue"),
    ],
)
def test_thresholds_on_their_boundaries_and_idempotent(staff, line, days, expected, state):
    # Given a loan whose only installment fell due on DUE and is unpaid
    loan = bullet(staff, line)
    assert Installment.objects.get(loan=loan).due_date == DUE
    today = DUE + timedelta(days=days)

    # When the nightly sweep runs twice on the same day
    first = loans_classify_all(today=today)
    events_after_first = classify_events()
    second = loans_classify_all(today=today)

    # Then the loan is classified by its days past due, and the second run changes nothing
    stored = fresh(loan)
    assert (stored.days_past_due, stored.classification, stored.state) == (days, expected, state)
    assert first["reclassified"] == (0 if expected == "normal" else 1)
    assert first["marked_overdue"] == (0 if state == "active" else 1)
    assert second == {
        "days_past_due_updated": 0,
        "marked_overdue": 0,
        "cured": 0,
        "reclassified": 0,
    }
    assert classify_events() == events_after_first


def test_sweep_is_set_based_over_many_loans_and_skips_locked_ones(staff, line):
    # Given loans 0, 45, 120 and 400 days past due on the same night, one of them locked
    today = date(2026, 3, 1)
    normal = bullet(staff, line, on=date(2026, 2, 15))
    mention = bullet(staff, line, on=date(2025, 12, 15))  # due 2026-01-15: 45 days
    sub = bullet(staff, line, on=date(2025, 10, 1))  # due 2025-11-01: 120 days
    locked = bullet(staff, line, on=date(2024, 12, 27))  # due 2025-01-27: 398 days
    Loan.objects.filter(pk=locked.pk).update(classification_locked=True)

    counts = loans_classify_all(today=today)

    assert counts == {
        "days_past_due_updated": 3,
        "marked_overdue": 3,
        "cured": 0,
        "reclassified": 2,
    }
    assert [(fresh(x).days_past_due, fresh(x).classification) for x in (normal, mention, sub)] == [
        (0, "normal"),
        (45, "special_mention"),
        (120, "substandard"),
    ]
    assert (fresh(locked).days_past_due, fresh(locked).classification) == (398, "normal")
    assert AuditEvent.objects.filter(action="loan.mark_overdue", actor=None).count() == 3


def test_sweep_cures_a_loan_whose_arrears_are_gone(staff, line):
    loan = bullet(staff, line)
    loans_classify_all(today=DUE + timedelta(days=5))
    assert fresh(loan).state == "overdue"
    # the installment settled by a repayment recorded elsewhere (e.g. imported from core banking)
    Installment.objects.filter(loan=loan).update(settled_on=DUE + timedelta(days=5))

    counts = loans_classify_all(today=DUE + timedelta(days=6))

    assert (counts["cured"], counts["reclassified"]) == (1, 1)
    assert (fresh(loan).state, fresh(loan).classification) == ("active", "normal")


def test_thresholds_come_from_the_policy(staff, line):
    from loans.services.lifecycle_common import loan_policy

    policy = loan_policy()
    policy.substandard_from_days = 31
    policy.save()
    loan = bullet(staff, line)

    loans_classify_all(today=DUE + timedelta(days=31))

    assert fresh(loan).classification == "substandard"


def test_nightly_task_calls_the_sweep(staff, line):
    loan = bullet(staff, line)

    result = loans_classify_nightly.apply(kwargs={"today": str(DUE + timedelta(days=91))}).get()

    assert result["reclassified"] == 1
    assert fresh(loan).classification == "substandard"


# --- overrides ----------------------------------------------------------------------------------


def test_override_needs_a_reason(staff, line):
    loan = bullet(staff, line)

    with pytest.raises(DomainError) as error:
        classification_override_propose(
            actor=staff.risk, loan=loan, to_class="substandard", reason="  "
        )

    assert error.value.field == "reason"
    assert ClassificationOverride.objects.count() == 0


def test_override_needs_another_approver(staff, line, make_staff):
    from coop.roles import Role

    loan = bullet(staff, line)
    both = make_staff(Role.RISK_OFFICER, Role.BRANCH_MANAGER, unit="B01")
    proposal = classification_override_propose(
        actor=both, loan=loan, to_class="doubtful", reason="借款人外出务工失联"
    )

    with pytest.raises(DomainError) as error:
        classification_override_approve(actor=both, override=proposal)
    with pytest.raises(PermissionDenied):
        classification_override_approve(actor=staff.risk, override=proposal)

    assert error.value.code == "same_person"
    assert ClassificationOverride.objects.get(pk=proposal.pk).status == "proposed"
    assert (fresh(loan).classification, fresh(loan).classification_locked) == ("normal", False)


def test_approved_override_holds_against_the_sweep_until_released(staff, line):
    loan = bullet(staff, line)
    proposal = classification_override_propose(
        actor=staff.risk, loan=loan, to_class="doubtful", reason="担保人代偿能力不足"
    )
    with pytest.raises(ConflictError):
        classification_override_propose(
            actor=staff.risk, loan=loan, to_class="loss", reason="second"
        )

    classification_override_approve(actor=staff.manager, override=proposal)

    stored = fresh(loan)
    assert (stored.classification, stored.classification_locked) == ("doubtful", True)
    assert ClassificationOverride.objects.get(pk=proposal.pk).decided_by == staff.manager
    loans_classify_all(today=DUE + timedelta(days=10))
    assert fresh(loan).classification == "doubtful"

    classification_override_release(actor=staff.manager, loan=loan)
    loans_classify_all(today=DUE + timedelta(days=10))
    assert (fresh(loan).classification, fresh(loan).classification_locked) == (
        "special_mention",
        False,
    )


def test_rejected_override_changes_nothing(staff, line):
    loan = bullet(staff, line)
    proposal = classification_override_propose(
        actor=staff.risk, loan=loan, to_class="loss", reason="怀疑欺诈"
    )

    classification_override_reject(actor=staff.director, override=proposal, comment="证据不足")

    assert ClassificationOverride.objects.get(pk=proposal.pk).status == "rejected"
    assert (fresh(loan).classification, fresh(loan).classification_locked) == ("normal", False)
    with pytest.raises(ConflictError):
        classification_override_approve(actor=staff.manager, override=proposal)


# --- write-off ----------------------------------------------------------------------------------


def test_write_off_needs_the_permission_and_a_reason(staff, line):
    loan = bullet(staff, line)

    with pytest.raises(PermissionDenied):
        loan_write_off(actor=staff.manager, loan=loan, reason="无法收回")
    with pytest.raises(DomainError):
        loan_write_off(actor=staff.director, loan=loan, reason="")
    assert fresh(loan).state == "active"

    loan_write_off(actor=staff.director, loan=loan, reason="借款人死亡，无遗产")

    assert fresh(loan).state == "written_off"
    assert fresh(loan).outstanding_principal == D("10000.00")
    # the borrower's line is frozen rather than getting the written-off principal back
    assert CreditLine.objects.get(pk=line.pk).status == "frozen"
    event = AuditEvent.objects.get(action="loan.write_off")
    assert (event.from_state, event.to_state, event.actor) == (
        "active",
        "written_off",
        staff.director,
    )


# --- NPL ratio ----------------------------------------------------------------------------------


def test_npl_ratio_and_class_totals_on_known_data(staff, line):
    # Given 10,000 normal, 20,000 special mention, 30,000 substandard and 40,000 loss
    today = date(2026, 3, 1)
    bullet(staff, line, amount="10000.00", on=date(2026, 2, 15))
    bullet(staff, line, amount="20000.00", on=date(2025, 12, 15))
    bullet(staff, line, amount="30000.00", on=date(2025, 10, 1))
    bullet(staff, line, amount="40000.00", on=date(2024, 12, 27))
    draw(staff.risk, line, amount="50000.00", on=date(2025, 1, 10))  # contracted: not counted
    loans_classify_all(today=today)

    # Then NPL = (30,000 + 40,000) / 100,000
    assert npl_ratio(Loan.objects.all()) == D("0.7000")
    totals = classification_totals(Loan.objects.all())
    by_class = {c["code"]: (c["count"], c["outstanding"]) for c in totals["classes"]}
    assert by_class == {
        "normal": (1, D("10000.00")),
        "special_mention": (1, D("20000.00")),
        "substandard": (1, D("30000.00")),
        "doubtful": (0, D("0.00")),
        "loss": (1, D("40000.00")),
    }
    assert (totals["outstanding"], totals["npl_ratio"]) == (D("100000.00"), D("0.7000"))
    assert npl_ratio(Loan.objects.none()) == D("0.0000")


def test_npl_ratio_rounds_to_four_decimals(staff, line):
    today = date(2026, 3, 1)
    bullet(staff, line, amount="20000.00", on=date(2026, 2, 15))
    bullet(staff, line, amount="10000.00", on=date(2025, 10, 1))
    loans_classify_all(today=today)

    assert npl_ratio(Loan.objects.all()) == D("0.3333")


# --- single-loan transitions --------------------------------------------------------------------


def test_single_loan_transitions_check_their_preconditions(staff, line):
    from loans.services.classification import loan_cure, loan_mark_overdue
    from loans.services.repayment import loan_settle

    loan = bullet(staff, line)

    with pytest.raises(ConflictError):
        loan_mark_overdue(actor=staff.manager, loan=loan, today=DUE)  # due today, not past due
    with pytest.raises(ConflictError):
        loan_cure(actor=staff.manager, loan=loan)  # not overdue
    with pytest.raises(ConflictError):
        loan_settle(actor=staff.manager, loan=loan)  # nothing repaid
    assert fresh(loan).state == "active"

    loan_mark_overdue(actor=staff.manager, loan=loan, today=DUE + timedelta(days=3))

    stored = fresh(loan)
    assert (stored.state, stored.days_past_due) == ("overdue", 3)
    event = AuditEvent.objects.get(action="loan.mark_overdue", object_id=str(loan.pk))
    assert (event.from_state, event.to_state, event.actor) == ("active", "overdue", staff.manager)
    with pytest.raises(ConflictError):
        loan_cure(actor=staff.manager, loan=loan, today=DUE + timedelta(days=3))
    assert fresh(loan).state == "overdue"
