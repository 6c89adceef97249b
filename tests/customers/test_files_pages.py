"""Customer file pages: list, find, export, 360 page, create, edit, reveal — scoping, masking,
query budgets."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from coop.models import AuditEvent
from coop.roles import Role
from customers.models import (
    Customer,
    GradeChange,
    OwnershipTransfer,
    PersonalDataAccess,
    ServiceInteraction,
)
from customers.validators import mask_id_number, mask_mobile
from tests.customers.test_files_factories import (
    add_complaint,
    add_segment,
    add_visit,
    links_in,
    make_customer,
    new_credit_code,
    new_id_number,
    new_mobile,
)


@pytest.fixture
def client(client):
    # Assertions read the English msgids; Chinese is covered by the browser test.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def world(org, make_staff):
    """Two account managers in B01 and one in B02, each with customers."""
    am1 = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am1")
    am2 = make_staff(Role.ACCOUNT_MANAGER, unit="B01-01", username="am2")
    am3 = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="am3")
    return {
        "am1": am1,
        "am2": am2,
        "am3": am3,
        "own": make_customer(am1, name="甲一"),
        "backed": make_customer(am2, name="乙二", b_manager=am1),
        "colleague": make_customer(am2, kind="corporate", name="丙三公司"),
        "other_branch": make_customer(am3, name="丁四"),
    }


def body_of(response) -> str:
    return response.content.decode()


def listed_names(response) -> set[str]:
    return {customer.name for customer, _id, _mobile in response.context["rows"]}


# --- list ---------------------------------------------------------------------------------------


def test_an_account_manager_lists_own_and_b_role_customers_only(client, world):
    client.force_login(world["am1"])

    response = client.get("/customers/")

    assert response.status_code == 200
    assert listed_names(response) == {"甲一", "乙二"}


def test_a_branch_manager_lists_the_branch_and_head_office_the_bank(client, world, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))
    assert listed_names(client.get("/customers/")) == {"甲一", "乙二", "丙三公司"}

    client.force_login(make_staff(Role.MANAGEMENT, unit="HQ"))
    assert listed_names(client.get("/customers/")) == {"甲一", "乙二", "丙三公司", "丁四"}


def test_list_filters(client, world, make_staff):
    Customer.objects.filter(pk=world["backed"].pk).update(
        customer_class="strategic", customer_category="key", industry_category="key"
    )
    add_segment(world["own"], code="young", name="青年客户")
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    def names(**params):
        return listed_names(client.get("/customers/", params))

    assert names(q="一") == {"甲一"}
    assert names(kind="corporate") == {"丙三公司"}
    assert names(customer_class="strategic") == {"乙二"}
    assert names(customer_category="key") == {"乙二"}
    assert names(industry_category="key") == {"乙二"}
    segment_id = world["own"].memberships.get().segment_id
    assert names(segment=segment_id) == {"甲一"}
    assert names(owner=world["am2"].pk) == {"乙二", "丙三公司"}
    assert names(owner=world["am1"].pk) == {"甲一", "乙二"}  # owned or backed up


def test_owner_filter_is_only_for_branch_wide_roles(client, world):
    client.force_login(world["am1"])

    response = client.get("/customers/", {"owner": world["am2"].pk})

    assert "owner" not in response.context["form"].fields
    assert listed_names(response) == {"甲一", "乙二"}


def test_a_number_typed_into_the_name_filter_is_dropped_from_the_url(client, world):
    client.force_login(world["am1"])

    response = client.get("/customers/", {"q": world["own"].id_number, "kind": "individual"})

    assert response.status_code == 302
    assert response["Location"] == "/customers/?kind=individual"


def test_list_masks_numbers_and_links_carry_none(client, world, make_staff):
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")  # may see full numbers, still masked here
    client.force_login(boss)

    html = body_of(client.get("/customers/"))

    for customer in (world["own"], world["backed"]):
        assert mask_id_number(customer.id_number) in html
        assert customer.id_number not in html
        assert mask_mobile(customer.mobile) in html
        assert customer.mobile not in html
    assert world["colleague"].credit_code in html  # a company's code is public
    for url in links_in(html):
        for customer in (world["own"], world["backed"]):
            assert customer.id_number not in url
            assert customer.mobile not in url


def test_list_paginates_50_per_page(client, make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    for n in range(55):
        make_customer(manager, name=f"客户{n:03d}")
    client.force_login(manager)

    first = client.get("/customers/")
    second = client.get("/customers/", {"page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 5
    assert first.context["page_obj"].paginator.count == 55


def test_list_page_query_count_does_not_grow_with_the_data(
    client, make_staff, django_assert_max_num_queries
):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    backup = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")
    for n in range(3):
        make_customer(manager, name=f"少{n}", b_manager=backup)
    client.force_login(boss)
    with django_assert_max_num_queries(12) as few:
        assert client.get("/customers/").status_code == 200

    for n in range(60):
        make_customer(manager, name=f"多{n}", b_manager=backup)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/customers/").status_code == 200


def test_roles_without_view_customer_get_403(client, world, make_staff):
    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))

    assert client.get("/customers/").status_code == 403
    assert client.get(f"/customers/{world['own'].pk}/").status_code == 403


# --- find by number -----------------------------------------------------------------------------


def test_find_by_id_number_opens_the_customer(client, world):
    client.force_login(world["am1"])

    response = client.post("/customers/find/", {"number": world["own"].id_number.lower()})

    assert response.status_code == 302
    assert response["Location"] == f"/customers/{world['own'].pk}/"


def test_find_by_credit_code_and_by_mobile(client, world, make_staff):
    client.force_login(make_staff(Role.TELLER, unit="B01-02"))

    by_code = client.post("/customers/find/", {"number": world["colleague"].credit_code})
    by_mobile = client.post("/customers/find/", {"number": f"+86 {world['backed'].mobile}"})

    assert by_code["Location"] == f"/customers/{world['colleague'].pk}/"
    assert by_mobile["Location"] == f"/customers/{world['backed'].pk}/"


def test_find_out_of_scope_answers_not_found(client, world):
    client.force_login(world["am1"])

    response = client.post(
        "/customers/find/", {"number": world["other_branch"].id_number}, follow=True
    )

    assert response.redirect_chain == [("/customers/", 302)]
    assert "No customer with this number in your scope." in body_of(response)
    assert "丁四" not in body_of(response)


def test_find_lists_every_customer_sharing_a_mobile(client, world):
    shared = world["own"].mobile
    Customer.objects.filter(pk=world["backed"].pk).update(mobile=shared)
    client.force_login(world["am1"])

    response = client.post("/customers/find/", {"number": shared})

    assert response.status_code == 200
    assert listed_names(response) == {"甲一", "乙二"}
    assert shared not in body_of(response)


def test_find_is_post_only(client, world):
    client.force_login(world["am1"])

    assert client.get("/customers/find/", {"number": "1"}).status_code == 405


# --- export -------------------------------------------------------------------------------------


def export_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_is_scoped_filtered_and_masked(client, world, make_staff):
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")
    client.force_login(boss)

    response = client.get("/customers/export.csv", {"kind": "individual"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="customers.csv"'
    header, *rows = export_rows(response)
    assert header[:5] == [
        "Customer number",
        "Name",
        "Customer type",
        "ID number / credit code",
        "Mobile number",
    ]
    by_name = {row[1]: row for row in rows}
    assert set(by_name) == {"甲一", "乙二"}
    own = world["own"]
    assert by_name["甲一"][0] == str(own.pk)
    assert by_name["甲一"][3] == mask_id_number(own.id_number)
    assert by_name["甲一"][4] == mask_mobile(own.mobile)
    assert PersonalDataAccess.objects.count() == 0


def test_export_for_an_account_manager_has_their_customers_only(client, world):
    client.force_login(world["am1"])

    _header, *rows = export_rows(client.get("/customers/export.csv"))

    assert {row[1] for row in rows} == {"甲一", "乙二"}
    assert all(world["own"].id_number not in cell for row in rows for cell in row)


def test_export_needs_the_export_permission(client, world, make_staff):
    client.force_login(make_staff(Role.TELLER, unit="B01-01"))

    assert client.get("/customers/export.csv").status_code == 403


def test_export_query_count_does_not_grow_with_the_data(
    client, make_staff, django_assert_max_num_queries
):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    for n in range(3):
        make_customer(manager, name=f"少{n}")
    client.force_login(manager)
    with django_assert_max_num_queries(9) as few:
        export_rows(client.get("/customers/export.csv"))
    for n in range(40):
        make_customer(manager, name=f"多{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(export_rows(client.get("/customers/export.csv"))) == 44


# --- 360 page -----------------------------------------------------------------------------------


def test_the_360_page_shows_profile_grades_policy_segments_and_sections(client, world, make_staff):
    customer = world["own"]
    Customer.objects.filter(pk=customer.pk).update(
        customer_class="strategic",
        industry_category="key",
        customer_category="key",
        deposit_balance="12345.60",
    )
    add_segment(customer, code="migrant", name="外出务工客户")
    for days in range(12):
        add_visit(customer, world["am1"], days_ago=days, next_step=f"step-{days}")
    add_complaint(customer, world["am1"], subject="排队时间过长")
    GradeChange.objects.create(
        customer=customer,
        status=GradeChange.Status.APPROVED,
        old_customer_class="maintenance",
        new_customer_class="strategic",
        old_managing_level="branch",
        new_managing_level="branch",
        old_industry_category="moderate",
        new_industry_category="key",
        old_customer_category="moderate",
        new_customer_category="key",
        reason="年度评级",
        proposed_by=world["am1"],
    )
    OwnershipTransfer.objects.create(
        customer=customer,
        from_owner=world["am2"],
        to_owner=world["am1"],
        reason="岗位调整",
        transferred_by=world["am2"],
    )
    client.force_login(world["am1"])

    response = client.get(f"/customers/{customer.pk}/")

    assert response.status_code == 200
    html = body_of(response)
    assert "甲一" in html
    assert mask_id_number(customer.id_number) in html
    assert customer.id_number not in html
    assert customer.mobile not in html
    assert "Strategic cooperation customer" in html
    assert response.context["policy"] == [
        "Strengthen marketing and support",
        "Name-list management",
    ]
    assert "外出务工客户" in html
    assert "¥12,345.60" in html
    visits = response.context["visits"]
    assert [v.next_step for v in visits] == [f"step-{d}" for d in range(10)]  # newest 10
    assert [c.subject for c in response.context["complaints"]] == ["排队时间过长"]
    assert len(response.context["grade_changes"]) == 1
    assert "年度评级" in html
    assert "岗位调整" in html
    assert "interactions" not in response.context  # account managers lack that permission
    # the other areas' pages, linked by their url names, each behind its permission
    pk = customer.pk
    assert f'href="{reverse("customers:visit_new", kwargs={"pk": pk})}"' in html
    assert f'href="{reverse("customers:grade_propose", kwargs={"pk": pk})}"' in html
    assert f'href="{reverse("customers:complaint_new")}?customer={pk}"' in html
    assert 'data-testid="action-transfer"' not in html  # no transfer_customer permission
    assert 'data-testid="reveal-id_number"' not in html  # no full-data permission
    assert customer.birth_date.isoformat() not in html
    for url in links_in(html):
        assert customer.id_number not in url
        assert customer.mobile not in url


def test_the_360_page_lists_counter_services_for_roles_that_may_see_them(
    client, world, make_staff, org
):
    teller = make_staff(Role.TELLER, unit="B01-01")
    ServiceInteraction.objects.create(
        teller=teller,
        outlet=org["B01-01"],
        branch=org["B01"],
        customer=world["own"],
        business_type="deposit",
        wait_minutes=3,
        handling_minutes=4,
        served_at=timezone.now(),
        rating=5,
    )
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = client.get(f"/customers/{world['own'].pk}/")

    assert [s.business_type for s in response.context["interactions"]] == ["deposit"]
    assert 'data-testid="reveal-id_number"' in body_of(response)
    assert 'data-testid="reveal-mobile"' in body_of(response)
    transfer_url = reverse("customers:transfer", kwargs={"pk": world["own"].pk})
    assert f'href="{transfer_url}" data-testid="action-transfer"' in body_of(response)


@pytest.mark.parametrize("which", ["other_branch", "colleague"])
def test_out_of_scope_customers_are_404_for_an_account_manager(client, world, which):
    client.force_login(world["am1"])
    pk = world[which].pk

    assert client.get(f"/customers/{pk}/").status_code == 404
    assert client.get(f"/customers/{pk}/edit/").status_code == 404
    assert client.post(f"/customers/{pk}/edit/", {"name": "改"}).status_code == 404
    assert world[which].__class__.objects.get(pk=pk).name == world[which].name


def test_another_branchs_customer_is_404_for_a_branch_manager(client, world, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))
    pk = world["other_branch"].pk

    assert client.get(f"/customers/{pk}/").status_code == 404
    assert client.get(f"/customers/{pk}/edit/").status_code == 404
    assert client.post(f"/customers/{pk}/reveal/", {"field": "id_number"}).status_code == 404
    assert PersonalDataAccess.objects.count() == 0


def test_360_page_query_count_does_not_grow_with_the_data(
    client, world, make_staff, django_assert_max_num_queries
):
    customer = world["own"]
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")
    client.force_login(boss)
    # 15 for the customer's own sections, 4 for the loans section other apps add.
    with django_assert_max_num_queries(19) as few:
        assert client.get(f"/customers/{customer.pk}/").status_code == 200

    for n in range(15):
        add_visit(customer, world["am2"], days_ago=n)
        add_complaint(customer, world["am2"], subject=f"投诉{n}")
        add_segment(customer, code=f"seg{n}", name=f"细分{n}")
        OwnershipTransfer.objects.create(
            customer=customer,
            from_owner=world["am2"],
            to_owner=world["am1"],
            to_b_manager=world["am2"],
            reason="调整",
            transferred_by=boss,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/customers/{customer.pk}/").status_code == 200


# --- reveal -------------------------------------------------------------------------------------


def test_reveal_by_htmx_returns_the_full_number_and_logs_it(client, world, make_staff):
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")
    client.force_login(boss)
    customer = world["own"]

    response = client.post(
        f"/customers/{customer.pk}/reveal/", {"field": "id_number"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert f'data-testid="full-id_number">{customer.id_number}<' in body_of(response)
    assert "<html" not in body_of(response)
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.customer, access.field, access.channel) == (
        boss,
        customer,
        "id_number",
        "page",
    )


def test_reveal_without_javascript_shows_the_360_page_with_the_number(client, world, make_staff):
    client.force_login(make_staff(Role.RISK_OFFICER, unit="B01"))
    customer = world["backed"]

    response = client.post(f"/customers/{customer.pk}/reveal/", {"field": "mobile"})

    assert response.status_code == 200
    assert customer.mobile in body_of(response)
    assert customer.id_number not in body_of(response)
    assert PersonalDataAccess.objects.get().field == "mobile"


def test_reveal_is_403_without_the_permission_and_logs_nothing(client, world):
    client.force_login(world["am1"])

    response = client.post(f"/customers/{world['own'].pk}/reveal/", {"field": "id_number"})

    assert response.status_code == 403
    assert world["own"].id_number not in body_of(response)
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_is_post_only_and_refuses_unknown_fields(client, world, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))
    url = f"/customers/{world['own'].pk}/reveal/"

    assert client.get(url, {"field": "id_number"}).status_code == 405
    assert client.post(url, {"field": "name"}).status_code == 400
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_needs_the_csrf_token(world, make_staff):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    response = strict.post(f"/customers/{world['own'].pk}/reveal/", {"field": "id_number"})

    assert response.status_code == 403
    assert PersonalDataAccess.objects.count() == 0


# --- create -------------------------------------------------------------------------------------


def test_create_page_offers_individual_and_corporate(client, make_staff):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))

    individual = client.get("/customers/new/")
    corporate = client.get("/customers/new/", {"kind": "corporate"})

    assert individual.status_code == corporate.status_code == 200
    assert 'data-testid="kind-individual"' in body_of(individual)
    assert 'data-testid="kind-corporate"' in body_of(individual)
    assert 'name="id_number"' in body_of(individual)
    assert 'name="credit_code"' not in body_of(individual)
    assert 'name="credit_code"' in body_of(corporate)
    assert 'name="id_number"' not in body_of(corporate)
    assert 'name="owner"' not in body_of(individual)  # an account manager files for themselves


def test_create_page_is_403_without_add_customer(client, make_staff):
    client.force_login(make_staff(Role.BRANCH_MANAGER, unit="B01"))

    assert client.get("/customers/new/").status_code == 403


def test_create_an_individual_through_the_page(client, org, make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01-02")
    backup = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    client.force_login(manager)
    number = new_id_number(birth=date(1968, 8, 8), male=True)

    response = client.post(
        "/customers/new/?kind=individual",
        {
            "kind": "individual",
            "name": "赵四",
            "id_number": number,
            "gender": "M",
            "birth_date": "1968-08-08",
            "occupation": "farmer",
            "workplace": "home",
            "income_band": "20k_50k",
            "mobile": "13912345678",
            "address": "颍上县谢桥镇",
            "b_manager": backup.pk,
        },
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert number not in response["Location"]
    assert (customer.name, customer.id_number, customer.owner, customer.b_manager) == (
        "赵四",
        number,
        manager,
        backup,
    )
    assert customer.branch == org["B01"]


def test_create_a_corporate_through_the_page(client, make_staff):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))
    code = new_credit_code()

    response = client.post(
        "/customers/new/?kind=corporate",
        {
            "kind": "corporate",
            "name": "颍上县农机合作社",
            "credit_code": code,
            "legal_representative": "钱进",
            "finance_contact": "孙会计",
            "industry": "农业机械",
            "mobile": "",
            "address": "",
        },
    )

    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.kind, customer.credit_code, customer.legal_representative) == (
        "corporate",
        code,
        "钱进",
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"id_number": "110105194912310021"},
            "id_number",
            "The ID number&#x27;s check character is wrong; please check every digit.",
        ),
        (
            {"id_number": "11010519491231002X", "birth_date": "1949-12-30"},
            "birth_date",
            "The birth date does not match the one in the ID number; please check both.",
        ),
        (
            {"id_number": "11010519491231002X", "gender": "M"},
            "gender",
            "The gender does not match the ID number",
        ),
        ({"id_number": ""}, "id_number", "This field is required."),
        (
            {"id_number": "11010519491231002X", "mobile": "1391234"},
            "mobile",
            "A mobile number has 11 digits and starts with 13 to 19.",
        ),
    ],
)
def test_create_page_shows_field_errors_and_files_nothing(
    client, make_staff, fields, field, message
):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))
    data = {"kind": "individual", "name": "张三", "workplace": "home", **fields}

    response = client.post("/customers/new/?kind=individual", data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'data-testid="error-{field}"' in body_of(response)
    assert message in body_of(response)
    assert Customer.objects.count() == 0


def test_create_page_with_an_invalid_credit_code(client, make_staff):
    client.force_login(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))

    response = client.post(
        "/customers/new/?kind=corporate",
        {"kind": "corporate", "name": "某公司", "credit_code": "91350100M000100Y44"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["credit_code"] == [
        "The credit code's check character is wrong; please check every character."
    ]
    assert Customer.objects.count() == 0


def test_create_page_duplicate_in_scope_links_to_the_existing_file(client, world):
    client.force_login(world["am1"])
    existing = world["own"]

    response = client.post(
        "/customers/new/?kind=individual",
        {
            "kind": "individual",
            "name": "重复",
            "id_number": existing.id_number,
            "workplace": "home",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["id_number"] == [
        f"This ID number is already filed as 甲一, managed by {world['am1'].display_name}."
    ]
    assert f'href="/customers/{existing.pk}/" data-testid="duplicate-link"' in body_of(response)
    assert Customer.objects.filter(name="重复").count() == 0


def test_create_page_duplicate_out_of_scope_names_nobody(client, world):
    client.force_login(world["am1"])

    response = client.post(
        "/customers/new/?kind=individual",
        {
            "kind": "individual",
            "name": "重复",
            "id_number": world["other_branch"].id_number,
            "workplace": "home",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["id_number"] == [
        "This ID number is already filed at another branch."
    ]
    html = body_of(response)
    assert "丁四" not in html
    assert world["am3"].display_name not in html
    assert 'data-testid="duplicate-link"' not in html


# --- edit ---------------------------------------------------------------------------------------


def test_edit_page_never_puts_the_numbers_back_into_the_page(client, world):
    client.force_login(world["am1"])
    customer = world["own"]

    html = body_of(client.get(f"/customers/{customer.pk}/edit/"))

    assert customer.id_number not in html
    assert customer.mobile not in html
    assert mask_id_number(customer.id_number) in html  # as the placeholder
    assert customer.birth_date.isoformat() not in html


def test_edit_keeps_empty_numbers_and_saves_the_rest(client, world):
    client.force_login(world["am1"])
    customer = world["backed"]  # a B-role customer may be edited by the B-role manager

    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {
            "name": "乙二改",
            "id_number": "",
            "mobile": "",
            "workplace": "away",
            "work_location": "浙江宁波",
            "occupation": "migrant_worker",
        },
    )

    assert response.status_code == 302
    updated = Customer.objects.get(pk=customer.pk)
    assert (updated.name, updated.workplace, updated.work_location) == (
        "乙二改",
        "away",
        "浙江宁波",
    )
    assert (updated.id_number, updated.mobile) == (customer.id_number, customer.mobile)
    audit = AuditEvent.objects.get(action="customer.update")
    assert audit.data == {"fields": ["name", "occupation", "work_location", "workplace"]}


def test_edit_with_a_new_mobile(client, world):
    client.force_login(world["am1"])
    customer = world["own"]
    mobile = new_mobile()

    client.post(
        f"/customers/{customer.pk}/edit/",
        {"name": customer.name, "mobile": mobile, "workplace": "home"},
    )

    assert Customer.objects.get(pk=customer.pk).mobile == mobile


def test_edit_refuses_a_gender_contradicting_the_stored_number(client, world):
    client.force_login(world["am1"])
    customer = world["own"]  # a man (odd 17th digit)

    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {"name": "改名", "gender": "F", "workplace": "home"},
    )

    assert response.status_code == 400
    assert "gender" in response.context["form"].errors
    assert Customer.objects.get(pk=customer.pk).name == "甲一"


def test_edit_needs_change_customer(client, world, make_staff):
    client.force_login(make_staff(Role.TELLER, unit="B01-01"))

    assert client.get(f"/customers/{world['own'].pk}/edit/").status_code == 403


def test_create_and_edit_for_a_branch_manager_who_is_also_an_account_manager(
    client, world, make_staff
):
    boss = make_staff(Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, unit="B01")
    client.force_login(boss)

    form_page = client.get("/customers/new/")
    owners = set(form_page.context["form"].fields["owner"].queryset)
    assert owners == {boss, world["am1"], world["am2"]}

    response = client.post(
        "/customers/new/",
        {
            "kind": "individual",
            "name": "新客户",
            "id_number": new_id_number(),
            "workplace": "home",
            "owner": world["am2"].pk,
            "b_manager": world["am2"].pk,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["b_manager"] == [
        "The B-role manager must be someone other than the account manager."
    ]

    response = client.post(
        "/customers/new/",
        {
            "kind": "individual",
            "name": "新客户",
            "id_number": new_id_number(birth=date.today() - timedelta(days=365 * 30)),
            "workplace": "home",
            "owner": world["am2"].pk,
            "b_manager": world["am1"].pk,
        },
    )
    assert response.status_code == 302
    created = Customer.objects.get(name="新客户")
    assert (created.owner, created.b_manager) == (world["am2"], world["am1"])


# --- workbench entries --------------------------------------------------------------------------

ROLE_UNITS = {
    Role.ACCOUNT_MANAGER: "B01",
    Role.TELLER: "B01-01",
    Role.RISK_OFFICER: "HQ",
    Role.LOAN_COMMITTEE: "HQ",
    Role.BRANCH_MANAGER: "B01",
    Role.MANAGEMENT: "HQ",
    Role.SYSADMIN: "HQ",
}


@pytest.mark.parametrize("key", ["customers", "customer_new"])
@pytest.mark.parametrize("role", list(Role.values))
def test_workbench_entries_open_for_exactly_their_roles(client, make_staff, key, role):
    from coop.workbench import all_entries

    entry = next(e for e in all_entries() if e.key == key)
    client.force_login(make_staff(role, unit=ROLE_UNITS[role]))

    response = client.get(entry.url)

    assert response.status_code == (200 if role in entry.roles else 403)


def test_a_file_without_a_birth_date_shows_a_dash_not_an_age(client, make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    undated = Customer.objects.create(
        kind="individual", name="无证件客户", branch=manager.org_unit, owner=manager
    )
    dated = make_customer(manager, name="有证件客户")
    client.force_login(manager)
    page = client.get(f"/customers/{undated.pk}/").content.decode()
    age = page.split('data-testid="customer-age">', 1)[1].split("</dd>", 1)[0]
    assert age == "—"
    shown = client.get(f"/customers/{dated.pk}/").content.decode()
    assert f"{dated.age()} years" in shown.split('data-testid="customer-age">', 1)[1]
