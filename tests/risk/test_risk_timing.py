"""Stage timing on known data: average and 90th percentile (PostgreSQL's percentile_cont) per
stage, route, branch and month, in the bank's time zone, scoped like the cases; and the SLA
sweep that records a missed stage target once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from coop.roles import Role
from risk import services
from risk.models import ApprovalLog, Escalation, Stage
from risk.selectors import stage_timing


@pytest.fixture
def known(open_case, make_staff, team):
    """Four stays in credit granting with known lengths: low/B01 1 h (January), low/B02 2 h
    (January), medium/B01 3 h (February), medium/B02 4 h (1 February 01:00 in Shanghai, still
    31 January in UTC)."""
    b2_manager = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="b2_am")
    specs = [
        ("low", "B01", team.am_a, 3600, datetime(2026, 1, 10, 2, tzinfo=UTC)),
        ("low", "B02", b2_manager, 7200, datetime(2026, 1, 20, 2, tzinfo=UTC)),
        ("medium", "B01", team.am_a, 10800, datetime(2026, 2, 5, 2, tzinfo=UTC)),
        ("medium", "B02", b2_manager, 14400, datetime(2026, 1, 31, 17, tzinfo=UTC)),
    ]
    cases = []
    for route, branch, owner, seconds, at in specs:
        case = open_case(route, branch=branch, owner=owner, b_manager=None)
        ApprovalLog.objects.create(
            case=case,
            from_state=Stage.CREDIT_GRANTING,
            to_state=Stage.APPROVAL,
            transition="advance",
            actor=team.hq_risk1,
            role=Role.RISK_OFFICER,
            created_at=at,
            stage_entered_at=at - timedelta(seconds=seconds),
            seconds_in_stage=seconds,
        )
        cases.append(case)
    return cases


def _credit_granting(rows):
    return [
        (r.group_label, r.visits, round(r.avg_seconds), round(r.p90_seconds))
        for r in rows
        if r.stage == Stage.CREDIT_GRANTING
    ]


def test_per_stage(known, team):
    rows = stage_timing(user=team.hq_risk1)

    # p90 of 1h, 2h, 3h, 4h: 3h + 0.7 × 1h (linear interpolation)
    assert _credit_granting(rows) == [("", 4, 9000, 13320)]


def test_per_route(known, team):
    rows = stage_timing(user=team.hq_risk1, by="route")

    assert _credit_granting(rows) == [("Low risk", 2, 5400, 6840), ("Medium risk", 2, 12600, 14040)]


def test_per_branch(known, team, org):
    rows = stage_timing(user=team.hq_risk1, by="branch")

    assert _credit_granting(rows) == [
        (org["B01"].name, 2, 7200, 10080),
        (org["B02"].name, 2, 10800, 13680),
    ]


def test_per_month_in_the_banks_time_zone(known, team):
    rows = stage_timing(user=team.hq_risk1, by="month")

    assert _credit_granting(rows) == [("2026-01", 2, 5400, 6840), ("2026-02", 2, 12600, 14040)]


def test_filters(known, team, org):
    february = stage_timing(user=team.hq_risk1, date_from=date(2026, 2, 1))
    b02_low = stage_timing(user=team.hq_risk1, route="low", branch_id=org["B02"].pk)

    assert _credit_granting(february) == [("", 2, 12600, 14040)]
    assert _credit_granting(b02_low) == [("", 1, 7200, 7200)]


def test_a_branch_sees_only_its_own_cases(known, make_staff):
    b02_manager = make_staff(Role.BRANCH_MANAGER, unit="B02")

    rows = stage_timing(user=b02_manager)

    assert _credit_granting(rows) == [("", 2, 10800, 13680)]


def test_the_api_and_the_page_show_the_same_figures(client, known, make_staff):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    api = APIClient()
    api.force_authenticate(director)
    client.force_login(director)

    body = api.get("/api/v1/approval-stats/?by=route").json()
    page = client.get(reverse("risk:timing") + "?by=route")
    bad = api.get("/api/v1/approval-stats/?by=colour")

    rows = [r for r in body["rows"] if r["stage"] == "credit_granting"]
    assert [(r["group"], r["visits"], r["avg_seconds"], r["p90_seconds"]) for r in rows] == [
        ("low", 2, 5400.0, 6840.0),
        ("medium", 2, 12600.0, 14040.0),
    ]
    assert rows[0]["target_hours"] == 24
    assert page.status_code == 200
    assert 'data-stage="credit_granting" data-group="medium"' in page.content.decode()
    assert bad.status_code == 400


def test_the_sweep_records_a_missed_target_once(open_case):
    case = open_case("low")  # credit granting, 24-hour target
    later = timezone.now() + timedelta(hours=25)

    first = services.escalations_sweep(now=later)
    second = services.escalations_sweep(now=later)
    on_time = services.escalations_sweep(now=timezone.now())

    assert (first, second, on_time) == (1, 0, 0)
    escalation = Escalation.objects.get()
    assert (escalation.case_id, escalation.stage) == (case.pk, Stage.CREDIT_GRANTING)
    assert escalation.due_at == case.stage_due_at


def test_every_transition_records_the_time_spent_in_the_stage(open_case, team):
    case = open_case("low")
    entered = case.stage_entered_at

    services.approval_case_advance(
        case=case, actor=team.branch_risk, at=entered + timedelta(hours=5)
    )

    last = ApprovalLog.objects.filter(case=case).latest("id")
    assert (last.seconds_in_stage, last.stage_entered_at) == (5 * 3600, entered)


def test_the_approval_log_is_append_only(open_case):
    from django.db import DatabaseError, transaction

    case = open_case("low")
    entry = ApprovalLog.objects.get(case=case)

    with pytest.raises(DatabaseError), transaction.atomic():
        ApprovalLog.objects.filter(pk=entry.pk).update(comment="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        ApprovalLog.objects.filter(pk=entry.pk).delete()

    assert ApprovalLog.objects.get(pk=entry.pk).comment == entry.comment
