"""The relationship pages: who may open them, scoping (404 / never listed), forms, query budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coop.roles import Role
from customers.models import ContactPlan, Customer, GradeChange, Segment, Visit
from customers.segment_rules import today_in_shanghai
from customers.services.due_contacts import contacts_plan
from customers.services.relationship import (
    contact_plan_create,
    grade_change_approve,
    segment_create,
)
from tests.customers.test_relationship_support import (
    grade_of,
    make_customer,
    make_visit,
    open_proposal,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")

HIGH_VALUE = [{"attribute": "deposit_balance", "op": "gte", "value": "500000"}]


@pytest.fixture
def world(org, make_staff):
    """Branch B01 (an account manager with a customer, a branch manager), branch B02 (an account
    manager with a customer), head-office management and a teller."""
    am = make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am1")
    am_b2 = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="am2")
    w = {
        "am": am,
        "am_b2": am_b2,
        "manager": make_staff(Role.BRANCH_MANAGER, unit="B01", username="mgr1"),
        "manager_b2": make_staff(Role.BRANCH_MANAGER, unit="B02", username="mgr2"),
        "director": make_staff(Role.MANAGEMENT, unit="HQ", username="director"),
        "teller": make_staff(Role.TELLER, unit="B01-01", username="teller1"),
        "mine": make_customer(am, name="本行客户", deposit_balance="900000", mobile="13812345678"),
        "theirs": make_customer(am_b2, name="他行客户", deposit_balance="900000"),
    }
    w["segment"] = segment_create(
        actor=w["director"], code="high-value", name="高价值", rules=HIGH_VALUE
    )
    return w


# --- who may open what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("/customers/segments/", ["director", "am", "manager"], ["teller"]),
        ("/customers/segments/new/", ["director"], ["manager", "am"]),
        ("/customers/segments/plans/new/", ["director"], ["manager"]),
        ("/customers/contacts/due/", ["am", "manager"], ["teller", "director"]),
        ("/customers/visits/", ["am", "manager", "director"], ["teller"]),
        ("/customers/grades/", ["manager", "director"], ["am", "teller"]),
    ],
)
def test_pages_answer_200_for_their_roles_and_403_for_others(client, world, url, allowed, refused):
    for who in allowed:
        client.force_login(world[who])
        assert client.get(url).status_code == 200, who
    for who in refused:
        client.force_login(world[who])
        assert client.get(url).status_code == 403, who


ROLE_UNITS = {
    Role.ACCOUNT_MANAGER: "B01",
    Role.TELLER: "B01-01",
    Role.RISK_OFFICER: "HQ",
    Role.LOAN_COMMITTEE: "HQ",
    Role.BRANCH_MANAGER: "B01",
    Role.MANAGEMENT: "HQ",
    Role.SYSADMIN: "HQ",
}


def test_this_areas_workbench_entries_open_for_each_of_their_roles(client, world, make_staff):
    from coop.workbench import all_entries

    ours = {"customers:due_contacts", "customers:grade_changes", "customers:segments"}
    entries = [e for e in all_entries() if e.url_name in ours]
    assert {e.url_name for e in entries} == ours
    for entry in entries:
        for role in entry.roles:
            client.force_login(make_staff(role, unit=ROLE_UNITS[role]))
            assert client.get(entry.url).status_code == 200, (entry.key, role)


def test_customer_pages_answer_for_their_roles(client, world):
    mine = world["mine"].pk
    client.force_login(world["am"])
    assert client.get(f"/customers/{mine}/visits/new/").status_code == 200
    assert client.get(f"/customers/{mine}/grade/propose/").status_code == 200
    assert client.get(f"/customers/{mine}/transfer/").status_code == 403
    client.force_login(world["manager"])
    assert client.get(f"/customers/{mine}/transfer/").status_code == 200
    segment = world["segment"].pk
    assert client.get(f"/customers/segments/{segment}/").status_code == 200
    assert client.get(f"/customers/segments/{segment}/edit/").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, world):
    response = client.get("/customers/contacts/due/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- scoping: another branch's customer is not there ---------------------------------------------


@pytest.mark.parametrize("path", ["visits/new/", "grade/propose/"])
def test_another_branchs_customer_answers_404(client, world, path):
    client.force_login(world["am"])

    assert client.get(f"/customers/{world['theirs'].pk}/{path}").status_code == 404


def test_posting_for_another_branchs_customer_changes_nothing(client, world):
    client.force_login(world["manager"])
    theirs = world["theirs"].pk

    visit = client.post(
        f"/customers/{theirs}/visits/new/",
        {"visited_on": today_in_shanghai().isoformat(), "channel": "visit", "outcome": "contacted"},
    )
    grade = client.post(
        f"/customers/{theirs}/grade/propose/",
        {
            "new_customer_class": "strategic",
            "new_managing_level": "branch",
            "new_industry_category": "moderate",
            "new_customer_category": "key",
            "reason": "越权",
        },
    )

    assert (visit.status_code, grade.status_code) == (404, 404)
    assert Visit.objects.count() == 0
    assert GradeChange.objects.count() == 0


def test_an_account_manager_sees_only_their_own_customers(client, world, make_staff):
    colleague = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    colleagues_customer = make_customer(colleague)
    client.force_login(world["am"])

    assert client.get(f"/customers/{colleagues_customer.pk}/visits/new/").status_code == 404


def test_segment_members_are_scoped(client, world):
    url = f"/customers/segments/{world['segment'].pk}/"

    client.force_login(world["manager"])
    page = client.get(url)
    assert [c.pk for c in page.context["members"]] == [world["mine"].pk]
    assert "他行客户" not in page.content.decode()
    assert "138****5678" in page.content.decode()  # lists always mask
    assert "13812345678" not in page.content.decode()

    client.force_login(world["director"])
    members = client.get(url).context["members"]
    assert {c.pk for c in members} == {world["mine"].pk, world["theirs"].pk}


def test_segment_list_counts_only_visible_members(client, world):
    client.force_login(world["manager"])
    counts = {
        s.code: s.visible_members for s in client.get("/customers/segments/").context["segments"]
    }
    assert counts == {"high-value": 1}

    client.force_login(world["director"])
    counts = {
        s.code: s.visible_members for s in client.get("/customers/segments/").context["segments"]
    }
    assert counts == {"high-value": 2}


def test_visit_list_never_shows_another_branchs_visits(client, world):
    make_visit(world["mine"], world["am"], visited_on=today_in_shanghai())
    make_visit(world["theirs"], world["am_b2"], visited_on=today_in_shanghai())

    client.force_login(world["manager"])
    everything = client.get("/customers/visits/?show=all").context["visits"]
    mine_only = client.get("/customers/visits/").context["visits"]

    assert [v.customer_id for v in everything] == [world["mine"].pk]
    assert list(mine_only) == []  # the manager recorded none himself


def test_grade_queue_is_scoped_and_decisions_out_of_scope_are_404(client, world):
    mine = open_proposal(world["mine"], world["am"])
    theirs = open_proposal(world["theirs"], world["am_b2"])

    client.force_login(world["manager"])
    queue = client.get("/customers/grades/").context["queue"]
    assert [c.pk for c in queue] == [mine.pk]

    response = client.post(f"/customers/grades/{theirs.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == GradeChange.Status.PROPOSED


def test_due_contacts_page_lists_only_own_due_customers(client, world, make_staff):
    contact_plan_create(
        actor=world["director"], name="维护", customer_class="maintenance", interval_days=30
    )
    contacts_plan()  # the beat sweep materializes the due contacts
    client.force_login(world["am"])

    page = client.get("/customers/contacts/due/")

    assert [row.customer.pk for row in page.context["rows"]] == [world["mine"].pk]
    body = page.content.decode()
    assert f'data-testid="record-visit-{world["mine"].pk}"' in body
    assert "他行客户" not in body


# --- forms ---------------------------------------------------------------------------------------


def test_segment_rule_builder_creates_a_segment(client, world):
    client.force_login(world["director"])

    response = client.post(
        "/customers/segments/new/",
        {
            "code": "rich-away",
            "name": "外出务工高存款",
            "is_active": "on",
            "rule_0_attribute": "deposit_balance",
            "rule_0_op": "gte",
            "rule_0_value": "¥500,000",
            "rule_1_attribute": "workplace",
            "rule_1_op": "in",
            "rule_1_value": "home, away",
        },
    )

    segment = Segment.objects.get(code="rich-away")
    assert response.status_code == 302
    assert response["Location"] == f"/customers/segments/{segment.pk}/"
    assert segment.rules == [
        {"attribute": "deposit_balance", "op": "gte", "value": "500000.00"},
        {"attribute": "workplace", "op": "in", "value": ["home", "away"]},
    ]
    assert segment.member_count == 2


def test_segment_rule_builder_shows_errors_and_saves_nothing(client, world):
    client.force_login(world["director"])

    response = client.post(
        "/customers/segments/new/",
        {
            "code": "bad",
            "name": "坏",
            "rule_0_attribute": "workplace",
            "rule_0_op": "eq",
            "rule_0_value": "moon",
            "rule_1_attribute": "workplace",
            "rule_1_op": "gte",
            "rule_1_value": "away",
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"rule_0_value", "rule_1_value"}
    assert not Segment.objects.filter(code="bad").exists()


def test_segment_edit_recompute_and_method_check(client, world):
    segment = world["segment"]
    client.force_login(world["director"])

    form = client.get(f"/customers/segments/{segment.pk}/edit/").context["form"]
    assert form["rule_0_value"].value() == "500000.00"

    response = client.post(
        f"/customers/segments/{segment.pk}/edit/",
        {
            "code": "ignored",  # disabled field: the code never changes
            "name": "高价值客户",
            "is_active": "on",
            "rule_0_attribute": "deposit_balance",
            "rule_0_op": "gte",
            "rule_0_value": "1000000",
        },
    )
    segment.refresh_from_db()
    assert response.status_code == 302
    assert (segment.code, segment.name, segment.member_count) == ("high-value", "高价值客户", 0)

    Customer.objects.filter(pk=world["mine"].pk).update(deposit_balance="2000000")
    assert client.get(f"/customers/segments/{segment.pk}/recompute/").status_code == 405
    assert client.post(f"/customers/segments/{segment.pk}/recompute/").status_code == 302
    segment.refresh_from_db()
    assert segment.member_count == 1


def test_editing_a_segment_with_many_rules_keeps_every_rule(client, world):
    from customers.services.relationship import segment_update

    rules = [{"attribute": "deposit_balance", "op": "gte", "value": str(n)} for n in range(7)]
    segment_update(actor=world["director"], segment=world["segment"], rules=rules)
    client.force_login(world["director"])
    url = f"/customers/segments/{world['segment'].pk}/edit/"

    form = client.get(url).context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name != "is_active"}
    data["is_active"] = "on"
    assert client.post(url, data).status_code == 302

    world["segment"].refresh_from_db()
    assert [r["value"] for r in world["segment"].rules] == [f"{n}.00" for n in range(7)]


def test_contact_plans_are_created_edited_and_deactivated(client, world):
    client.force_login(world["director"])

    response = client.post(
        "/customers/segments/plans/new/",
        {
            "name": "高价值每月",
            "segment": world["segment"].pk,
            "interval_days": "30",
            "is_active": "on",
        },
    )
    plan = ContactPlan.objects.get(name="高价值每月")
    assert response.status_code == 302
    assert (plan.segment, plan.interval_days, plan.is_active) == (world["segment"], 30, True)

    both = client.post(
        "/customers/segments/plans/new/",
        {
            "name": "两者",
            "segment": world["segment"].pk,
            "customer_class": "partner",
            "interval_days": "7",
        },
    )
    assert both.status_code == 200
    assert not ContactPlan.objects.filter(name="两者").exists()

    client.post(
        f"/customers/segments/plans/{plan.pk}/edit/",
        {
            "name": "高价值双周",
            "segment": world["segment"].pk,
            "interval_days": "14",
            "is_active": "on",
        },
    )
    plan.refresh_from_db()
    assert (plan.name, plan.interval_days) == ("高价值双周", 14)

    client.post(f"/customers/segments/plans/{plan.pk}/edit/", {"deactivate": "1"})
    plan.refresh_from_db()
    assert (plan.name, plan.is_active) == ("高价值双周", False)


def test_record_a_visit_and_return_to_the_due_list(client, world):
    client.force_login(world["am"])
    today = today_in_shanghai()
    url = f"/customers/{world['mine'].pk}/visits/new/"

    form = client.get(url).context["form"]
    assert form["visited_on"].value() == today

    response = client.post(
        url,
        {
            "visited_on": today.isoformat(),
            "channel": "phone",
            "outcome": "interested",
            "next_step": "寄送资料",
            "next_contact_on": (today + timedelta(days=14)).isoformat(),
            "next": "/customers/contacts/due/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/customers/contacts/due/"
    visit = Visit.objects.get()
    assert (visit.staff, visit.channel, visit.next_step) == (world["am"], "phone", "寄送资料")


@pytest.mark.parametrize(
    ("days", "next_days", "field"),
    [(1, None, "visited_on"), (0, 0, "next_contact_on"), (-3, -4, "next_contact_on")],
)
def test_bad_visits_show_the_form_again(client, world, days, next_days, field):
    client.force_login(world["am"])
    today = today_in_shanghai()
    data = {
        "visited_on": (today + timedelta(days=days)).isoformat(),
        "channel": "visit",
        "outcome": "contacted",
    }
    if next_days is not None:
        data["next_contact_on"] = (today + timedelta(days=next_days)).isoformat()

    response = client.post(f"/customers/{world['mine'].pk}/visits/new/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Visit.objects.count() == 0


def test_an_outside_next_address_is_ignored(client, world):
    client.force_login(world["am"])

    response = client.post(
        f"/customers/{world['mine'].pk}/visits/new/",
        {
            "visited_on": today_in_shanghai().isoformat(),
            "channel": "visit",
            "outcome": "contacted",
            "next": "https://evil.example/",
        },
    )

    assert response["Location"] == "/customers/visits/"


def test_propose_and_decide_through_the_pages(client, world, make_staff):
    client.force_login(world["am"])
    url = f"/customers/{world['mine'].pk}/grade/propose/"
    proposal = {
        "new_customer_class": "partner",
        "new_managing_level": "branch",
        "new_industry_category": "key",
        "new_customer_category": "key",
        "reason": "存贷款合作加深",
    }
    assert client.post(url, proposal).status_code == 302
    change = GradeChange.objects.get()
    assert 'data-testid="open-proposal"' in client.get(url).content.decode()

    again = client.post(url, proposal)  # a second, e.g. a double submit
    assert again.status_code == 200
    assert GradeChange.objects.count() == 1

    client.force_login(world["manager"])
    no_comment = client.post(f"/customers/grades/{change.pk}/decide/", {"decision": "reject"})
    assert no_comment.status_code == 302
    change.refresh_from_db()
    assert change.status == GradeChange.Status.PROPOSED

    approved = client.post(f"/customers/grades/{change.pk}/decide/", {"decision": "approve"})
    assert approved.status_code == 302
    assert grade_of(world["mine"]) == ("partner", "branch", "key", "key")


def test_the_queue_explains_why_a_decision_is_not_yours(client, world):
    own = open_proposal(world["mine"], world["manager"])
    client.force_login(world["manager"])

    page = client.get("/customers/grades/")

    body = page.content.decode()
    assert f'data-testid="grade-refusal-{own.pk}"' in body
    assert f'data-testid="grade-approve-{own.pk}"' not in body
    client.post(f"/customers/grades/{own.pk}/decide/", {"decision": "approve"})
    own.refresh_from_db()
    assert own.status == GradeChange.Status.PROPOSED


# --- query budgets -------------------------------------------------------------------------------


def _grow(world, n: int) -> None:
    """``n`` more customers in B01 with visits, proposals, decisions and memberships."""
    today = today_in_shanghai()
    for i in range(n):
        customer = make_customer(world["am"], deposit_balance="700000")
        make_visit(customer, world["am"], visited_on=today - timedelta(days=60 + i))
        change = open_proposal(customer, world["am"])
        if i % 2:
            grade_change_approve(actor=world["manager"], change=change)
    for segment in Segment.objects.all():
        from customers.services.relationship import segment_recompute

        segment_recompute(segment=segment)


PAGES = [
    ("director", lambda w: "/customers/segments/"),
    ("manager", lambda w: f"/customers/segments/{w['segment'].pk}/"),
    ("am", lambda w: "/customers/contacts/due/"),
    ("am", lambda w: "/customers/visits/"),
    ("manager", lambda w: "/customers/visits/?show=all"),
    ("manager", lambda w: "/customers/grades/"),
]


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_list_pages_run_a_fixed_number_of_queries(
    client, world, who, url, django_assert_max_num_queries
):
    contact_plan_create(
        actor=world["director"], name="维护", customer_class="maintenance", interval_days=30
    )
    client.force_login(world[who])
    _grow(world, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(world)).status_code == 200

    _grow(world, 55)  # more than a page
    with django_assert_max_num_queries(16):
        response = client.get(url(world))

    assert response.status_code == 200
    with CaptureQueriesContext(connection) as large:
        client.get(url(world))
    assert len(large) == len(small)
