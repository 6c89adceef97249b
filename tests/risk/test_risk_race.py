"""Twenty officers approve the same case at the same moment, on the real database, each thread
with its own connection: exactly one wins, the other nineteen get 409, and there is one log row,
one audit event and one approval of the application."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from coop.models import AuditEvent
from coop.roles import Role
from coop.services import ConflictError
from loans.models import LoanApplication
from risk import services
from risk.models import ApprovalCase, ApprovalLog, Stage

THREADS = 20


def _race(work) -> list:
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except Exception as exc:  # recorded and asserted on below
            results[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _assert_one_approval(case: ApprovalCase) -> None:
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.APPROVED
    assert ApprovalLog.objects.filter(case=case, from_state=Stage.APPROVAL).count() == 1
    assert (
        AuditEvent.objects.filter(
            action="approval_case.advance", object_id=str(case.pk), from_state=Stage.APPROVAL
        ).count()
        == 1
    )
    assert (
        AuditEvent.objects.filter(
            action="loan_application.approve", object_id=str(case.application_id)
        ).count()
        == 1
    )
    assert LoanApplication.objects.get(pk=case.application_id).state == "approved"


@pytest.fixture
def officers(make_staff):
    return [make_staff(Role.BRANCH_MANAGER, username=f"approver{i}") for i in range(THREADS)]


def test_twenty_services_racing_one_wins(transactional_db, open_case, drive, officers):
    case = drive(open_case("low"), Stage.APPROVAL)

    def work(i, barrier):
        loaded = ApprovalCase.objects.get(pk=case.pk)
        barrier.wait()
        try:
            services.approval_case_advance(case=loaded, actor=officers[i], comment=f"#{i}")
        except ConflictError:
            return 409
        return 200

    results = _race(work)

    assert sorted(results) == [200] + [409] * (THREADS - 1)
    _assert_one_approval(case)


def test_twenty_api_requests_racing_one_gets_200_the_rest_409(
    transactional_db, open_case, drive, officers
):
    case = drive(open_case("low"), Stage.APPROVAL)

    def work(i, barrier):
        api = APIClient()
        api.force_authenticate(officers[i])
        barrier.wait()
        response = api.post(
            f"/api/v1/approval-cases/{case.pk}/transitions/",
            {"transition": "advance", "comment": f"#{i}", "state": "approval"},
            format="json",
        )
        return response.status_code

    results = _race(work)

    assert sorted(results) == [200] + [409] * (THREADS - 1)
    _assert_one_approval(case)
