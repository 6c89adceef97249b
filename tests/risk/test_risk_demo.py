"""The demo seed: cases in every stage of every route, with trails; a second run adds nothing."""

from __future__ import annotations

from coop.demo import seed_all
from customers.demo import seed_customers
from risk import demo
from risk.models import ROUTE_STAGES, ApprovalCase, ApprovalLog, CommitteeMeeting, Stage

TERMINAL = [Stage.APPROVED, Stage.REJECTED, Stage.WITHDRAWN]


def test_demo_has_cases_in_every_stage_of_every_route_and_is_idempotent(db):
    seed_all()
    seed_customers(per_branch=40)

    summary = demo.seed()
    counts = {
        (route, state): ApprovalCase.objects.filter(route=route, state=state).count()
        for route, stages in ROUTE_STAGES.items()
        for state in [*stages, *TERMINAL]
    }
    cases_before = ApprovalCase.objects.count()
    log_before = ApprovalLog.objects.count()
    second = demo.seed()

    assert [key for key, n in counts.items() if n == 0] == []
    assert summary.startswith(f"{cases_before} new approval cases")
    assert second.startswith("0 new approval cases")
    assert ApprovalCase.objects.count() == cases_before
    assert ApprovalLog.objects.count() == log_before
    statuses = set(CommitteeMeeting.objects.values_list("status", "outcome"))
    assert statuses == {("open", ""), ("closed", "passed")}
    # every case has a trail that starts with its submission
    for case in ApprovalCase.objects.all():
        first = case.log.order_by("id").first()
        assert (first.from_state, first.transition) == ("application", "submit")
