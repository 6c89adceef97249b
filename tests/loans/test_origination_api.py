"""The loan-application and schedule-preview API, and its OpenAPI documentation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from coop.models import AuditEvent
from loans.models import Guarantor, LoanApplication
from loans.services.origination import loan_application_submit
from tests.loans import test_origination_support as support
from tests.loans.test_origination_support import apply, make_customer

D = Decimal

# Shared fixtures, bound here so pytest finds them in this module.
catalogue = support.catalogue
origination_roles = support.origination_roles
people = support.people
MICRO = "farmer-microcredit"


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def payload(customer, chosen, **overrides) -> dict:
    data = {
        "customer": customer.pk,
        "product": chosen.pk,
        "amount": "4500.00",
        "term_months": 12,
        "annual_rate": "0.0550",
        "repayment_method": "equal_installment",
        "purpose": "购买化肥",
    }
    data.update(overrides)
    return data


# --- create / read / change -----------------------------------------------------------------------


def test_create_a_draft_with_nested_guarantors(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    guarantor = make_customer(org, people.am, rating="good", name="钱五")

    response = api_for(people.am).post(
        "/api/v1/loan-applications/",
        payload(
            customer,
            catalogue["merchant"],
            amount="80000",
            guarantors=[
                {"customer": guarantor.pk, "relationship": "朋友"},
                {"name": "孙六", "relationship": "亲属"},
            ],
        ),
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "draft"
    assert body["number"].startswith("SQ")
    assert (body["amount"], body["annual_rate"]) == ("80000.00", "0.055000")
    assert body["customer"] == {
        "id": customer.pk,
        "name": customer.name,
        "kind": "individual",
        "credit_rating": "good",
    }
    assert sorted((g["name"], g["customer"]) for g in body["guarantors"]) == [
        ("孙六", None),
        ("钱五", guarantor.pk),
    ]


def test_create_with_collateral(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    response = api_for(people.am).post(
        "/api/v1/loan-applications/",
        payload(
            customer,
            catalogue["car-loan"],
            amount="120000",
            term_months=36,
            annual_rate="0.0500",
            collaterals=[{"description": "所购车辆", "appraised_value": "150000.00"}],
        ),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["collaterals"][0]["appraised_value"] == "150000.00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "5000.01"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"term_months": 48}, "term_months"),
        ({"annual_rate": "0.0900"}, "annual_rate"),
        ({"repayment_method": "weekly"}, "repayment_method"),
        ({"purpose": ""}, "purpose"),
        ({"product": 999999}, "product"),
    ],
)
def test_create_refusals_name_the_field_and_change_nothing(
    org, people, catalogue, overrides, field
):
    customer = make_customer(org, people.am, rating="good")

    response = api_for(people.am).post(
        "/api/v1/loan-applications/",
        payload(customer, catalogue[MICRO], **overrides),
        format="json",
    )

    assert response.status_code == 400
    assert field in response.json()
    assert LoanApplication.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="loans.loanapplication").count() == 0


def test_tier_refusal_message_over_the_api(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    api = api_for(people.am)
    api.cookies["django_language"] = "en"

    response = api.post(
        "/api/v1/loan-applications/",
        payload(customer, catalogue[MICRO], amount="6000"),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["amount"] == [
        "The 'good' tier of 农户小额信用贷款 allows ¥3,001.00 to ¥5,000.00."
    ]


def test_guarantor_required_over_the_api(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    response = api_for(people.am).post(
        "/api/v1/loan-applications/",
        payload(customer, catalogue["merchant"], amount="50000"),
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["guarantors", "code"]
    assert Guarantor.objects.count() == 0


def test_only_account_managers_create(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    response = api_for(people.manager).post(
        "/api/v1/loan-applications/", payload(customer, catalogue[MICRO]), format="json"
    )

    assert response.status_code == 403
    assert LoanApplication.objects.count() == 0


def test_list_with_filters(org, people, catalogue):
    first = make_customer(org, people.am, rating="good")
    second = make_customer(org, people.am, rating="good")
    a = apply(people.am, first, catalogue[MICRO], amount=D("4000"))
    b = apply(people.am, second, catalogue["merchant"], amount=D("30000"))
    loan_application_submit(application=b, actor=people.am)
    api = api_for(people.manager)

    def numbers(query: str) -> list[str]:
        response = api.get(f"/api/v1/loan-applications/{query}")
        assert response.status_code == 200
        return [row["number"] for row in response.json()["results"]]

    assert sorted(numbers("")) == sorted([a.number, b.number])
    assert numbers("?state=submitted") == [b.number]
    assert numbers(f"?product={catalogue[MICRO].pk}") == [a.number]
    assert numbers(f"?customer={second.pk}") == [b.number]
    assert api.get("/api/v1/loan-applications/?state=nonsense").status_code == 400


def test_list_query_budget(org, people, catalogue, django_assert_max_num_queries):
    customer = make_customer(org, people.am, rating="good")
    for _ in range(30):
        apply(people.am, customer, catalogue["merchant"], amount=D("30000"))
    api = api_for(people.manager)

    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/loan-applications/?limit=50")

    assert response.status_code == 200
    assert response.json()["count"] == 30
    assert len(response.json()["results"][0]["guarantors"]) == 1


def test_patch_a_draft_then_submit_then_409(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    api = api_for(people.am)

    patched = api.patch(
        f"/api/v1/loan-applications/{application.pk}/",
        {"amount": "4800.00", "purpose": "购买农机配件"},
        format="json",
    )
    assert patched.status_code == 200
    assert (patched.json()["amount"], patched.json()["purpose"]) == ("4800.00", "购买农机配件")

    submitted = api.post(f"/api/v1/loan-applications/{application.pk}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["submitted_at"] is not None

    again = api.post(f"/api/v1/loan-applications/{application.pk}/submit/")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"
    late_patch = api.patch(
        f"/api/v1/loan-applications/{application.pk}/", {"amount": "4100.00"}, format="json"
    )
    assert late_patch.status_code == 409
    application.refresh_from_db()
    assert (application.state, application.amount) == ("submitted", D("4800.00"))
    assert AuditEvent.objects.filter(action="loan_application.submit").count() == 1


def test_patch_refusal_changes_nothing(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))

    response = api_for(people.am).patch(
        f"/api/v1/loan-applications/{application.pk}/", {"term_months": 37}, format="json"
    )

    assert response.status_code == 400
    assert "term_months" in response.json()
    application.refresh_from_db()
    assert application.term_months == 12


def test_submit_rechecks_and_answers_400(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4500"))
    type(customer).objects.filter(pk=customer.pk).update(credit_rating="general")

    response = api_for(people.am).post(f"/api/v1/loan-applications/{application.pk}/submit/")

    assert response.status_code == 400
    assert "amount" in response.json()
    application.refresh_from_db()
    assert application.state == "draft"


# --- schedule preview -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "rows"),
    [("equal_installment", 12), ("equal_principal", 12), ("interest_only", 12), ("bullet", 1)],
)
def test_schedule_preview_for_every_method(people, method, rows):
    response = api_for(people.am).post(
        "/api/v1/schedule-preview/",
        {
            "amount": "10000.01",
            "annual_rate": "0.0435",
            "term_months": 12,
            "method": method,
            "start_date": "2026-01-31",
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    installments = body["installments"]
    assert len(installments) == rows
    assert set(installments[0]) == {
        "number",
        "due_date",
        "principal",
        "interest",
        "total",
        "remaining",
    }
    assert all(len(row["principal"].split(".")[1]) == 2 for row in installments)
    assert sum(D(row["principal"]) for row in installments) == D("10000.01")
    assert installments[-1]["remaining"] == "0.00"
    assert installments[-1]["due_date"] == "2027-01-31"
    assert body["totals"]["total_principal"] == "10000.01"
    assert body["totals"]["installments"] == rows
    assert D(body["totals"]["total_paid"]) == sum(D(row["total"]) for row in installments)


def test_schedule_preview_hand_checked(people):
    response = api_for(people.am).post(
        "/api/v1/schedule-preview/",
        {
            "amount": "120000",
            "annual_rate": "0.06",
            "term_months": 12,
            "method": "equal_principal",
            "start_date": "2026-01-15",
        },
        format="json",
    )

    first = response.json()["installments"][0]
    assert first == {
        "number": 1,
        "due_date": "2026-02-15",
        "principal": "10000.00",
        "interest": "600.00",
        "total": "10600.00",
        "remaining": "110000.00",
    }
    assert response.json()["totals"]["total_interest"] == "3900.00"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "0.05", "term_months": 12}, "amount"),  # below a fen per installment
        ({"annual_rate": "1.2"}, "annual_rate"),
        ({"annual_rate": "-0.01"}, "annual_rate"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 361}, "term_months"),
        ({"method": "weekly"}, "method"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"day_count": "actual/365"}, "day_count"),
    ],
)
def test_schedule_preview_invalid_input_is_400_naming_the_field(people, overrides, field):
    data = {
        "amount": "10000",
        "annual_rate": "0.0435",
        "term_months": 12,
        "method": "equal_principal",
        "start_date": "2026-01-15",
        **overrides,
    }

    response = api_for(people.am).post("/api/v1/schedule-preview/", data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_schedule_preview_actual_360(people):
    response = api_for(people.am).post(
        "/api/v1/schedule-preview/",
        {
            "amount": "36000",
            "annual_rate": "0.036",
            "term_months": 1,
            "method": "bullet",
            "start_date": "2026-01-01",
            "day_count": "actual/360",
        },
        format="json",
    )

    # 31 days of January: 36,000 × 3.6% × 31 / 360 = 111.60
    assert response.json()["installments"][0]["interest"] == "111.60"


def test_schedule_preview_needs_sign_in(db):
    assert APIClient().post("/api/v1/schedule-preview/", {}, format="json").status_code in (
        401,
        403,
    )


# --- documentation --------------------------------------------------------------------------------


def test_openapi_documents_the_origination_endpoints(client, people):
    client.force_login(people.director)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    for path in (
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/products/eligible/",
        "/api/v1/loan-applications/",
        "/api/v1/loan-applications/{id}/",
        "/api/v1/loan-applications/{id}/submit/",
        "/api/v1/schedule-preview/",
    ):
        assert path in paths, path
    submit = paths["/api/v1/loan-applications/{id}/submit/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(submit["responses"])
    preview = paths["/api/v1/schedule-preview/"]["post"]
    assert {"200", "400"} <= set(preview["responses"])
    listing = paths["/api/v1/loan-applications/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "state",
        "product",
        "customer",
        "limit",
        "offset",
    }


def test_api_root_lists_the_collections(people):
    body = api_for(people.am).get("/api/v1/").json()

    assert body["products"].endswith("/api/v1/products/")
    assert body["loan-applications"].endswith("/api/v1/loan-applications/")
