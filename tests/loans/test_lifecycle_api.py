"""The lifecycle API: credit lines and drawdowns, loans, schedules, repayments, disbursement —
status codes 200/201/400/403/404/409, scoping, and fixed query counts."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from loans.models import CreditLine, Installment, Loan, Repayment
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

# Fixtures shared with the other lifecycle test modules.
lifecycle_roles = factories.lifecycle_roles
staff = factories.staff


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def world(org, staff):
    product = make_product(revolving_years=0)
    valid_to = timezone.localdate() + timedelta(days=365)
    mine = make_customer(org, staff.am)
    line = grant(staff.manager, mine, product, limit="50000.00", valid_to=valid_to)
    stranger = make_customer(org, staff.other_am, branch="B02")
    other_line = grant(staff.other_manager, stranger, product, limit="50000.00")
    return {
        "product": product,
        "customer": mine,
        "stranger": stranger,
        "line": line,
        "other_line": other_line,
    }


# --- credit lines -------------------------------------------------------------------------------


def grant_payload(world, **overrides) -> dict:
    payload = {
        "customer": world["customer"].pk,
        "product": world["product"].pk,
        "limit": "30000.00",
        "valid_from": "2026-01-01",
        "valid_to": "2027-12-31",
        "revolving": True,
    }
    payload.update(overrides)
    return payload


def test_branch_manager_grants_a_line(staff, world):
    response = api_for(staff.manager).post(
        "/api/v1/credit-lines/", grant_payload(world), format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["limit"], body["available"], body["used"], body["status"]) == (
        "30000.00",
        "30000.00",
        "0.00",
        "active",
    )
    line = CreditLine.objects.get(pk=body["id"])
    assert (line.customer, line.granted_by) == (world["customer"], staff.manager)


def test_grant_refusals(staff, world):
    before = CreditLine.objects.count()
    manager = api_for(staff.manager)

    forbidden = api_for(staff.am).post("/api/v1/credit-lines/", grant_payload(world), format="json")
    stranger = manager.post(
        "/api/v1/credit-lines/",
        grant_payload(world, customer=world["stranger"].pk),
        format="json",
    )
    too_big = manager.post(
        "/api/v1/credit-lines/", grant_payload(world, limit="100000.01"), format="json"
    )

    assert forbidden.status_code == 403
    assert stranger.status_code == 400 and "customer" in stranger.json()
    assert too_big.status_code == 400 and "limit" in too_big.json()
    assert CreditLine.objects.count() == before


def test_a_repeated_idempotency_key_grants_and_draws_once(staff, world):
    manager, risk = api_for(staff.manager), api_for(staff.risk)
    key = str(uuid.uuid4())
    first = manager.post(
        "/api/v1/credit-lines/", grant_payload(world, idempotency_key=key), format="json"
    )
    again = manager.post(
        "/api/v1/credit-lines/", grant_payload(world, idempotency_key=key), format="json"
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert CreditLine.objects.filter(customer=world["customer"]).count() == 2  # world's + this

    url = f"/api/v1/credit-lines/{first.json()['id']}/drawdowns/"
    payload = {
        "amount": "1000.00",
        "term_months": 12,
        "repayment_method": "equal_principal",
        "annual_rate": "0.060000",
        "purpose": "购买农机",
        "idempotency_key": str(uuid.uuid4()),
    }
    drawn = [risk.post(url, payload, format="json") for _ in range(2)]
    assert [response.status_code for response in drawn] == [201, 201]
    assert drawn[0].json()["id"] == drawn[1].json()["id"]
    assert Loan.objects.filter(credit_line_id=first.json()["id"]).count() == 1
    # A key already used to grant a line is refused for a drawdown.
    replay = risk.post(url, {**payload, "idempotency_key": key}, format="json")
    assert replay.status_code == 409 and replay.json()["code"] == "key"


def test_credit_lines_are_scoped(staff, world):
    listed = api_for(staff.manager).get("/api/v1/credit-lines/").json()

    assert [row["id"] for row in listed["results"]] == [world["line"].pk]
    assert (
        api_for(staff.manager).get(f"/api/v1/credit-lines/{world['other_line'].pk}/").status_code
        == 404
    )


def test_drawdown_endpoint(staff, world):
    url = f"/api/v1/credit-lines/{world['line'].pk}/drawdowns/"
    payload = {
        "amount": "20000.00",
        "term_months": 12,
        "repayment_method": "equal_principal",
        "annual_rate": "0.060000",
        "purpose": "购买农机",
    }
    risk = api_for(staff.risk)

    created = risk.post(url, payload, format="json")
    over = risk.post(url, {**payload, "amount": "30000.01"}, format="json")
    forbidden = api_for(staff.am).post(url, payload, format="json")
    out_of_scope = risk.post(
        f"/api/v1/credit-lines/{world['other_line'].pk}/drawdowns/", payload, format="json"
    )
    bad_term = risk.post(url, {**payload, "term_months": 99}, format="json")

    assert created.status_code == 201
    assert (created.json()["state"], created.json()["principal"]) == ("contracted", "20000.00")
    assert over.status_code == 409 and over.json()["code"] == "limit_exceeded"
    assert forbidden.status_code == 403
    assert out_of_scope.status_code == 404
    assert bad_term.status_code == 400 and "term_months" in bad_term.json()
    assert Loan.objects.filter(credit_line=world["line"]).count() == 1


# --- loans, schedule, repayments ----------------------------------------------------------------


def test_loans_list_filters_and_scope(staff, world):
    active = active_loan(staff, world["line"], amount="5000.00")
    contracted = draw(staff.risk, world["line"], amount="1000.00")
    hidden = draw(staff.other_risk, world["other_line"], amount="1000.00")
    api = api_for(staff.manager)

    everything = {row["id"] for row in api.get("/api/v1/loans/").json()["results"]}
    only_active = api.get("/api/v1/loans/?state=active").json()["results"]
    by_product = api.get(f"/api/v1/loans/?product={world['product'].pk}").json()["count"]

    assert everything == {active.pk, contracted.pk}
    assert [row["number"] for row in only_active] == [active.number]
    assert by_product == 2
    assert api.get(f"/api/v1/loans/{hidden.pk}/").status_code == 404
    assert api.get(f"/api/v1/loans/{hidden.pk}/schedule/").status_code == 404
    assert api.get(f"/api/v1/loans/{hidden.pk}/repayments/").status_code == 404


def test_schedule_endpoint_with_paid_amounts(staff, world):
    loan = active_loan(staff, world["line"], amount="12000.00")
    api_for(staff.teller).post(
        f"/api/v1/loans/{loan.pk}/repayments/",
        {"amount": "1060.00", "paid_on": "2025-02-10", "idempotency_key": "s-1"},
        format="json",
    )

    body = api_for(staff.manager).get(f"/api/v1/loans/{loan.pk}/schedule/").json()

    assert body["day_count"] == "30/360"
    assert len(body["installments"]) == 12
    first = body["installments"][0]
    assert (
        first["principal"],
        first["interest"],
        first["paid_principal"],
        first["settled_on"],
    ) == (
        "1000.00",
        "60.00",
        "1000.00",
        "2025-02-10",
    )
    assert (body["totals"]["principal"], body["totals"]["interest"]) == ("12000.00", "390.00")


def test_repayment_endpoint(staff, world):
    loan = active_loan(staff, world["line"], amount="12000.00")
    url = f"/api/v1/loans/{loan.pk}/repayments/"
    teller = api_for(staff.teller)
    payload = {"amount": "1060.00", "paid_on": "2025-02-10", "idempotency_key": "r-1"}

    created = teller.post(url, payload, format="json")
    repeated = teller.post(url, payload, format="json")
    over = teller.post(
        url,
        {"amount": "99999.00", "paid_on": "2025-02-10", "idempotency_key": "r-2"},
        format="json",
    )
    forbidden = api_for(staff.am).post(url, {**payload, "idempotency_key": "r-3"}, format="json")
    listed = api_for(staff.am).get(url).json()

    assert created.status_code == 201
    assert (created.json()["to_interest"], created.json()["to_principal"]) == ("60.00", "1000.00")
    assert repeated.status_code == 200 and repeated.json()["id"] == created.json()["id"]
    assert over.status_code == 400 and "amount" in over.json()
    assert forbidden.status_code == 403
    assert [row["id"] for row in listed["results"]] == [created.json()["id"]]
    assert Repayment.objects.count() == 1


# --- disbursement -------------------------------------------------------------------------------


def test_disburse_endpoint_once(staff, world):
    loan = draw(staff.risk, world["line"], amount="6000.00", term_months=6)
    notice = issue(staff.risk, loan)
    url = f"/api/v1/disbursement-notices/{notice.pk}/disburse/"
    teller = api_for(staff.teller)
    payload = {"idempotency_key": str(uuid.uuid4()), "disbursed_on": "2025-01-10"}

    first = teller.post(url, payload, format="json")
    again = teller.post(url, payload, format="json")
    other = teller.post(url, {**payload, "idempotency_key": str(uuid.uuid4())}, format="json")

    assert first.status_code == 201
    assert (first.json()["state"], first.json()["maturity_date"]) == ("active", "2025-07-10")
    assert again.status_code == 200 and again.json()["id"] == loan.pk
    assert other.status_code == 409
    assert Installment.objects.filter(loan=loan).count() == 6


def test_disburse_endpoint_refusals(staff, world):
    other_loan = draw(staff.other_risk, world["other_line"], amount="6000.00")
    other_notice = issue(staff.other_risk, other_loan)
    loan = draw(staff.risk, world["line"], amount="6000.00")
    notice = issue(staff.risk, loan)
    payload = {"idempotency_key": str(uuid.uuid4()), "disbursed_on": "2025-01-10"}

    out_of_scope = api_for(staff.teller).post(
        f"/api/v1/disbursement-notices/{other_notice.pk}/disburse/", payload, format="json"
    )
    forbidden = api_for(staff.risk).post(
        f"/api/v1/disbursement-notices/{notice.pk}/disburse/", payload, format="json"
    )
    future = api_for(staff.teller).post(
        f"/api/v1/disbursement-notices/{notice.pk}/disburse/",
        {**payload, "disbursed_on": str(date.today() + timedelta(days=30))},
        format="json",
    )

    assert (out_of_scope.status_code, forbidden.status_code, future.status_code) == (404, 403, 400)
    assert fresh(loan).state == fresh(other_loan).state == Loan.State.CONTRACTED


def test_notices_list_is_scoped(staff, world):
    mine = issue(staff.risk, draw(staff.risk, world["line"], amount="1000.00"))
    issue(staff.other_risk, draw(staff.other_risk, world["other_line"], amount="1000.00"))

    listed = api_for(staff.teller).get("/api/v1/disbursement-notices/").json()

    assert [row["id"] for row in listed["results"]] == [mine.pk]


# --- documentation and query budgets ------------------------------------------------------------


def test_endpoints_are_documented(client, make_staff, lifecycle_roles):
    from coop.roles import Role

    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    drawdown = paths["/api/v1/credit-lines/{id}/drawdowns/"]["post"]
    assert set(drawdown["responses"]) == {"201", "400", "401", "403", "404", "409"}
    disburse = paths["/api/v1/disbursement-notices/{id}/disburse/"]["post"]
    assert {"200", "201", "400", "403", "404", "409"} <= set(disburse["responses"])
    assert "/api/v1/loans/{id}/schedule/" in paths
    assert "post" in paths["/api/v1/loans/{id}/repayments/"]


@pytest.mark.parametrize("count", [1, 5])
def test_list_endpoints_have_a_fixed_query_count(
    org, staff, world, count, django_assert_max_num_queries
):
    for _ in range(count):
        loan = active_loan(staff, world["line"], amount="1000.00", term_months=3)
        issue(staff.risk, draw(staff.risk, world["line"], amount="500.00"))
    api = api_for(staff.manager)
    for url in ("/api/v1/loans/", "/api/v1/credit-lines/", "/api/v1/disbursement-notices/"):
        with django_assert_max_num_queries(8):
            assert api.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert api.get(f"/api/v1/loans/{loan.pk}/repayments/").status_code == 200
