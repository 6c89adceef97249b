"""seed_scale: a small county generated with COPY is internally consistent, deterministic for a
seed, proportional to its size, and never written twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import F

from coop.models import AuditEvent
from coop.scale.generate import SEED_ACTION, Sizes, build
from customers.models import Customer
from customers.validators import (
    credit_code_is_valid,
    id_number_birth_date,
    id_number_gender,
    id_number_is_valid,
    validate_mobile,
)
from grid.models import Household
from grid.services.households import households_recompute_completeness
from loans.models import Loan
from loans.services.classification import loans_classify_all
from risk.models import ApprovalCase, ApprovalLog

TODAY = date(2026, 11, 24)

pytestmark = pytest.mark.django_db


def _rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _seed(households: int = 200, seed: int = 5) -> dict:
    return build(households=households, seed=seed, today=TODAY, log=lambda line: None)


class _Rollback(Exception):
    pass


def _snapshot() -> dict:
    """The dataset without its ids (sequences move on between runs in one database)."""
    return {
        "customers": _rows(
            "SELECT name, id_number, credit_code, mobile, birth_date, credit_rating "
            "FROM customers_customer WHERE branch_id IN "
            "(SELECT id FROM coop_orgunit WHERE code LIKE 'K%%') ORDER BY name, id_number, mobile"
        ),
        "loans": _rows(
            "SELECT number, principal, state, disbursed_on, outstanding_principal, days_past_due, "
            "classification FROM loans_loan ORDER BY number"
        ),
        "installments": _rows(
            "SELECT l.number, i.number, i.due_date, i.principal, i.interest, i.paid_principal, "
            "i.settled_on FROM loans_installment i JOIN loans_loan l ON l.id = i.loan_id "
            "ORDER BY 1, 2"
        ),
        "cases": _rows(
            "SELECT a.number, c.route, c.state, c.opened_at, count(g.id) "
            "FROM risk_approvalcase c JOIN loans_loanapplication a ON a.id = c.application_id "
            "LEFT JOIN risk_approvallog g ON g.case_id = c.id GROUP BY 1, 2, 3, 4 ORDER BY 1"
        ),
        "households": _rows(
            "SELECT head_name, address, member_count, completeness FROM grid_household "
            "ORDER BY head_name, address, member_count, completeness"
        ),
    }


def test_sizes_follow_the_design_targets():
    county = Sizes.for_households(100_000)
    assert (county.villages, county.branches, county.grids, county.corporates) == (
        200,
        16,
        100,
        500,
    )
    small = Sizes.for_households(200)
    assert (small.villages, small.branches, small.grids, small.corporates) == (2, 2, 2, 2)


def test_every_loan_schedule_sums_to_its_principal_and_balances_reconcile():
    counts = _seed()
    assert counts["households"] == 200
    assert Household.objects.count() == 200
    disbursed = Loan.objects.exclude(state=Loan.State.CONTRACTED)
    assert disbursed.count() > 100
    # Schedule principal = loan principal, exactly, for every disbursed loan.
    assert (
        _rows(
            "SELECT l.id FROM loans_loan l LEFT JOIN loans_installment i ON i.loan_id = l.id "
            "WHERE l.state <> 'contracted' GROUP BY l.id HAVING l.principal <> "
            "COALESCE(SUM(i.principal), 0)"
        )
        == []
    )
    # Outstanding = principal − repaid principal, by the repayments and by the schedule.
    assert (
        _rows(
            "SELECT l.id FROM loans_loan l LEFT JOIN loans_repayment r ON r.loan_id = l.id "
            "WHERE l.state <> 'contracted' GROUP BY l.id "
            "HAVING l.outstanding_principal <> l.principal - COALESCE(SUM(r.to_principal), 0)"
        )
        == []
    )
    assert (
        _rows(
            "SELECT l.id FROM loans_loan l JOIN loans_installment i ON i.loan_id = l.id "
            "GROUP BY l.id HAVING l.outstanding_principal <> SUM(i.principal - i.paid_principal)"
        )
        == []
    )
    # A repayment pays one installment exactly: as many repayments as settled installments.
    assert (
        _rows(
            "SELECT (SELECT count(*) FROM loans_repayment), "
            "(SELECT count(*) FROM loans_installment WHERE settled_on IS NOT NULL), "
            "(SELECT count(*) FROM loans_installment WHERE settled_on IS NOT NULL "
            " AND (paid_principal <> principal OR paid_interest <> interest))"
        )[0][2]
        == 0
    )
    repayments, settled, _partial = _rows(
        "SELECT (SELECT count(*) FROM loans_repayment), "
        "(SELECT count(*) FROM loans_installment WHERE settled_on IS NOT NULL), 0"
    )[0]
    assert repayments == settled
    # Contracted loans have no schedule yet (it is made at disbursement).
    assert _rows(
        "SELECT count(*) FROM loans_installment i JOIN loans_loan l ON l.id = i.loan_id "
        "WHERE l.state = 'contracted'"
    ) == [(0,)]
    # Settled loans owe nothing.
    assert not Loan.objects.filter(state=Loan.State.SETTLED, outstanding_principal__gt=0).exists()
    # Credit lines count what was drawn on them.
    assert (
        _rows(
            "SELECT c.id FROM loans_creditline c LEFT JOIN loans_loan l ON l.credit_line_id = c.id "
            "GROUP BY c.id HAVING c.drawn_total <> COALESCE(SUM(l.principal), 0)"
        )
        == []
    )


def test_days_past_due_and_classes_match_the_schedule_and_the_policy():
    _seed()
    assert Loan.objects.filter(state=Loan.State.OVERDUE).exists()
    mismatched = _rows(
        "SELECT l.id FROM loans_loan l LEFT JOIN loans_installment i ON i.loan_id = l.id "
        "AND i.settled_on IS NULL AND i.due_date < %s WHERE l.state IN ('active', 'overdue') "
        "GROUP BY l.id HAVING l.days_past_due <> COALESCE(%s - MIN(i.due_date), 0) "
        "OR (l.state = 'overdue') <> (l.days_past_due > 0)",
        [TODAY, TODAY],
    )
    assert mismatched == []
    # The nightly sweep agrees with every row: it finds nothing to change.
    assert loans_classify_all(today=TODAY) == {
        "days_past_due_updated": 0,
        "marked_overdue": 0,
        "cured": 0,
        "reclassified": 0,
    }


def test_every_case_has_its_log_along_its_route():
    _seed()
    cases = list(ApprovalCase.objects.all())
    assert len(cases) > 20
    logs: dict[int, list[ApprovalLog]] = {}
    for entry in ApprovalLog.objects.order_by("created_at", "id"):
        logs.setdefault(entry.case_id, []).append(entry)
    for case in cases:
        trail = logs.get(case.pk, [])
        expected_from = "application"
        entered = case.opened_at
        for entry in trail:
            assert entry.from_state == expected_from
            assert entry.stage_entered_at == entered
            assert entry.seconds_in_stage == int((entry.created_at - entered).total_seconds())
            expected_from = entry.to_state
            entered = entry.created_at
        assert expected_from == case.state
        assert case.stage_entered_at == entered
        if case.state in ("approved", "rejected", "withdrawn"):
            assert trail and case.closed_at == trail[-1].created_at
        else:
            assert case.closed_at is None and case.stage_due_at > case.stage_entered_at
    # Every approved case's application was decided; every loan from an application has one.
    assert not ApprovalCase.objects.filter(
        state="approved", application__decided_at__isnull=True
    ).exists()
    assert not Loan.objects.filter(
        contract__application__isnull=False, contract__application__approval_case__isnull=True
    ).exists()


def test_identifiers_are_valid_and_consistent():
    _seed()
    individuals = list(Customer.objects.filter(kind="individual"))
    assert len(individuals) > 180
    for customer in individuals:
        assert id_number_is_valid(customer.id_number, today=TODAY)
        assert id_number_birth_date(customer.id_number) == customer.birth_date
        assert id_number_gender(customer.id_number) == customer.gender
        validate_mobile(customer.mobile)
    corporates = list(Customer.objects.filter(kind="corporate"))
    assert len(corporates) == 2
    assert all(credit_code_is_valid(c.credit_code) for c in corporates)
    # Stored completeness scores are what the grid service computes.
    with transaction.atomic():
        assert households_recompute_completeness(Household.objects.all()) == 0


def test_counts_are_proportional_to_the_households():
    ratios = {}
    for households in (200, 400):
        try:
            with transaction.atomic():
                counts = _seed(households=households)
                ratios[households] = (
                    counts["live_loans"] / households,
                    counts["installments"] / households,
                    counts["customers"] / households,
                )
                raise _Rollback
        except _Rollback:
            pass
    for households, (loans, installments, customers) in ratios.items():
        assert 0.5 <= loans <= 0.7, households
        assert 11 <= installments <= 19, households
        assert 0.95 <= customers <= 1.1, households


def test_the_same_seed_gives_the_same_bank_and_another_seed_another():
    snapshots = []
    for seed in (5, 5, 6):
        try:
            with transaction.atomic():
                _seed(seed=seed)
                snapshots.append(_snapshot())
                raise _Rollback
        except _Rollback:
            pass
    assert snapshots[0] == snapshots[1]
    assert snapshots[0]["loans"] != snapshots[2]["loans"]
    assert snapshots[0]["customers"] != snapshots[2]["customers"]


def test_a_second_run_refuses_and_changes_nothing():
    call_command("seed_scale", households=200, seed=5, today=TODAY, stdout=_Sink())
    before = (Customer.objects.count(), Loan.objects.count(), ApprovalLog.objects.count())
    with pytest.raises(CommandError, match="already holds a county dataset"):
        call_command("seed_scale", households=200, seed=5, today=TODAY, stdout=_Sink())
    assert (Customer.objects.count(), Loan.objects.count(), ApprovalLog.objects.count()) == before
    event = AuditEvent.objects.get(action=SEED_ACTION)
    assert event.data["seed"] == 5 and event.data["households"] == 200
    assert event.data["counts"]["loans"] == Loan.objects.count()


def test_the_approval_log_stays_append_only():
    _seed()
    entry = ApprovalLog.objects.order_by("id").first()
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
    ):
        ApprovalLog.objects.filter(pk=entry.pk).update(comment="changed")
    entry.refresh_from_db()
    assert entry.comment != "changed"
    assert Decimal(ApprovalCase.objects.filter(pk=entry.case_id).get().amount) > 0


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def test_signed_campaign_households_hold_exactly_the_village_credit_lines():
    from grid.models import CampaignHousehold, Evaluation
    from loans.models import CreditLine

    _seed()
    signed = CampaignHousehold.objects.filter(signing="signed").select_related(
        "credit_line", "household"
    )
    assert signed.count() == CreditLine.objects.filter(source="village_campaign").count() > 50
    assert all(e.credit_line.customer_id == e.household.head_id for e in signed)
    # Three evaluations for every evaluated household, all agreeing with its pre-credit limit.
    evaluated = CampaignHousehold.objects.filter(excluded_reason="")
    assert Evaluation.objects.count() == 3 * evaluated.count()
    assert not Evaluation.objects.exclude(suggested_limit=F("entry__limit")).exists()


def test_inspections_follow_the_rule_so_the_sweeps_find_nothing_to_do():
    from risk.inspections import inspections_plan, inspections_sweep
    from risk.models import Inspection

    _seed()
    live = Loan.objects.filter(state__in=["active", "overdue"])
    open_scheduled = Inspection.objects.filter(
        kind__in=["first", "routine"], status__in=["due", "overdue"]
    )
    assert open_scheduled.count() == live.count() > 100
    assert Inspection.objects.filter(status="completed").count() > live.count()
    assert inspections_plan(today=TODAY) == {"first": 0, "routine": 0}
    assert inspections_sweep(today=TODAY) == {
        "cancelled": 0,
        "marked_overdue": 0,
        "notified_account_manager": 0,
        "escalated_branch_manager": 0,
        "escalated_head_office": 0,
        "ad_hoc_planned": 0,
    }


def test_survey_responses_answer_every_question_of_their_invitation():
    from surveys.models import Answer, Campaign, Indicator, Invitation, Response

    counts = _seed(households=400)
    assert counts["survey_campaigns"] == Campaign.objects.count() == 4
    assert list(Campaign.objects.values_list("state", flat=True).order_by("starts_on")) == [
        "closed",
        "closed",
        "closed",
        "open",
    ]
    responses = Response.objects.all()
    assert responses.count() == counts["survey_responses"] > 0
    second_level = Indicator.objects.filter(parent__isnull=False).count()
    for response in responses.prefetch_related("answers"):
        answers = list(response.answers.all())
        assert len(answers) == second_level
        answered = sum(a.satisfaction is not None for a in answers)
        assert response.is_complete == response.is_valid == (answered == second_level)
        assert response.campaign_id == Invitation.objects.get(pk=response.invitation_id).campaign_id
    assert Invitation.objects.filter(responded_at__isnull=False).count() == responses.count()
    assert Answer.objects.filter(importance__isnull=True).count() == 0
