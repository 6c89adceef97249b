"""Cancelling a loan the borrower gives up before it is paid out: the notice goes with it, the
credit line's commitment is released, nothing can be signed, noticed or paid out on it any
more; a disbursed loan cannot be cancelled; the disbursement and the cancellation race safely."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import CreditLine, DisbursementNotice, Installment, Loan
from loans.selectors_lifecycle import credit_line_usage
from loans.services.disbursement import contract_sign, loan_cancel, loan_disburse, notice_issue
from tests.loans import test_lifecycle_factories as factories
from tests.loans.test_lifecycle_factories import (
    active_loan,
    draw,
    fresh,
    grant,
    issue,
    make_customer,
    make_product,
)

D = Decimal

lifecycle_roles = factories.lifecycle_roles
staff = factories.staff


def race(**calls) -> dict[str, str]:
    """Run the calls at the same moment, each on its own connection: {name: "done" or the
    conflict's code}."""
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(len(calls))

    def run(name, call) -> None:
        try:
            barrier.wait()
            call()
            outcomes[name] = "done"
        except ConflictError as error:
            outcomes[name] = error.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def line(org, staff):
    customer = make_customer(org, staff.am, name="放弃用款客户")
    return grant(
        staff.manager, customer, make_product(revolving=False), limit="20000.00", revolving=False
    )


def test_cancelling_releases_the_line_and_voids_the_notice(staff, line):
    loan = draw(staff.risk, line, amount="12000.00")
    notice = issue(staff.risk, loan)
    assert credit_line_usage(CreditLine.objects.get(pk=line.pk)).available == D("8000.00")

    cancelled = loan_cancel(actor=staff.risk, loan=loan, reason="借款人放弃用款")

    assert cancelled.state == Loan.State.CANCELLED
    assert DisbursementNotice.objects.get(pk=notice.pk).status == "cancelled"
    assert credit_line_usage(CreditLine.objects.get(pk=line.pk)).available == D("20000.00")
    event = AuditEvent.objects.get(action="loan.cancel", object_id=str(loan.pk))
    assert (event.actor, event.from_state, event.to_state, event.comment) == (
        staff.risk,
        "contracted",
        "cancelled",
        "借款人放弃用款",
    )
    assert AuditEvent.objects.filter(action="notice.cancel", object_id=str(notice.pk)).exists()

    # Nothing can be paid out on it, and no second cancellation.
    with pytest.raises(ConflictError) as refused:
        loan_disburse(
            actor=staff.teller,
            notice=notice,
            idempotency_key=str(uuid.uuid4()),
            disbursed_on=date(2025, 1, 10),
        )
    assert refused.value.code == "cancelled"
    with pytest.raises(ConflictError):
        loan_cancel(actor=staff.risk, loan=loan, reason="again")
    assert not Installment.objects.filter(loan=loan).exists()


def test_an_unsigned_cancelled_contract_cannot_be_signed_or_noticed(staff, line):
    loan = draw(staff.risk, line, amount="5000.00")
    loan_cancel(actor=staff.risk, loan=loan, reason="客户不再需要")
    with pytest.raises(ConflictError) as sign:
        contract_sign(actor=staff.risk, contract=loan.contract, signed_on=date(2025, 1, 10))
    assert sign.value.code == "cancelled"
    assert fresh(loan).contract.signed_on is None


def test_a_signed_cancelled_contract_gets_no_notice(staff, line):
    loan = draw(staff.risk, line, amount="5000.00")
    contract_sign(actor=staff.risk, contract=loan.contract, signed_on=date(2025, 1, 10))
    loan_cancel(actor=staff.risk, loan=loan, reason="客户不再需要")
    with pytest.raises(ConflictError) as notice:
        notice_issue(actor=staff.risk, contract=loan.contract, account_number="6228480012345678")
    assert notice.value.code == "cancelled"
    assert not DisbursementNotice.objects.filter(contract=loan.contract).exists()


def test_a_disbursed_loan_cannot_be_cancelled_and_bad_requests_change_nothing(staff, line):
    loan = active_loan(staff, line, amount="6000.00")
    with pytest.raises(ConflictError):
        loan_cancel(actor=staff.risk, loan=loan, reason="太迟了")
    waiting = draw(staff.risk, line, amount="1000.00")
    with pytest.raises(DomainError) as blank:
        loan_cancel(actor=staff.risk, loan=waiting, reason="  ")
    assert blank.value.field == "reason"
    with pytest.raises(PermissionDenied):
        loan_cancel(actor=staff.teller, loan=waiting, reason="柜员无权")
    assert fresh(loan).state == Loan.State.ACTIVE
    assert fresh(waiting).state == Loan.State.CONTRACTED
    assert not AuditEvent.objects.filter(action="loan.cancel").exists()


def test_disbursement_and_cancellation_at_the_same_moment_one_wins(transactional_db, org, staff):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    loan = draw(staff.risk, line, amount="8000.00")
    notice = issue(staff.risk, loan)
    outcomes = race(
        disburse=lambda: loan_disburse(
            actor=staff.teller,
            notice=notice,
            idempotency_key=str(uuid.uuid4()),
            disbursed_on=date(2025, 1, 10),
        ),
        cancel=lambda: loan_cancel(actor=staff.risk, loan=loan, reason="放弃"),
    )

    assert sorted(outcomes.values()) in (["cancelled", "done"], ["done", "state"])
    state = fresh(loan).state
    status = DisbursementNotice.objects.get(pk=notice.pk).status
    if outcomes["disburse"] == "done":
        assert (state, status) == (Loan.State.ACTIVE, "disbursed")
        assert Installment.objects.filter(loan=loan).exists()
    else:
        assert (state, status) == (Loan.State.CANCELLED, "cancelled")
        assert not Installment.objects.filter(loan=loan).exists()


# --- the page -----------------------------------------------------------------------------------


def test_the_risk_officer_cancels_from_the_loan_page(client, staff, line):
    loan = draw(staff.risk, line, amount="3000.00")
    client.force_login(staff.risk)
    detail = client.get(f"/loans/loan/{loan.pk}/").content.decode()
    assert f"/loans/loan/{loan.pk}/cancel/" in detail

    blank = client.post(f"/loans/loan/{loan.pk}/cancel/", {"reason": ""})
    assert blank.status_code == 400 and fresh(loan).state == Loan.State.CONTRACTED

    response = client.post(f"/loans/loan/{loan.pk}/cancel/", {"reason": "客户改用其他资金"})
    assert response.status_code == 302
    assert response["Location"] == f"/loans/loan/{loan.pk}/"
    assert fresh(loan).state == Loan.State.CANCELLED
    after = client.get(f"/loans/loan/{loan.pk}/").content.decode()
    assert f"/loans/loan/{loan.pk}/cancel/" not in after
    contract = client.get(f"/loans/contracts/{loan.contract_id}/").content.decode()
    assert 'data-testid="contract-cancelled"' in contract
    assert 'data-testid="sign-form"' not in contract


def test_others_may_not_cancel_and_other_branches_do_not_see_it(client, org, staff, line):
    loan = draw(staff.risk, line, amount="3000.00")
    for user, expected in ((staff.am, 403), (staff.teller, 403), (staff.other_risk, 404)):
        client.force_login(user)
        response = client.post(f"/loans/loan/{loan.pk}/cancel/", {"reason": "越权"})
        assert response.status_code == expected, user
    assert fresh(loan).state == Loan.State.CONTRACTED
    client.force_login(staff.risk)
    active = active_loan(staff, line, amount="2000.00")
    refused = client.post(f"/loans/loan/{active.pk}/cancel/", {"reason": "太迟了"})
    assert refused.status_code == 409
    assert fresh(active).state == Loan.State.ACTIVE


def test_a_notice_issued_while_the_loan_is_cancelled_never_outlives_it(
    transactional_db, org, staff
):
    customer = make_customer(org, staff.am)
    line = grant(staff.manager, customer, make_product(), limit="20000.00")
    loan = draw(staff.risk, line, amount="8000.00")
    contract_sign(actor=staff.risk, contract=loan.contract, signed_on=date(2025, 1, 10))
    race(
        notice=lambda: notice_issue(
            actor=staff.risk, contract=loan.contract, account_number="6228480012345678"
        ),
        cancel=lambda: loan_cancel(actor=staff.risk, loan=loan, reason="放弃"),
    )

    assert fresh(loan).state == Loan.State.CANCELLED
    # Either the cancellation voided the notice issued just before, or it came first and the
    # notice was refused: no notice waits at the counter for a cancelled loan.
    assert not DisbursementNotice.objects.filter(contract=loan.contract, status="issued").exists()


def test_the_write_off_page_shares_the_reason_form(client, staff, line):
    # The write-off page runs through the same form handling as the cancellation.
    loan = active_loan(staff, line, amount="4000.00")
    client.force_login(staff.director)
    assert client.get(f"/loans/loan/{loan.pk}/write-off/").status_code == 200
    assert client.post(f"/loans/loan/{loan.pk}/write-off/", {"reason": ""}).status_code == 400
    assert fresh(loan).state == Loan.State.ACTIVE
    response = client.post(f"/loans/loan/{loan.pk}/write-off/", {"reason": "借款人死亡，无遗产"})
    assert response.status_code == 302 and response["Location"] == f"/loans/loan/{loan.pk}/"
    assert fresh(loan).state == Loan.State.WRITTEN_OFF
    again = client.post(f"/loans/loan/{loan.pk}/write-off/", {"reason": "再次"})
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="loan.write_off", object_id=str(loan.pk)).count() == 1
