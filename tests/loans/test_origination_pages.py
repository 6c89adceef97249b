"""The application pages: the three steps of a new application, detail with exposure and
history, edit, submit, withdraw, the schedule preview partial, and the list's query budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

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


def terms_post(**overrides) -> dict:
    data = {
        "amount": "4500",
        "term_months": "12",
        "annual_rate_percent": "5.5",
        "repayment_method": "equal_installment",
        "purpose": "购买化肥",
    }
    data.update(overrides)
    return data


def guarantor_post(*rows: dict) -> dict:
    data = {
        "guarantors-TOTAL_FORMS": str(max(len(rows), 2)),
        "guarantors-INITIAL_FORMS": "0",
        "guarantors-MIN_NUM_FORMS": "0",
        "guarantors-MAX_NUM_FORMS": "10",
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"guarantors-{n}-{key}"] = value
    return data


# --- step by step ---------------------------------------------------------------------------------


def test_step_one_lists_only_my_customers_with_masked_ids(client, org, people):
    mine = make_customer(org, people.am, name="张秀兰")
    type(mine).objects.filter(pk=mine.pk).update(id_number="11010519491231002X")
    make_customer(org, people.am2, name="张建军")  # a colleague's customer
    client.force_login(people.am)

    body = client.get("/loans/applications/new/?q=张").content.decode()

    assert "张秀兰" in body
    assert "张建军" not in body
    assert "1101**********002X" in body
    assert "11010519491231002X" not in body


def test_step_two_shows_eligible_products_with_the_customers_maximum(
    client, org, people, catalogue
):
    customer = make_customer(org, people.am, rating="good")
    client.force_login(people.am)

    response = client.get(f"/loans/applications/new/?customer={customer.pk}")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="product-max-farmer-microcredit">¥5,000.00<' in body
    assert 'data-testid="product-min-farmer-microcredit">¥3,001.00<' in body
    assert 'data-testid="product-women-entrepreneur"' in body
    assert 'data-testid="product-small-enterprise"' not in body


def test_step_three_refuses_an_amount_above_the_tier_and_saves_nothing(
    client, org, people, catalogue
):
    customer = make_customer(org, people.am, rating="good")
    url = f"/loans/applications/new/?customer={customer.pk}&product={catalogue[MICRO].pk}"
    client.force_login(people.am)
    client.cookies["django_language"] = "en"

    # A blank purpose (the form's own check) does not hide the business rules' errors.
    response = client.post(url, terms_post(amount="6000", term_months="48", purpose=""))

    assert response.status_code == 200
    body = response.content.decode()
    assert "The &#x27;good&#x27; tier of 农户小额信用贷款 allows ¥3,001.00 to ¥5,000.00." in body
    assert "农户小额信用贷款 runs from 1 to 36 months." in body
    assert 'data-testid="error-purpose"' in body
    assert LoanApplication.objects.count() == 0


def test_step_three_saves_a_draft_and_shows_it(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    url = f"/loans/applications/new/?customer={customer.pk}&product={catalogue[MICRO].pk}"
    client.force_login(people.am)

    response = client.post(url, terms_post())

    application = LoanApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/loans/applications/{application.pk}/"
    assert (application.amount, application.annual_rate, application.term_months) == (
        D("4500.00"),
        D("0.055000"),
        12,
    )
    detail = client.get(response["Location"]).content.decode()
    assert 'data-state="draft"' in detail
    assert 'data-testid="submit-application"' in detail
    assert 'data-testid="total-exposure">¥4,500.00<' in detail


def test_guarantors_are_required_for_a_guaranteed_product(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    product = catalogue["merchant"]
    url = f"/loans/applications/new/?customer={customer.pk}&product={product.pk}"
    client.force_login(people.am)

    refused = client.post(url, {**terms_post(amount="50000"), **guarantor_post()})
    assert 'data-testid="error-guarantors"' in refused.content.decode()
    assert LoanApplication.objects.count() == 0

    saved = client.post(
        url,
        {
            **terms_post(amount="50000"),
            **guarantor_post({"name": "李四", "relationship": "同村村民"}),
        },
    )
    assert saved.status_code == 302
    assert list(Guarantor.objects.values_list("name", "relationship")) == [("李四", "同村村民")]


def test_an_ineligible_product_sends_back_to_step_two(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="general")
    client.force_login(people.am)

    response = client.get(
        f"/loans/applications/new/?customer={customer.pk}"
        f"&product={catalogue['women-entrepreneur'].pk}"
    )

    assert response.status_code == 302
    assert response["Location"] == f"/loans/applications/new/?customer={customer.pk}"


def test_only_account_managers_start_applications(client, org, people, catalogue):
    client.force_login(people.risk)

    assert client.get("/loans/applications/new/").status_code == 403


# --- one application ------------------------------------------------------------------------------


def test_edit_changes_a_draft(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(
        people.am, customer, catalogue[MICRO], amount=D("4000"), annual_rate=D("0.08")
    )
    client.force_login(people.am)

    form = client.get(f"/loans/applications/{application.pk}/edit/")
    assert form.status_code == 200
    assert 'value="4000.00"' in form.content.decode()
    assert 'name="annual_rate_percent" value="8"' in form.content.decode()

    response = client.post(f"/loans/applications/{application.pk}/edit/", terms_post(amount="4800"))

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.amount == D("4800.00")


def test_submit_from_the_page_then_no_more_edits(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(people.am)

    response = client.post(f"/loans/applications/{application.pk}/submit/")

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "submitted"
    detail = client.get(f"/loans/applications/{application.pk}/").content.decode()
    assert 'data-state="submitted"' in detail
    assert 'data-testid="submit-application"' not in detail
    assert 'data-testid="edit-application"' not in detail
    edit = client.get(f"/loans/applications/{application.pk}/edit/")
    assert edit.status_code == 302

    again = client.post(f"/loans/applications/{application.pk}/submit/", follow=True)
    assert application.number in again.content.decode()
    application.refresh_from_db()
    assert application.state == "submitted"


def test_submit_needs_post(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(people.am)

    assert client.get(f"/loans/applications/{application.pk}/submit/").status_code == 405
    application.refresh_from_db()
    assert application.state == "draft"


def test_withdraw_from_the_page(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(people.am)

    client.post(f"/loans/applications/{application.pk}/withdraw/", {"comment": ""})
    application.refresh_from_db()
    assert application.state == "draft"

    client.post(f"/loans/applications/{application.pk}/withdraw/", {"comment": "客户不再需要"})
    application.refresh_from_db()
    assert (application.state, application.decision_comment) == ("withdrawn", "客户不再需要")


def test_risk_officer_reads_but_does_not_submit(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(people.risk)

    detail = client.get(f"/loans/applications/{application.pk}/")

    assert detail.status_code == 200
    assert 'data-testid="submit-application"' not in detail.content.decode()
    assert client.post(f"/loans/applications/{application.pk}/submit/").status_code == 403
    application.refresh_from_db()
    assert application.state == "draft"


def test_detail_shows_history(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    loan_application_submit(application=application, actor=people.am)
    client.force_login(people.manager)
    client.cookies["django_language"] = "en"

    body = client.get(f"/loans/applications/{application.pk}/").content.decode()

    history = body.split('data-testid="history"')[1]
    assert history.index("Created") < history.index("Submitted")


# --- schedule preview partial ---------------------------------------------------------------------


def test_schedule_preview_partial(client, people):
    client.force_login(people.am)

    response = client.post(
        "/loans/schedule-preview/",
        {
            "amount": "120000",
            "term_months": "12",
            "annual_rate_percent": "6",
            "repayment_method": "equal_principal",
            "start_date": "2026-01-15",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.count("<tr>") == 13  # header + 12 installments
    assert "¥120,000.00" in body  # total principal
    assert "¥3,900.00" in body  # total interest: 600 + 550 + … + 50
    assert "2027-01-15" in body


def test_schedule_preview_explains_bad_input(client, people):
    client.force_login(people.am)

    response = client.get("/loans/schedule-preview/?amount=abc&term_months=12")

    assert response.status_code == 200
    assert 'data-testid="schedule-error"' in response.content.decode()


# --- list -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["am", "manager", "risk"])
def test_application_list_for_the_roles_that_hold_it(client, org, people, catalogue, who):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(getattr(people, who))

    response = client.get("/loans/applications/")

    assert response.status_code == 200
    assert application.number in response.content.decode()


def test_application_list_filters(client, org, people, catalogue):
    customer = make_customer(org, people.am, rating="good", name="赵大海")
    draft = apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    submitted = apply(people.am, customer, catalogue["merchant"], amount=D("30000"))
    loan_application_submit(application=submitted, actor=people.am)
    client.force_login(people.am)

    by_state = client.get("/loans/applications/?state=submitted").content.decode()
    by_product = client.get(f"/loans/applications/?product={catalogue[MICRO].pk}").content.decode()
    by_name = client.get("/loans/applications/?q=赵大").content.decode()

    assert submitted.number in by_state and draft.number not in by_state
    assert draft.number in by_product and submitted.number not in by_product
    assert draft.number in by_name and submitted.number in by_name


def test_application_list_query_budget(
    client, org, people, catalogue, django_assert_max_num_queries
):
    customers = [make_customer(org, people.am, rating="good") for _ in range(6)]
    for n in range(60):
        apply(people.am, customers[n % 6], catalogue[MICRO], amount=D("4000"))
    client.force_login(people.manager)

    with django_assert_max_num_queries(12):
        response = client.get("/loans/applications/")

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="application-row-') == 50
    second = client.get("/loans/applications/?page=2").content.decode()
    assert second.count('data-testid="application-row-') == 10


def test_detail_query_budget(client, org, people, catalogue, django_assert_max_num_queries):
    customer = make_customer(org, people.am, rating="good")
    application = apply(people.am, customer, catalogue["merchant"], amount=D("30000"))
    for _ in range(10):
        apply(people.am, customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(people.am)

    with django_assert_max_num_queries(16):
        response = client.get(f"/loans/applications/{application.pk}/")

    assert response.status_code == 200
