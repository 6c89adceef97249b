"""Customer files services: create, update, duplicates, personal-data reveal."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.utils import translation

from coop.models import AuditEvent
from coop.roles import Role
from coop.services import DomainError
from customers.models import Customer, PersonalDataAccess
from customers.services.files import (
    DuplicateCustomerError,
    customer_create,
    customer_update,
    personal_data_reveal,
)
from tests.customers.test_files_factories import (
    make_customer,
    new_credit_code,
    new_id_number,
    new_mobile,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def customer_audits():
    return AuditEvent.objects.filter(object_type="customers.customer")


# --- create -------------------------------------------------------------------------------------


def test_create_individual_derives_gender_and_birth_date_and_files_in_the_actors_branch(
    org, make_staff
):
    # given an account manager working at an outlet of branch B01
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01-01")
    number = new_id_number(birth=date(1979, 11, 2), male=False)

    # when they file an individual, typing the number in lower case with spaces
    customer = customer_create(
        actor=manager,
        data={
            "kind": "individual",
            "name": "  李秀兰 ",
            "id_number": f" {number[:6]} {number[6:]} ".lower(),
            "mobile": "+86 139-0000-1234",
            "occupation": "migrant_worker",
            "workplace": "away",
            "work_location": "江苏苏州",
        },
    )

    # then the customer is stored normalised, in the branch, owned by the manager
    customer.refresh_from_db()
    assert customer.kind == "individual"
    assert customer.name == "李秀兰"
    assert customer.id_number == number
    assert customer.credit_code is None
    assert customer.gender == "F"
    assert customer.birth_date == date(1979, 11, 2)
    assert customer.mobile == "13900001234"
    assert customer.branch == org["B01"]
    assert customer.owner == manager
    assert customer.b_manager is None
    assert customer.created_by == manager
    assert customer.workplace == "away"
    # and one audit row names the fields, never the numbers
    audit = customer_audits().get()
    assert audit.action == "customer.create"
    assert audit.actor == manager
    assert audit.object_id == str(customer.pk)
    assert "id_number" in audit.data["fields"]
    serialised = json.dumps(audit.data) + audit.comment + audit.to_state
    assert number not in serialised
    assert "13900001234" not in serialised


def test_create_corporate_with_a_b_role_manager(org, make_staff):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    backup = make_staff(Role.ACCOUNT_MANAGER, unit="B01-02")
    code = new_credit_code()

    customer = customer_create(
        actor=owner,
        data={
            "kind": "corporate",
            "name": "颍上县鑫源米业有限公司",
            "credit_code": code.lower(),
            "legal_representative": "王德明",
            "finance_contact": "赵会计",
            "industry": "粮食加工",
            "b_manager": backup,
        },
    )

    customer.refresh_from_db()
    assert customer.kind == "corporate"
    assert customer.credit_code == code
    assert customer.id_number is None
    assert customer.legal_representative == "王德明"
    assert customer.b_manager == backup
    assert customer.branch == org["B01"]
    assert customer_audits().get().action == "customer.create"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "birth_date",
            date(1985, 3, 15),
            "The birth date does not match the one in the ID number; please check both.",
        ),
        (
            "gender",
            "F",
            "The gender does not match the ID number (its 17th digit is odd for men and even "
            "for women); please check both.",
        ),
    ],
)
def test_create_refuses_a_gender_or_birth_date_that_contradicts_the_id_number(
    make_staff, field, value, message
):
    manager = make_staff(Role.ACCOUNT_MANAGER)
    number = new_id_number(birth=date(1985, 3, 14), male=True)

    with pytest.raises(DomainError) as refused:
        customer_create(
            actor=manager,
            data={"kind": "individual", "name": "张三", "id_number": number, field: value},
        )

    assert refused.value.field == field
    assert refused.value.code == "id_number_mismatch"
    assert refused.value.message == message
    assert number not in refused.value.message
    assert Customer.objects.count() == 0
    assert customer_audits().count() == 0


def test_matching_gender_and_birth_date_are_accepted(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER)
    number = new_id_number(birth=date(1990, 1, 31), male=True)

    customer = customer_create(
        actor=manager,
        data={
            "kind": "individual",
            "name": "张三",
            "id_number": number,
            "gender": "M",
            "birth_date": date(1990, 1, 31),
        },
    )

    assert (customer.gender, customer.birth_date) == ("M", date(1990, 1, 31))


@pytest.mark.parametrize(
    ("data", "field", "code", "message"),
    [
        (
            {"kind": "individual", "id_number": "11010519491231002Y"},
            "id_number",
            "format",
            "An ID number has 17 digits followed by a digit or the letter X.",
        ),
        (
            {"kind": "individual", "id_number": "110105194912310021"},
            "id_number",
            "checksum",
            "The ID number's check character is wrong; please check every digit.",
        ),
        (
            {"kind": "individual", "id_number": ""},
            "id_number",
            "required",
            "The ID number is required for an individual customer.",
        ),
        (
            {"kind": "corporate", "credit_code": "91350100M000100Y44"},
            "credit_code",
            "checksum",
            "The credit code's check character is wrong; please check every character.",
        ),
        (
            {"kind": "corporate", "credit_code": "91350100M00010"},
            "credit_code",
            "length",
            "A unified social credit code has 18 characters.",
        ),
        (
            {"kind": "corporate", "credit_code": "91350100M000100Y43", "mobile": "12345"},
            "mobile",
            "format",
            "A mobile number has 11 digits and starts with 13 to 19.",
        ),
        (
            {"kind": "corporate", "credit_code": "91350100M000100Y43", "id_number": "x"},
            "id_number",
            "not_applicable",
            "A corporate customer has no resident ID number.",
        ),
        (
            {"kind": "individual", "id_number": "11010519491231002X", "occupation": "astronaut"},
            "occupation",
            "invalid",
            "Not one of the available choices.",
        ),
        (
            {"kind": "individual", "id_number": "11010519491231002X", "address": "村" * 201},
            "address",
            "max_length",
            "At most 200 characters.",
        ),
        (
            {"kind": "household", "credit_code": "91350100M000100Y43"},
            "kind",
            "invalid",
            "Choose whether the customer is an individual or a corporate customer.",
        ),
    ],
)
def test_create_refuses_invalid_identifiers_and_changes_nothing(
    make_staff, data, field, code, message
):
    manager = make_staff(Role.ACCOUNT_MANAGER)

    with pytest.raises(DomainError) as refused:
        customer_create(actor=manager, data={"name": "某某", **data})

    assert (refused.value.field, refused.value.code, refused.value.message) == (
        field,
        code,
        message,
    )
    assert Customer.objects.count() == 0
    assert customer_audits().count() == 0


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_in_scope_names_the_customer_and_their_manager(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    manager.name = "刘晓东"
    manager.save(update_fields=["name"])
    existing = make_customer(manager, name="张三")

    with pytest.raises(DuplicateCustomerError) as refused:
        customer_create(
            actor=manager,
            data={"kind": "individual", "name": "张叁", "id_number": existing.id_number},
        )

    assert refused.value.field == "id_number"
    assert refused.value.code == "duplicate"
    assert refused.value.message == "This ID number is already filed as 张三, managed by 刘晓东."
    assert refused.value.existing == existing
    assert Customer.objects.count() == 1
    assert customer_audits().filter(action="customer.create").count() == 1


def test_duplicate_at_another_branch_names_nobody(make_staff):
    other = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    existing = make_customer(other, name="王五")
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")

    with pytest.raises(DuplicateCustomerError) as refused:
        customer_create(
            actor=manager,
            data={"kind": "individual", "name": "王五", "id_number": existing.id_number},
        )

    assert refused.value.message == "This ID number is already filed at another branch."
    assert refused.value.existing is None
    assert other.display_name not in refused.value.message
    assert Customer.objects.count() == 1


def test_duplicate_with_a_colleague_of_the_same_branch_names_nobody(make_staff):
    colleague = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    existing = make_customer(colleague, kind="corporate", name="某公司")
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01-01")

    with pytest.raises(DuplicateCustomerError) as refused:
        customer_create(
            actor=manager,
            data={"kind": "corporate", "name": "某公司", "credit_code": existing.credit_code},
        )

    assert refused.value.field == "credit_code"
    assert refused.value.message == (
        "This credit code is already filed in this branch by another account manager."
    )
    assert refused.value.existing is None


def test_a_branch_manager_sees_who_holds_a_duplicate_of_their_branch(make_staff):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am_owner")
    existing = make_customer(owner, kind="corporate", name="某公司")
    boss = make_staff(Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, unit="B01")

    with pytest.raises(DuplicateCustomerError) as refused:
        customer_create(
            actor=boss,
            data={"kind": "corporate", "name": "某公司", "credit_code": existing.credit_code},
        )

    assert refused.value.message == (
        f"This credit code is already filed as 某公司, managed by {owner.display_name}."
    )
    assert refused.value.existing == existing


@pytest.mark.django_db(transaction=True)
def test_concurrent_insert_of_the_same_number_loses_on_the_constraint_with_the_same_message(
    org, make_staff
):
    """The check before the insert cannot see a row another transaction has not committed yet;
    the unique index then makes the second insert wait and fail, and the service turns that into
    the same refusal."""
    first = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    second = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    number = new_id_number()
    inserted, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def first_clerk():
        try:
            with transaction.atomic():
                outcome["first"] = customer_create(
                    actor=first, data={"kind": "individual", "name": "甲", "id_number": number}
                )
                inserted.set()
                release.wait(20)
        finally:
            connections.close_all()

    def second_clerk():
        try:
            with translation.override("en"):
                customer_create(
                    actor=second, data={"kind": "individual", "name": "乙", "id_number": number}
                )
        except DomainError as exc:
            outcome["second"] = exc
        finally:
            connections.close_all()

    one = threading.Thread(target=first_clerk)
    one.start()
    assert inserted.wait(20)
    two = threading.Thread(target=second_clerk)
    two.start()
    # Wait until the second insert is blocked on the first one's uncommitted row.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
        time.sleep(0.05)
    else:
        pytest.fail("the second insert never waited for the first")
    release.set()
    one.join(20)
    two.join(20)

    assert isinstance(outcome["second"], DuplicateCustomerError)
    assert outcome["second"].message == "This ID number is already filed at another branch."
    assert list(Customer.objects.values_list("name", flat=True)) == ["甲"]
    assert customer_audits().count() == 1


# --- branch and account managers ----------------------------------------------------------------


def test_an_account_manager_cannot_file_a_customer_for_a_colleague(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    colleague = make_staff(Role.ACCOUNT_MANAGER, unit="B01")

    with pytest.raises(DomainError) as refused:
        customer_create(
            actor=manager,
            data={
                "kind": "individual",
                "name": "张三",
                "id_number": new_id_number(),
                "owner": colleague,
            },
        )

    assert refused.value.field == "owner"
    assert refused.value.message == "You can only file customers that you manage yourself."
    assert Customer.objects.count() == 0


def test_a_branch_wide_role_chooses_an_account_manager_of_the_branch(org, make_staff):
    boss = make_staff(Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, unit="B01")
    colleague = make_staff(Role.ACCOUNT_MANAGER, unit="B01-02")
    stranger = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    data = {"kind": "individual", "name": "张三", "id_number": new_id_number()}

    with pytest.raises(DomainError) as refused:
        customer_create(actor=boss, data={**data, "owner": stranger})
    assert refused.value.field == "owner"
    assert refused.value.message == (
        "The account manager must be an account manager of the customer's branch."
    )
    assert Customer.objects.count() == 0

    customer = customer_create(actor=boss, data={**data, "owner": colleague})
    assert (customer.owner, customer.branch) == (colleague, org["B01"])


@pytest.mark.parametrize("which", ["same", "other_branch", "teller"])
def test_the_b_role_manager_must_be_another_account_manager_of_the_branch(make_staff, which):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    b_manager = {
        "same": owner,
        "other_branch": make_staff(Role.ACCOUNT_MANAGER, unit="B02"),
        "teller": make_staff(Role.TELLER, unit="B01-01"),
    }[which]

    with pytest.raises(DomainError) as refused:
        customer_create(
            actor=owner,
            data={
                "kind": "individual",
                "name": "张三",
                "id_number": new_id_number(),
                "b_manager": b_manager,
            },
        )

    assert refused.value.field == "b_manager"
    assert Customer.objects.count() == 0


def test_head_office_staff_choose_the_branch(org, make_staff):
    director = make_staff(Role.ACCOUNT_MANAGER, Role.MANAGEMENT, unit="HQ")
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B03")
    data = {"kind": "individual", "name": "张三", "id_number": new_id_number(), "owner": owner}

    with pytest.raises(DomainError) as refused:
        customer_create(actor=director, data=data)
    assert (refused.value.field, refused.value.message) == (
        "branch",
        "Choose the branch the customer belongs to.",
    )
    with pytest.raises(DomainError) as refused:
        customer_create(actor=director, data={**data, "branch": org["B03-01"]})
    assert refused.value.message == "Choose one of the bank's branches."
    assert Customer.objects.count() == 0

    customer = customer_create(actor=director, data={**data, "branch": org["B03"]})
    assert (customer.branch, customer.owner) == (org["B03"], owner)


# --- update -------------------------------------------------------------------------------------


def test_update_changes_the_given_fields_and_audits_their_names(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER)
    customer = make_customer(manager, name="张三", address="旧地址")
    old_number = customer.id_number
    mobile = new_mobile()

    updated = customer_update(
        actor=manager, customer=customer, data={"name": "张三丰", "mobile": mobile}
    )

    assert updated.name == "张三丰"
    assert updated.mobile == mobile
    assert updated.address == "旧地址"
    assert updated.id_number == old_number
    audit = customer_audits().get(action="customer.update")
    assert audit.data == {"fields": ["mobile", "name"]}
    assert mobile not in json.dumps(audit.data)


def test_update_without_a_change_writes_no_audit_row(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER)
    customer = make_customer(manager, name="张三")

    customer_update(actor=manager, customer=customer, data={"name": "张三"})

    assert customer_audits().filter(action="customer.update").count() == 0


def test_update_of_the_id_number_rederives_gender_and_birth_date(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER)
    customer = make_customer(manager)
    corrected = new_id_number(birth=date(2001, 6, 30), male=False)

    customer_update(actor=manager, customer=customer, data={"id_number": corrected})

    customer.refresh_from_db()
    assert (customer.id_number, customer.gender, customer.birth_date) == (
        corrected,
        "F",
        date(2001, 6, 30),
    )
    assert customer_audits().get(action="customer.update").data == {
        "fields": ["birth_date", "gender", "id_number"]
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"gender": "F"}, "gender"),
        ({"birth_date": date(2000, 1, 1)}, "birth_date"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"kind": "corporate"}, "kind"),
        ({"credit_code": "91350100M000100Y43"}, "credit_code"),
        ({"name": ""}, "name"),
        ({"mobile": "1234"}, "mobile"),
    ],
)
def test_update_refuses_bad_input_and_changes_nothing(make_staff, data, field):
    manager = make_staff(Role.ACCOUNT_MANAGER)
    customer = make_customer(manager, name="张三")
    before = Customer.objects.filter(pk=customer.pk).values().get()

    with pytest.raises(DomainError) as refused:
        customer_update(actor=manager, customer=customer, data=data)

    assert refused.value.field == field
    assert Customer.objects.filter(pk=customer.pk).values().get() == before
    assert customer_audits().filter(action="customer.update").count() == 0


def test_update_to_a_number_filed_elsewhere_is_a_duplicate(make_staff):
    manager = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    other = make_customer(make_staff(Role.ACCOUNT_MANAGER, unit="B02"))
    customer = make_customer(manager)
    before = customer.id_number

    with pytest.raises(DuplicateCustomerError) as refused:
        customer_update(actor=manager, customer=customer, data={"id_number": other.id_number})

    assert refused.value.message == "This ID number is already filed at another branch."
    customer.refresh_from_db()
    assert customer.id_number == before


# --- reveal -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id_number", "mobile"])
def test_reveal_gives_the_full_number_and_logs_the_view(make_staff, field):
    customer = make_customer(make_staff(Role.ACCOUNT_MANAGER, unit="B01"))
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")

    value = personal_data_reveal(actor=boss, customer=customer, field=field, channel="page")

    assert value == getattr(customer, field)
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.customer, access.field, access.channel) == (
        boss,
        customer,
        field,
        "page",
    )


@pytest.mark.parametrize(
    ("roles", "unit"),
    [
        ((Role.ACCOUNT_MANAGER,), "B01"),  # the owner, but without the permission
        ((Role.TELLER,), "B01-01"),
        ((Role.BRANCH_MANAGER,), "B02"),  # the permission, but another branch
    ],
)
def test_reveal_is_refused_without_the_permission_or_out_of_scope(make_staff, roles, unit):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="owner_b01")
    customer = make_customer(owner)
    actor = owner if roles == (Role.ACCOUNT_MANAGER,) else make_staff(*roles, unit=unit)

    with pytest.raises(PermissionDenied):
        personal_data_reveal(actor=actor, customer=customer, field="id_number", channel="page")

    assert PersonalDataAccess.objects.count() == 0


def test_reveal_of_a_missing_number_logs_nothing(make_staff):
    customer = make_customer(make_staff(Role.ACCOUNT_MANAGER, unit="B01"), mobile="")
    boss = make_staff(Role.BRANCH_MANAGER, unit="B01")

    with pytest.raises(DomainError):
        personal_data_reveal(actor=boss, customer=customer, field="mobile", channel="api")
    with pytest.raises(DomainError):
        personal_data_reveal(actor=boss, customer=customer, field="birth_date", channel="api")

    assert PersonalDataAccess.objects.count() == 0
