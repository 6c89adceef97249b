"""Drill: money under concurrency, through real HTTP on the live server. Twenty simultaneous
drawdowns against one credit line never exceed its limit; twenty simultaneous approvals of one
case give one winner and nineteen 409s."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
import requests
from rest_framework.authtoken.models import Token

from coop.audit_chain import APPROVAL_LOG, AUDIT_EVENT, verify_chain
from coop.models import AuditEvent
from coop.roles import Role
from loans.models import CreditLine, Loan
from loans.selectors_lifecycle import credit_line_usage
from risk.models import ApprovalCase, ApprovalLog, Stage
from tests.drills import drill_data
from tests.loans import test_lifecycle_factories as factories

pytestmark = [pytest.mark.drill]

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

CALLERS = 20


def race(call) -> list[int]:
    """``call(i)`` from CALLERS threads released at the same instant; their HTTP statuses."""
    barrier = threading.Barrier(CALLERS)
    statuses: list[int] = [0] * CALLERS

    def run(i: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            statuses[i] = call(session, i).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_twenty_drawdowns_never_exceed_the_line(
    transactional_db, live_server, drill_log, org, staff
):
    log = drill_log
    line = drill_data.credit_line(staff, org, limit="20000.00")
    token = Token.objects.create(user=staff.risk).key
    url = f"{live_server.url}/api/v1/credit-lines/{line.pk}/drawdowns/"
    body = {
        "amount": "3000.00",
        "term_months": 12,
        "repayment_method": "equal_principal",
        "annual_rate": "0.060000",
        "purpose": "购买化肥",
    }
    log.say(f"credit line {line.pk}: limit 20,000.00; {CALLERS} callers draw 3,000.00 each")

    started = time.monotonic()
    statuses = race(
        lambda s, i: s.post(url, json=body, headers={"Authorization": f"Token {token}"}, timeout=60)
    )
    log.measure("drawdown_statuses", dict(sorted(_count(statuses).items())))
    log.measure("drawdown_race_seconds", round(time.monotonic() - started, 2))

    drawn = Loan.objects.filter(credit_line=line)
    total = sum((loan.principal for loan in drawn), Decimal("0"))
    log.measure("drawn_total", str(total))
    assert sorted(statuses) == [201] * 6 + [409] * 14
    assert drawn.count() == 6
    assert total == Decimal("18000.00")
    assert credit_line_usage(CreditLine.objects.get(pk=line.pk)).available == Decimal("2000.00")
    assert AuditEvent.objects.filter(action="loan.create").count() == 6


def test_twenty_approvals_give_one_winner(
    transactional_db, live_server, drill_log, make_staff, open_case, drive
):
    log = drill_log
    case = drive(open_case("low"), Stage.APPROVAL)
    tokens = [
        Token.objects.create(user=make_staff(Role.BRANCH_MANAGER, username=f"approver{i}")).key
        for i in range(CALLERS)
    ]
    url = f"{live_server.url}/api/v1/approval-cases/{case.pk}/transitions/"
    log.say(f"case {case.pk} waits for approval; {CALLERS} branch managers approve at once")

    statuses = race(
        lambda s, i: s.post(
            url,
            json={"transition": "advance", "comment": f"#{i}", "state": Stage.APPROVAL},
            headers={"Authorization": f"Token {tokens[i]}"},
            timeout=60,
        )
    )
    log.measure("approval_statuses", dict(sorted(_count(statuses).items())))

    assert sorted(statuses) == [200] + [409] * (CALLERS - 1)
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.APPROVED
    assert ApprovalLog.objects.filter(case=case, from_state=Stage.APPROVAL).count() == 1
    assert (
        AuditEvent.objects.filter(
            action="loan_application.approve", object_id=str(case.application_id)
        ).count()
        == 1
    )
    # The losers' rolled-back inserts left no hole in either chain.
    assert [verify_chain(chain).ok for chain in (AUDIT_EVENT, APPROVAL_LOG)] == [True, True]


def _count(statuses: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts
