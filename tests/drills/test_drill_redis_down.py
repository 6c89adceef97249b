"""Drill: Redis stops while tellers disburse loans and account managers submit applications.

Every request succeeds, every row is in Postgres, the enqueue after commit fails harmlessly (and
fast); when Redis returns, a real worker runs the beat's sweeps once and the escalations and
classifications that were due appear.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import transaction
from django.test import Client
from kombu.exceptions import OperationalError

from coop.models import AuditEvent, User
from coop.tasks import enqueue_on_commit, health_ping
from customers.models import Complaint
from customers.tasks_service import complaints_escalate_overdue
from loans.models import DisbursementNotice, Installment, Loan, LoanApplication
from risk.models import ApprovalCase, Inspection, InspectionNotice
from risk.tasks import inspections_sweep
from tests.drills import drill_data
from tests.loans import test_lifecycle_factories as factories

pytestmark = [pytest.mark.drill, pytest.mark.worker]

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff

DISBURSEMENTS = 3
APPLICATIONS = 3
COMPLAINTS = 4


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_redis_down_requests_succeed_and_sweeps_catch_up(
    transactional_db,
    private_broker,
    drill_worker,
    drill_log,
    org,
    staff,
    team,
    make_customer,
    make_application,
):
    log = drill_log
    notices = drill_data.issued_notices(staff, org, DISBURSEMENTS)
    drafts = [
        make_application(make_customer(), "farmer-microcredit", "4000") for _ in range(APPLICATIONS)
    ]
    complaints = drill_data.overdue_complaints(staff.teller, COMPLAINTS)
    # A loan disbursed long ago whose first inspection is long overdue: the sweep's work.
    old_loan = factories.active_loan(
        staff,
        factories.grant(
            staff.manager, factories.make_customer(org, staff.am), factories.make_product()
        ),
        on=dt.date(2025, 1, 10),
    )
    log.say(
        f"prepared {len(notices)} notices at the counter, {len(drafts)} draft applications, "
        f"{len(complaints)} complaints past their deadline, loan {old_loan.number} with an "
        f"overdue inspection; broker {private_broker.url}"
    )

    private_broker.stop()
    log.say("redis-server stopped")
    health = Client().get("/healthz")
    log.measure("healthz_while_redis_down", health.status_code)
    assert health.status_code == 503
    assert health.json()["broker"] == "unavailable"

    teller = client_for(staff.teller)
    manager = client_for(team.am_a)
    statuses, slowest = [], 0.0
    for notice in notices:
        started = time.monotonic()
        response = teller.post(
            f"/loans/notices/{notice.pk}/disburse/",
            {"idempotency_key": drill_data.new_key(), "disbursed_on": drill_data.today()},
        )
        slowest = max(slowest, time.monotonic() - started)
        statuses.append(response.status_code)
        log.say(f"teller disbursed notice {notice.number} (page): HTTP {response.status_code}")
    for draft in drafts:
        started = time.monotonic()
        response = manager.post(f"/api/v1/loan-applications/{draft.pk}/submit/")
        slowest = max(slowest, time.monotonic() - started)
        statuses.append(response.status_code)
        log.say(f"account manager submitted application {draft.pk} (API): {response.status_code}")

    # The account manager completes the first inspection of a loan just disbursed.
    am = client_for(staff.am)
    first = Inspection.objects.get(loan__contract_id=notices[0].contract_id)
    started = time.monotonic()
    response = am.post(
        f"/risk/inspections/{first.pk}/complete/",
        {
            "funds_use": "matches",
            "operation_note": "正常经营",
            "conclusion": "normal",
            "next_action": "按期检查",
        },
    )
    slowest = max(slowest, time.monotonic() - started)
    statuses.append(response.status_code)
    log.say(f"account manager completed inspection {first.pk} (page): HTTP {response.status_code}")
    log.measure("slowest_request_seconds_while_redis_down", round(slowest, 2))
    assert statuses == [302] * DISBURSEMENTS + [200] * APPLICATIONS + [302]

    # Nothing is lost: every effect is in Postgres.
    disbursed = Loan.objects.filter(
        contract_id__in=[n.contract_id for n in notices], state=Loan.State.ACTIVE
    )
    assert disbursed.count() == DISBURSEMENTS
    assert (
        DisbursementNotice.objects.filter(
            pk__in=[n.pk for n in notices], status=DisbursementNotice.Status.DISBURSED
        ).count()
        == DISBURSEMENTS
    )
    assert Installment.objects.filter(loan__in=disbursed).count() == DISBURSEMENTS * 12
    assert (
        LoanApplication.objects.filter(pk__in=[d.pk for d in drafts], state="submitted").count()
        == APPLICATIONS
    )
    assert ApprovalCase.objects.filter(application__in=drafts).count() == APPLICATIONS
    assert (
        AuditEvent.objects.filter(action="loan.disburse").count() == DISBURSEMENTS + 1
    )  # + old loan
    # Each disbursement planned its first inspection in the same transaction; the completed
    # one planned the next.
    planned = Inspection.objects.filter(loan__in=disbursed)
    assert planned.count() == DISBURSEMENTS + 1
    assert Inspection.objects.get(pk=first.pk).status == "completed"
    assert planned.filter(loan_id=first.loan_id).exclude(pk=first.pk).count() == 1
    assert not Complaint.objects.filter(pk__in=[c.pk for c in complaints], escalation_level__gt=0)
    assert not InspectionNotice.objects.filter(inspection__loan=old_loan).exists()
    log.measure("rows_in_postgres_after_outage", planned.count() + DISBURSEMENTS + APPLICATIONS)

    # Redis returns; the beat's next tick sends the sweeps to a real worker.
    private_broker.start()
    back = time.monotonic()
    log.say("redis-server started again")
    assert Client().get("/healthz").status_code == 200
    drill_worker("worker")
    escalated = complaints_escalate_overdue.apply_async().get(timeout=60)
    swept = inspections_sweep.apply_async().get(timeout=60)
    caught_up = time.monotonic() - back
    log.say(f"worker ran complaints_escalate_overdue: {escalated} escalated")
    log.say(f"worker ran risk.inspections_sweep: {swept}")
    log.measure("catch_up_seconds_after_redis_returns", round(caught_up, 2))

    assert escalated == COMPLAINTS
    assert (
        Complaint.objects.filter(
            pk__in=[c.pk for c in complaints], escalation_level=1, escalated_at__isnull=False
        ).count()
        == COMPLAINTS
    )
    assert AuditEvent.objects.filter(action="complaint.escalate").count() == COMPLAINTS
    assert swept["marked_overdue"] == 1
    notices_sent = InspectionNotice.objects.filter(inspection__loan=old_loan).count()
    log.measure("inspection_notices_after_catch_up", notices_sent)
    assert notices_sent == 3
    # A second tick (or a redelivered message) adds nothing.
    assert complaints_escalate_overdue.apply_async().get(timeout=60) == 0
    assert AuditEvent.objects.filter(action="complaint.escalate").count() == COMPLAINTS


def test_enqueue_after_commit_with_redis_down_is_harmless(
    transactional_db, private_broker, drill_log, make_staff
):
    log = drill_log
    private_broker.stop()
    log.say("redis-server stopped; a service commits and enqueues its follow-up task")
    started = time.monotonic()
    with transaction.atomic():
        clerk = make_staff("teller", username="drill-enqueue")
        enqueue_on_commit(health_ping, "drill")
    seconds = time.monotonic() - started
    # The commit stands whatever happened to the message; the caller saw no exception.
    assert User.objects.filter(pk=clerk.pk).exists()
    # After-commit sends store no result, so Celery does not first subscribe to the Redis result
    # backend (which retries for about 20 s): the request waits only the broker's timeouts.
    log.measure("enqueue_on_commit_seconds_redis_down", round(seconds, 2))
    assert seconds < 5


def test_publish_without_result_fails_within_the_broker_timeouts(
    transactional_db, private_broker, drill_log
):
    log = drill_log
    private_broker.stop()
    started = time.monotonic()
    with pytest.raises(OperationalError):
        health_ping.apply_async(args=["drill"], retry=False, ignore_result=True)
    seconds = time.monotonic() - started
    log.measure("publish_ignore_result_seconds_redis_down", round(seconds, 2))
    assert seconds < 5
