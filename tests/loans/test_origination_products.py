"""The product catalogue: the seeded products, tier eligibility and limits, the catalogue
service, the product pages and the product API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from rest_framework.test import APIClient

from coop.models import AuditEvent
from coop.services import DomainError
from loans.demo_origination import PRODUCTS, seed_products
from loans.models import Product, ProductTier
from loans.selectors_origination import eligible_products
from loans.services.origination import product_check_amount, product_create, product_update
from tests.loans import test_origination_support as support
from tests.loans.test_origination_support import make_customer

D = Decimal

# Shared fixtures, bound here so pytest finds them in this module.
catalogue = support.catalogue
origination_roles = support.origination_roles
people = support.people
MICRO = "farmer-microcredit"


def eligible(customer) -> dict[str, tuple[Decimal, Decimal]]:
    return {p.code: (low, high) for p, low, high in eligible_products(customer)}


def product_data(**overrides) -> dict:
    data = {
        "code": "test-credit",
        "name": "测试信用贷",
        "kind": "credit",
        "customer_kind": "individual",
        "min_amount": D("1000.00"),
        "max_amount": D("50000.00"),
        "min_term_months": 3,
        "max_term_months": 24,
        "min_rate": D("0.0435"),
        "max_rate": D("0.0800"),
        "repayment_methods": ["equal_installment", "bullet"],
        "security": "none",
        "eligible_ratings": [],
        "default_route": "low",
        "is_active": True,
    }
    data.update(overrides)
    return data


# --- the seeded catalogue -------------------------------------------------------------------------


def test_seed_creates_the_catalogue_once(db):
    first = seed_products()
    second = seed_products()

    assert set(first) == {spec["code"] for spec in PRODUCTS}
    assert {p.pk for p in first.values()} == {p.pk for p in second.values()}
    assert Product.objects.count() == len(PRODUCTS) == 10
    micro = first[MICRO]
    assert [(t.rating, t.min_amount, t.max_amount) for t in micro.tiers.all()] == [
        ("general", D("500.00"), D("3000.00")),
        ("good", D("3001.00"), D("5000.00")),
        ("excellent", D("5001.00"), D("10000.00")),
    ]
    revolving = first["guaranteed-revolving"]
    assert (revolving.revolving, revolving.revolving_years, revolving.security) == (
        True,
        2,
        "max_amount_guarantee",
    )
    assert (revolving.min_amount, revolving.max_amount) == (D("10000.00"), D("100000.00"))
    farming = first["large-scale-farming"]
    assert (farming.min_amount, farming.max_amount, farming.security) == (
        D("100000.00"),
        D("1000000.00"),
        "guarantee_company",
    )
    assert first["small-enterprise"].customer_kind == "corporate"
    assert {first["white-collar"].name, first["women-entrepreneur"].name} == {"白领贷", "巾帼贷"}


def test_seed_keeps_head_office_edits(db):
    products = seed_products()
    Product.objects.filter(pk=products["car-loan"].pk).update(max_amount=D("400000.00"))

    seed_products()

    assert Product.objects.get(code="car-loan").max_amount == D("400000.00")


# --- tier eligibility and limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "limits"),
    [
        ("general", (D("500.00"), D("3000.00"))),
        ("good", (D("3001.00"), D("5000.00"))),
        ("excellent", (D("5001.00"), D("10000.00"))),
    ],
)
def test_microcredit_limit_follows_the_customers_rating(org, people, catalogue, rating, limits):
    customer = make_customer(org, people.am, rating=rating)

    assert eligible(customer)[MICRO] == limits


@pytest.mark.parametrize(
    ("rating", "amount", "allowed"),
    [
        ("general", "3000.00", True),
        ("general", "3001.00", False),
        ("good", "3000.00", False),
        ("good", "3001.00", True),
        ("good", "5000.00", True),
        ("good", "5001.00", False),
        ("excellent", "5000.00", False),
        ("excellent", "5001.00", True),
        ("excellent", "10000.00", True),
        ("excellent", "10000.01", False),
    ],
)
def test_tier_boundaries(org, people, catalogue, rating, amount, allowed):
    customer = make_customer(org, people.am, rating=rating)
    product = catalogue[MICRO]

    if allowed:
        product_check_amount(product=product, customer=customer, amount=D(amount))
    else:
        with pytest.raises(DomainError) as caught:
            product_check_amount(product=product, customer=customer, amount=D(amount))
        assert caught.value.field == "amount"


def test_the_refusal_names_the_tiers_limit(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    with translation.override("en"), pytest.raises(DomainError) as caught:
        product_check_amount(product=catalogue[MICRO], customer=customer, amount=D("6000"))

    assert caught.value.message == (
        "The 'good' tier of 农户小额信用贷款 allows ¥3,001.00 to ¥5,000.00."
    )
    assert caught.value.field == "amount"


def test_an_untiered_product_names_its_own_range(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")

    with translation.override("en"), pytest.raises(DomainError) as caught:
        product_check_amount(
            product=catalogue["merchant"], customer=customer, amount=D("500000.01")
        )

    assert caught.value.message == "商户贷款 allows ¥20,000.00 to ¥500,000.00."


def test_ineligible_rating_hides_the_product_and_refuses_it(org, people, catalogue):
    # The women's loan is for good and excellent ratings only.
    general = make_customer(org, people.am, rating="general")
    good = make_customer(org, people.am, rating="good")

    assert "women-entrepreneur" not in eligible(general)
    assert eligible(good)["women-entrepreneur"] == (D("10000.00"), D("200000.00"))
    with pytest.raises(DomainError) as caught:
        product_check_amount(
            product=catalogue["women-entrepreneur"], customer=general, amount=D("20000")
        )
    assert caught.value.field == "product"


def test_unrated_customer_sees_only_products_without_rating_rules(org, people, catalogue):
    unrated = make_customer(org, people.am, rating="")

    codes = set(eligible(unrated))

    assert MICRO not in codes
    assert "women-entrepreneur" not in codes
    assert {"merchant", "golden-home", "white-collar"} <= codes


def test_corporates_and_individuals_see_their_own_products(org, people, catalogue):
    person = make_customer(org, people.am, rating="excellent")
    company = make_customer(org, people.am, rating="", kind="corporate")

    assert eligible(company) == {"small-enterprise": (D("100000.00"), D("5000000.00"))}
    assert "small-enterprise" not in eligible(person)
    assert MICRO in eligible(person)


def test_inactive_product_is_hidden(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    product_update(actor=people.director, product=catalogue[MICRO], data={"is_active": False})

    assert MICRO not in eligible(customer)
    with pytest.raises(DomainError) as caught:
        product_check_amount(product=catalogue[MICRO], customer=customer, amount=D("4000"))
    assert caught.value.field == "product"


def test_eligible_products_takes_two_queries(org, people, catalogue, django_assert_num_queries):
    customer = make_customer(org, people.am, rating="good")

    with django_assert_num_queries(2):
        result = eligible_products(customer)

    assert len(result) == 9


# --- the catalogue service ------------------------------------------------------------------------


def test_product_create_with_tiers_writes_an_audit_row(people):
    product = product_create(
        actor=people.director,
        data=product_data(eligible_ratings=["good", "excellent"]),
        tiers=[
            {"rating": "excellent", "min_amount": D("20001"), "max_amount": D("50000")},
            {"rating": "good", "min_amount": D("1000"), "max_amount": D("20000")},
        ],
    )

    assert [(t.rating, t.max_amount) for t in product.tiers.all()] == [
        ("good", D("20000.00")),
        ("excellent", D("50000.00")),
    ]
    event = AuditEvent.objects.get(object_type="loans.product", object_id=str(product.pk))
    assert (event.action, event.actor) == ("product.create", people.director)
    assert event.data["tiers"][0] == {
        "rating": "good",
        "min_amount": "1000.00",
        "max_amount": "20000.00",
    }


@pytest.mark.parametrize(
    ("overrides", "tiers", "field"),
    [
        ({"code": "has space"}, [], "code"),
        ({"name": "  "}, [], "name"),
        ({"max_amount": D("999")}, [], "max_amount"),
        ({"min_amount": D("0")}, [], "min_amount"),
        ({"max_term_months": 2}, [], "max_term_months"),
        ({"max_term_months": 361}, [], "max_term_months"),
        ({"max_rate": D("0.04")}, [], "max_rate"),
        ({"max_rate": D("1.5")}, [], "max_rate"),
        ({"repayment_methods": []}, [], "repayment_methods"),
        ({"repayment_methods": ["weekly"]}, [], "repayment_methods"),
        ({"security": "collateral"}, [], "security"),
        ({"revolving": True, "revolving_years": 0}, [], "revolving_years"),
        (
            {},
            [{"rating": "good", "min_amount": D("1000"), "max_amount": D("2000")}],
            "eligible_ratings",
        ),
        (
            {"eligible_ratings": ["good"]},
            [{"rating": "good", "min_amount": D("1000"), "max_amount": D("60000")}],
            "tiers",
        ),
        (
            {"eligible_ratings": ["good"]},
            [{"rating": "excellent", "min_amount": D("1000"), "max_amount": D("2000")}],
            "tiers",
        ),
        (
            {"eligible_ratings": ["good"]},
            [
                {"rating": "good", "min_amount": D("1000"), "max_amount": D("2000")},
                {"rating": "good", "min_amount": D("3000"), "max_amount": D("4000")},
            ],
            "tiers",
        ),
    ],
)
def test_product_create_refuses_bad_input_and_changes_nothing(people, overrides, tiers, field):
    with pytest.raises(DomainError) as caught:
        product_create(actor=people.director, data=product_data(**overrides), tiers=tiers)

    assert caught.value.field == field
    assert Product.objects.count() == 0
    assert ProductTier.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="loans.product").count() == 0


def test_product_code_is_unique(people, catalogue):
    with pytest.raises(DomainError) as caught:
        product_create(actor=people.director, data=product_data(code=MICRO))

    assert caught.value.field == "code"
    assert Product.objects.count() == 10


def test_only_catalogue_editors_change_products(people, catalogue):
    with pytest.raises(PermissionDenied):
        product_create(actor=people.am, data=product_data())
    with pytest.raises(PermissionDenied):
        product_update(actor=people.manager, product=catalogue[MICRO], data={"name": "x"})

    assert Product.objects.get(code=MICRO).name == "农户小额信用贷款"


def test_product_update_changes_fields_and_tiers_and_audits_both(people, catalogue):
    product = catalogue[MICRO]

    product_update(
        actor=people.director,
        product=product,
        data={"max_rate": D("0.0900")},
        tiers=[
            {"rating": "general", "min_amount": D("500"), "max_amount": D("4000")},
            {"rating": "good", "min_amount": D("4001"), "max_amount": D("6000")},
            {"rating": "excellent", "min_amount": D("6001"), "max_amount": D("10000")},
        ],
    )

    product.refresh_from_db()
    assert product.max_rate == D("0.090000")
    assert [t.max_amount for t in product.tiers.all()] == [
        D("4000.00"),
        D("6000.00"),
        D("10000.00"),
    ]
    event = AuditEvent.objects.get(action="product.update", object_id=str(product.pk))
    assert event.data["changed"] == {"max_rate": ["0.085000", "0.0900"]}
    assert event.data["tiers"][1][0] == {
        "rating": "general",
        "min_amount": "500.00",
        "max_amount": "4000.00",
    }


def test_product_update_without_a_change_writes_nothing(people, catalogue):
    product_update(
        actor=people.director, product=catalogue[MICRO], data={"name": "农户小额信用贷款"}
    )

    assert AuditEvent.objects.filter(action="product.update").count() == 0


def test_product_update_refusal_changes_nothing(people, catalogue):
    product = catalogue[MICRO]

    with pytest.raises(DomainError) as caught:
        product_update(
            actor=people.director,
            product=product,
            data={"max_amount": D("8000")},  # the excellent tier reaches 10,000
        )

    assert caught.value.field == "tiers"
    product.refresh_from_db()
    assert product.max_amount == D("10000.00")
    assert product.tiers.count() == 3
    assert AuditEvent.objects.filter(action="product.update").count() == 0


# --- product pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["am", "director"])
def test_products_page_for_account_managers_and_management(client, people, catalogue, who):
    client.force_login(getattr(people, who))

    response = client.get("/loans/products/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "农户小额信用贷款" in body
    assert "4.35% – 8.50%" in body
    tiers = body.split('data-testid="tiers-farmer-microcredit"')[1].split("</table>")[0]
    assert '¥3,001.00</td><td class="amount">¥5,000.00' in tiers


def test_inactive_products_are_listed_for_editors_only(client, people, catalogue):
    product_update(actor=people.director, product=catalogue["car-loan"], data={"is_active": False})

    client.force_login(people.am)
    assert 'data-testid="product-car-loan"' not in client.get("/loans/products/").content.decode()
    client.force_login(people.director)
    assert 'data-testid="product-car-loan"' in client.get("/loans/products/").content.decode()


def test_products_page_query_budget(client, people, catalogue, django_assert_max_num_queries):
    for n in range(30):
        product_create(actor=people.director, data=product_data(code=f"extra-{n}"))
    client.force_login(people.director)

    with django_assert_max_num_queries(12):
        response = client.get("/loans/products/")

    assert response.status_code == 200
    assert response.content.decode().count('class="card h-100 product-card"') == 40


def test_teller_cannot_open_products(client, people, catalogue):
    client.force_login(people.teller)

    assert client.get("/loans/products/").status_code == 403


def test_product_form_pages_for_management_only(client, people, catalogue):
    client.force_login(people.am)
    assert client.get("/loans/products/new/").status_code == 403
    assert client.get(f"/loans/products/{catalogue[MICRO].pk}/edit/").status_code == 403

    client.force_login(people.director)
    assert client.get("/loans/products/new/").status_code == 200
    assert client.get(f"/loans/products/{catalogue[MICRO].pk}/edit/").status_code == 200


def _form_post(**overrides) -> dict:
    data = {
        "code": "spring-plough",
        "name": "春耕贷",
        "name_en": "Spring ploughing loan",
        "description": "",
        "kind": "credit",
        "customer_kind": "individual",
        "min_amount": "1000",
        "max_amount": "20000",
        "min_term_months": "3",
        "max_term_months": "12",
        "min_rate_percent": "4.35",
        "max_rate_percent": "7.2",
        "repayment_methods": ["equal_installment", "bullet"],
        "security": "none",
        "eligible_ratings": ["good", "excellent"],
        "revolving_years": "0",
        "default_route": "low",
        "is_active": "on",
        "sort_order": "15",
        "tiers-TOTAL_FORMS": "3",
        "tiers-INITIAL_FORMS": "3",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
        "tiers-0-rating": "general",
        "tiers-0-min_amount": "",
        "tiers-0-max_amount": "",
        "tiers-1-rating": "good",
        "tiers-1-min_amount": "1000",
        "tiers-1-max_amount": "10000",
        "tiers-2-rating": "excellent",
        "tiers-2-min_amount": "10000.01",
        "tiers-2-max_amount": "20000",
    }
    data.update(overrides)
    return data


def test_product_form_creates_a_tiered_product(client, people):
    client.force_login(people.director)

    response = client.post("/loans/products/new/", _form_post())

    assert response.status_code == 302
    product = Product.objects.get(code="spring-plough")
    assert (product.min_rate, product.max_rate) == (D("0.043500"), D("0.072000"))
    assert product.repayment_methods == ["equal_installment", "bullet"]
    assert product.eligible_ratings == ["good", "excellent"]
    assert [(t.rating, t.min_amount, t.max_amount) for t in product.tiers.all()] == [
        ("good", D("1000.00"), D("10000.00")),
        ("excellent", D("10000.01"), D("20000.00")),
    ]


def test_product_form_shows_the_services_error_and_creates_nothing(client, people):
    client.force_login(people.director)

    response = client.post("/loans/products/new/", _form_post(**{"tiers-2-max_amount": "25000"}))

    assert response.status_code == 200
    assert 'data-testid="error-tiers"' in response.content.decode()
    assert Product.objects.count() == 0


def test_product_edit_keeps_the_code(client, people, catalogue):
    product = catalogue["white-collar"]
    client.force_login(people.director)

    response = client.post(
        f"/loans/products/{product.pk}/edit/",
        _form_post(
            code="renamed",
            name="白领贷（新）",
            min_amount="10000",
            max_amount="300000",
            eligible_ratings=[],
            **{"tiers-1-min_amount": "", "tiers-1-max_amount": ""},
            **{"tiers-2-min_amount": "", "tiers-2-max_amount": ""},
        ),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.code, product.name, product.max_term_months) == (
        "white-collar",
        "白领贷（新）",
        12,
    )
    assert product.tiers.count() == 0


# --- product API ----------------------------------------------------------------------------------


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_lists_products_with_tiers(people, catalogue, django_assert_max_num_queries):
    api = api_for(people.am)

    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/products/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 10
    micro = next(p for p in body["results"] if p["code"] == MICRO)
    assert micro["min_rate"] == "0.043500"
    assert micro["tiers"][1] == {"rating": "good", "min_amount": "3001.00", "max_amount": "5000.00"}


def test_api_product_detail_and_404(people, catalogue):
    api = api_for(people.am)
    product_update(actor=people.director, product=catalogue["car-loan"], data={"is_active": False})

    assert api.get(f"/api/v1/products/{catalogue[MICRO].pk}/").json()["code"] == MICRO
    assert api.get(f"/api/v1/products/{catalogue['car-loan'].pk}/").status_code == 404
    assert api.get("/api/v1/products/999999/").status_code == 404


def test_api_eligible_products_for_a_customer(org, people, catalogue):
    customer = make_customer(org, people.am, rating="good")
    stranger = make_customer(org, people.other_am, rating="good", branch="B02")
    api = api_for(people.am)

    response = api.get(f"/api/v1/products/eligible/?customer={customer.pk}")

    assert response.status_code == 200
    micro = next(row for row in response.json() if row["product"]["code"] == MICRO)
    assert (micro["min_amount"], micro["max_amount"]) == ("3001.00", "5000.00")
    assert api.get(f"/api/v1/products/eligible/?customer={stranger.pk}").status_code == 404


def test_api_creates_and_patches_products_for_management_only(people, catalogue):
    payload = {
        **{k: str(v) if isinstance(v, Decimal) else v for k, v in product_data().items()},
        "tiers": [],
    }
    assert api_for(people.am).post("/api/v1/products/", payload, format="json").status_code == 403

    created = api_for(people.director).post("/api/v1/products/", payload, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]

    patched = api_for(people.director).patch(
        f"/api/v1/products/{pk}/", {"max_amount": "60000.00", "code": "ignored"}, format="json"
    )
    assert patched.status_code == 200
    assert (patched.json()["max_amount"], patched.json()["code"]) == ("60000.00", "test-credit")
    assert (
        api_for(people.am)
        .patch(f"/api/v1/products/{pk}/", {"name": "x"}, format="json")
        .status_code
        == 403
    )


def test_api_product_validation_names_the_field(people):
    payload = {k: str(v) if isinstance(v, Decimal) else v for k, v in product_data().items()}
    payload["max_amount"] = "10.00"

    api = api_for(people.director)
    api.cookies["django_language"] = "en"  # the message is checked in English
    response = api.post("/api/v1/products/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["max_amount"] == ["The maximum amount must not be below the minimum."]
    assert Product.objects.count() == 0
