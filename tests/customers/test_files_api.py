"""Customer files API: list/create, detail/update, reveal — scoping, masking, errors, schema."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from coop.models import AuditEvent
from coop.roles import Role
from customers.models import Customer, PersonalDataAccess
from customers.validators import mask_id_number, mask_mobile
from tests.customers.test_files_factories import (
    add_segment,
    make_customer,
    new_credit_code,
    new_id_number,
)


@pytest.fixture
def api():
    client = APIClient()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def world(org, make_staff):
    am1 = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am1")
    am2 = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am2")
    am3 = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="am3")
    return {
        "am1": am1,
        "am2": am2,
        "am3": am3,
        "own": make_customer(am1, name="甲一"),
        "backed": make_customer(am2, kind="corporate", name="乙二公司", b_manager=am1),
        "colleague": make_customer(am2, name="丙三"),
        "other_branch": make_customer(am3, name="丁四"),
    }


def names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


# --- list ---------------------------------------------------------------------------------------


def test_list_is_scoped_paginated_and_masked(api, world, make_staff):
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = api.get("/api/v1/customers/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert names(response) == {"甲一", "乙二公司", "丙三"}
    row = next(r for r in body["results"] if r["name"] == "甲一")
    own = world["own"]
    assert row["id_number_masked"] == mask_id_number(own.id_number)
    assert row["mobile_masked"] == mask_mobile(own.mobile)
    assert row["owner"] == world["am1"].pk
    assert "id_number" not in row
    assert "mobile" not in row
    assert "birth_date" not in row
    assert own.id_number not in response.content.decode()
    assert own.mobile not in response.content.decode()


def test_an_account_manager_lists_own_and_b_role_customers(api, world):
    api.force_authenticate(world["am1"])

    assert names(api.get("/api/v1/customers/")) == {"甲一", "乙二公司"}


def test_list_filters_are_the_pages_filters(api, world, make_staff):
    add_segment(world["colleague"], code="young", name="青年")
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    assert names(api.get("/api/v1/customers/", {"kind": "corporate"})) == {"乙二公司"}
    assert names(api.get("/api/v1/customers/", {"q": "丙"})) == {"丙三"}
    segment = world["colleague"].memberships.get().segment_id
    assert names(api.get("/api/v1/customers/", {"segment": segment})) == {"丙三"}
    assert names(api.get("/api/v1/customers/", {"owner": world["am2"].pk})) == {"乙二公司", "丙三"}
    assert api.get("/api/v1/customers/", {"kind": "household"}).status_code == 400
    refused = api.get("/api/v1/customers/", {"q": world["own"].id_number})
    assert refused.status_code == 400
    assert refused.json() == {
        "q": ["To find a customer by ID number or mobile number, use the find box."]
    }


def test_list_needs_view_customer(api, make_staff):
    api.force_authenticate(make_staff(Role.SYSADMIN, unit="HQ"))

    assert api.get("/api/v1/customers/").status_code == 403


def test_api_list_query_count_does_not_grow_with_the_data(
    api, make_staff, django_assert_max_num_queries
):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    backup = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))
    for n in range(3):
        make_customer(manager, name=f"少{n}", b_manager=backup)
    with django_assert_max_num_queries(8) as few:
        assert api.get("/api/v1/customers/").status_code == 200

    for n in range(60):
        make_customer(manager, name=f"多{n}", b_manager=backup)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get("/api/v1/customers/")
    assert len(response.json()["results"]) == 50
    assert response.json()["count"] == 63


# --- create -------------------------------------------------------------------------------------


def test_create_an_individual(api, org, make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01-01")
    api.force_authenticate(manager)
    number = new_id_number(birth=date(1992, 2, 29), male=False)

    response = api.post(
        "/api/v1/customers/",
        {
            "kind": "individual",
            "name": "周小芳",
            "id_number": number,
            "mobile": "13700001111",
            "occupation": "merchant",
            "workplace": "home",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert body["id_number_masked"] == mask_id_number(number)
    assert body["mobile_masked"] == "137****1111"
    assert body["gender"] == "F"
    assert body["policy"] == []
    assert body["segments"] == []
    assert number not in response.content.decode()
    assert (customer.branch, customer.owner, customer.birth_date) == (
        org["B01"],
        manager,
        date(1992, 2, 29),
    )


def test_create_a_corporate(api, make_staff):
    api.force_authenticate(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))
    code = new_credit_code()

    response = api.post(
        "/api/v1/customers/",
        {
            "kind": "corporate",
            "name": "颍上县养殖合作社",
            "credit_code": code,
            "legal_representative": "孙大勇",
            "industry": "畜牧养殖",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["credit_code"] == code
    assert Customer.objects.get().legal_representative == "孙大勇"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"kind": "individual", "id_number": "110105194912310021"},
            {"id_number": ["The ID number's check character is wrong; please check every digit."]},
        ),
        (
            {"kind": "individual", "id_number": "11010519491231002X", "gender": "M"},
            {
                "gender": [
                    "The gender does not match the ID number (its 17th digit is odd for men "
                    "and even for women); please check both."
                ]
            },
        ),
        (
            {"kind": "individual", "id_number": "11010519491231002X", "birth_date": "1949-12-01"},
            {
                "birth_date": [
                    "The birth date does not match the one in the ID number; please check both."
                ]
            },
        ),
        (
            {"kind": "individual"},
            {"id_number": ["The ID number is required for an individual customer."]},
        ),
        (
            {"kind": "corporate", "credit_code": "91350100M000100Y44"},
            {
                "credit_code": [
                    "The credit code's check character is wrong; please check every character."
                ]
            },
        ),
        (
            {"kind": "corporate", "credit_code": "91350100I000100Y43"},
            {
                "credit_code": [
                    "A unified social credit code contains only digits and capital letters, "
                    "and never the letters I, O, Z, S or V."
                ]
            },
        ),
        (
            {"kind": "corporate", "credit_code": "91350100M000100Y43", "mobile": "23800001111"},
            {"mobile": ["A mobile number has 11 digits and starts with 13 to 19."]},
        ),
    ],
)
def test_create_with_invalid_input_is_400_with_the_named_field_error(api, make_staff, data, errors):
    api.force_authenticate(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))

    response = api.post("/api/v1/customers/", {"name": "某某", **data}, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert Customer.objects.count() == 0
    assert AuditEvent.objects.filter(action="customer.create").count() == 0


def test_create_duplicate_in_scope_names_the_existing_customer(api, world):
    api.force_authenticate(world["am1"])

    response = api.post(
        "/api/v1/customers/",
        {"kind": "individual", "name": "重复", "id_number": world["own"].id_number},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "id_number": [
            f"This ID number is already filed as 甲一, managed by {world['am1'].display_name}."
        ],
        "code": "duplicate",
        "existing_customer": world["own"].pk,
    }
    assert Customer.objects.filter(name="重复").count() == 0


def test_create_duplicate_out_of_scope_names_nobody(api, world):
    api.force_authenticate(world["am1"])

    response = api.post(
        "/api/v1/customers/",
        {"kind": "individual", "name": "重复", "id_number": world["other_branch"].id_number},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "id_number": ["This ID number is already filed at another branch."],
        "code": "duplicate",
    }


def test_create_refused_by_a_service_rule_is_400_on_the_field(api, world):
    api.force_authenticate(world["am1"])

    response = api.post(
        "/api/v1/customers/",
        {
            "kind": "individual",
            "name": "某某",
            "id_number": new_id_number(),
            "owner": world["am2"].pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "owner": ["You can only file customers that you manage yourself."],
        "code": "not_allowed",
    }
    assert Customer.objects.filter(name="某某").count() == 0


def test_create_needs_add_customer(api, make_staff):
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = api.post(
        "/api/v1/customers/",
        {"kind": "individual", "name": "某某", "id_number": new_id_number()},
        format="json",
    )

    assert response.status_code == 403
    assert Customer.objects.count() == 0


# --- detail and update --------------------------------------------------------------------------


def test_detail_has_policy_and_segments(api, world):
    Customer.objects.filter(pk=world["own"].pk).update(
        customer_class="strategic", customer_category="exit"
    )
    add_segment(world["own"], code="migrant", name="外出务工")
    api.force_authenticate(world["am1"])

    response = api.get(f"/api/v1/customers/{world['own'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["policy"] == ["Accelerate reduction and recover funds", "Name-list management"]
    assert [s["name"] for s in body["segments"]] == ["外出务工"]
    assert body["id_number_masked"] == mask_id_number(world["own"].id_number)


@pytest.mark.parametrize("which", ["other_branch", "colleague"])
def test_out_of_scope_is_404_for_detail_update_and_reveal(api, world, which):
    api.force_authenticate(world["am1"])
    customer = world[which]

    assert api.get(f"/api/v1/customers/{customer.pk}/").status_code == 404
    patched = api.patch(f"/api/v1/customers/{customer.pk}/", {"name": "改"}, format="json")
    assert patched.status_code == 404
    revealed = api.post(
        f"/api/v1/customers/{customer.pk}/reveal/", {"field": "id_number"}, format="json"
    )
    assert revealed.status_code == 404
    assert Customer.objects.get(pk=customer.pk).name == customer.name
    assert PersonalDataAccess.objects.count() == 0


def test_another_branch_is_404_even_with_the_full_data_permission(api, world, make_staff):
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))
    pk = world["other_branch"].pk

    assert api.get(f"/api/v1/customers/{pk}/").status_code == 404
    assert (
        api.post(f"/api/v1/customers/{pk}/reveal/", {"field": "mobile"}, format="json").status_code
        == 404
    )
    assert PersonalDataAccess.objects.count() == 0


def test_patch_updates_the_given_fields(api, world):
    api.force_authenticate(world["am1"])
    customer = world["backed"]

    response = api.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"finance_contact": "新会计", "mobile": ""},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["finance_contact"] == "新会计"
    assert response.json()["mobile_masked"] == ""
    customer.refresh_from_db()
    assert (customer.finance_contact, customer.mobile, customer.name) == ("新会计", "", "乙二公司")
    assert AuditEvent.objects.get(action="customer.update").data == {
        "fields": ["finance_contact", "mobile"]
    }


def test_patch_with_a_bad_id_number_is_400_and_changes_nothing(api, world):
    api.force_authenticate(world["am1"])
    customer = world["own"]

    response = api.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"name": "改名", "id_number": "110105194912310021"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["id_number"]
    assert Customer.objects.get(pk=customer.pk).name == "甲一"


def test_patch_needs_change_customer(api, world, make_staff):
    api.force_authenticate(make_staff(Role.TELLER, unit="B01-01"))

    response = api.patch(f"/api/v1/customers/{world['own'].pk}/", {"name": "改"}, format="json")

    assert response.status_code == 403
    assert Customer.objects.get(pk=world["own"].pk).name == "甲一"


# --- reveal -------------------------------------------------------------------------------------


def test_reveal_with_the_permission_returns_the_number_and_logs_it(api, world, make_staff):
    risk = make_staff(Role.RISK_OFFICER, unit="HQ")
    api.force_authenticate(risk)
    customer = world["other_branch"]

    response = api.post(
        f"/api/v1/customers/{customer.pk}/reveal/", {"field": "id_number"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"value": customer.id_number}
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.customer, access.field, access.channel) == (
        risk,
        customer,
        "id_number",
        "api",
    )


def test_reveal_without_the_permission_is_403_and_logs_nothing(api, world):
    api.force_authenticate(world["am1"])

    response = api.post(
        f"/api/v1/customers/{world['own'].pk}/reveal/", {"field": "mobile"}, format="json"
    )

    assert response.status_code == 403
    assert world["own"].mobile not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_of_an_unknown_field_is_400(api, world, make_staff):
    api.force_authenticate(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = api.post(
        f"/api/v1/customers/{world['own'].pk}/reveal/", {"field": "name"}, format="json"
    )

    assert response.status_code == 400
    assert "field" in response.json()
    assert PersonalDataAccess.objects.count() == 0


# --- schema -------------------------------------------------------------------------------------


def test_schema_documents_the_endpoints_and_their_errors(client, make_staff):
    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    expected = {
        ("/api/v1/customers/", "get"),
        ("/api/v1/customers/", "post"),
        ("/api/v1/customers/{id}/", "get"),
        ("/api/v1/customers/{id}/", "patch"),
        ("/api/v1/customers/{id}/reveal/", "post"),
    }
    for url, method in expected:
        assert {"400", "403", "404"} <= set(paths[url][method]["responses"]), (url, method)
    list_parameters = {p["name"] for p in paths["/api/v1/customers/"]["get"]["parameters"]}
    assert {"q", "kind", "customer_class", "segment", "owner", "limit", "offset"} <= list_parameters
    output = schema["components"]["schemas"]["CustomerOutput"]["properties"]
    assert {"id_number_masked", "mobile_masked"} <= set(output)
    assert "id_number" not in output
    assert "mobile" not in output
