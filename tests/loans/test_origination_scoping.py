"""Scoping: another branch's (or another account manager's) customers and applications answer 404
in pages and API, and never appear in lists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from loans.models import LoanApplication
from tests.loans import test_origination_support as support
from tests.loans.test_origination_support import apply, make_customer

D = Decimal

# Shared fixtures, bound here so pytest finds them in this module.
catalogue = support.catalogue
origination_roles = support.origination_roles
people = support.people
MICRO = "farmer-microcredit"


@pytest.fixture
def world(org, people, catalogue):
    """One application in branch B01 (owned by ``am``) and one in B02 (owned by ``other_am``)."""
    mine = make_customer(org, people.am, rating="good", name="本行客户")
    theirs = make_customer(org, people.other_am, rating="good", branch="B02", name="外行客户")
    return {
        "mine": mine,
        "theirs": theirs,
        "my_app": apply(people.am, mine, catalogue[MICRO], amount=D("4000")),
        "their_app": apply(people.other_am, theirs, catalogue[MICRO], amount=D("4200")),
    }


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize(
    "url",
    [
        "/loans/applications/{their_app}/",
        "/loans/applications/{their_app}/edit/",
        "/loans/applications/new/?customer={theirs}",
        "/loans/applications/new/?customer={theirs}&product={product}",
    ],
)
def test_pages_answer_404_for_another_branch(client, people, catalogue, world, url):
    client.force_login(people.am)

    response = client.get(
        url.format(
            their_app=world["their_app"].pk,
            theirs=world["theirs"].pk,
            product=catalogue[MICRO].pk,
        )
    )

    assert response.status_code == 404
    assert "外行客户" not in response.content.decode()


@pytest.mark.parametrize("action", ["submit", "withdraw"])
def test_posts_answer_404_for_another_branch_and_change_nothing(client, people, world, action):
    client.force_login(people.am)

    response = client.post(
        f"/loans/applications/{world['their_app'].pk}/{action}/", {"comment": "x"}
    )

    assert response.status_code == 404
    world["their_app"].refresh_from_db()
    assert world["their_app"].state == "draft"


def test_posting_a_new_application_for_another_branchs_customer_is_404(
    client, people, catalogue, world
):
    client.force_login(people.am)

    response = client.post(
        f"/loans/applications/new/?customer={world['theirs'].pk}&product={catalogue[MICRO].pk}",
        {
            "amount": "4000",
            "term_months": "12",
            "annual_rate_percent": "5",
            "repayment_method": "equal_installment",
            "purpose": "x",
        },
    )

    assert response.status_code == 404
    assert LoanApplication.objects.count() == 2


def test_lists_hold_only_what_is_in_scope(client, people, world):
    client.force_login(people.manager)  # branch manager of B01
    page = client.get("/loans/applications/").content.decode()
    step_one = client.get("/loans/applications/new/")  # managers do not start applications

    assert world["my_app"].number in page
    assert world["their_app"].number not in page
    assert step_one.status_code == 403

    client.force_login(people.am)
    customers = client.get("/loans/applications/new/").content.decode()
    assert "本行客户" in customers
    assert "外行客户" not in customers


def test_a_colleagues_customers_stay_out_of_an_account_managers_view(
    client, org, people, catalogue, world
):
    colleague_customer = make_customer(org, people.am2, rating="good", name="同事客户")
    colleague_app = apply(people.am2, colleague_customer, catalogue[MICRO], amount=D("4000"))
    client.force_login(people.am)

    page = client.get("/loans/applications/").content.decode()

    assert colleague_app.number not in page
    assert client.get(f"/loans/applications/{colleague_app.pk}/").status_code == 404


def test_head_office_sees_every_branch(client, people, world):
    client.force_login(people.director)

    page = client.get("/loans/applications/").content.decode()

    assert world["my_app"].number in page
    assert world["their_app"].number in page


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/loan-applications/{their_app}/"),
        ("patch", "/api/v1/loan-applications/{their_app}/"),
        ("post", "/api/v1/loan-applications/{their_app}/submit/"),
        ("get", "/api/v1/products/eligible/?customer={theirs}"),
    ],
)
def test_api_answers_404_for_another_branch(people, world, method, url):
    api = api_for(people.am)

    response = getattr(api, method)(
        url.format(their_app=world["their_app"].pk, theirs=world["theirs"].pk),
        {"amount": "4100.00"} if method == "patch" else None,
        format="json",
    )

    assert response.status_code == 404
    world["their_app"].refresh_from_db()
    assert (world["their_app"].state, world["their_app"].amount) == ("draft", D("4200.00"))


def test_api_list_holds_only_what_is_in_scope(people, world):
    for user, expected in (
        (people.am, [world["my_app"].number]),
        (people.manager, [world["my_app"].number]),
        (people.other_manager, [world["their_app"].number]),
    ):
        response = api_for(user).get("/api/v1/loan-applications/")
        assert [row["number"] for row in response.json()["results"]] == expected
    filtered = api_for(people.am).get(f"/api/v1/loan-applications/?customer={world['theirs'].pk}")
    assert filtered.json()["results"] == []


def test_api_create_for_another_branchs_customer_reads_as_no_such_customer(
    people, catalogue, world
):
    body = {
        "product": catalogue[MICRO].pk,
        "amount": "4000",
        "term_months": 12,
        "annual_rate": "0.05",
        "repayment_method": "equal_installment",
        "purpose": "x",
    }
    api = api_for(people.am)

    theirs = api.post("/api/v1/loan-applications/", {**body, "customer": world["theirs"].pk})
    missing = api.post("/api/v1/loan-applications/", {**body, "customer": 99999999})

    assert theirs.status_code == missing.status_code == 400
    assert list(theirs.json()) == list(missing.json()) == ["customer"]
    assert theirs.json()["customer"][0].replace(str(world["theirs"].pk), "N") == missing.json()[
        "customer"
    ][0].replace("99999999", "N")
    assert LoanApplication.objects.count() == 2
