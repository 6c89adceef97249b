"""Complaints and suggestions: the lifecycle over every (state, transition) pair, deadlines per
severity, who may do what, scoping in pages and API, API status codes and query budgets."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.forms.models import model_to_dict
from django.urls import reverse
from rest_framework.test import APIClient

from coop.models import AuditEvent
from coop.roles import Role, sync_roles
from coop.services import ConflictError, DomainError
from customers.models import Complaint, Customer
from customers.services.service import (
    complaint_assign,
    complaint_close,
    complaint_due_at,
    complaint_receive,
    complaint_reopen,
    complaint_resolve,
    complaint_respond,
    complaint_transition,
)

SH = ZoneInfo("Asia/Shanghai")
S = Complaint.State


@pytest.fixture(autouse=True)
def roles_synced(db):
    # See test_service_interactions: the shared role sync misses this app's permissions.
    sync_roles()


@pytest.fixture
def staff(org, make_staff):
    return {
        "teller": make_staff(Role.TELLER, unit="B01-01", username="teller"),
        "am": make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am"),
        "am2": make_staff(Role.ACCOUNT_MANAGER, unit="B01", username="am2"),
        "manager": make_staff(Role.BRANCH_MANAGER, unit="B01", username="manager"),
        "manager_b2": make_staff(Role.BRANCH_MANAGER, unit="B02", username="manager_b2"),
        "teller_b2": make_staff(Role.TELLER, unit="B02-01", username="teller_b2"),
        "director": make_staff(Role.MANAGEMENT, unit="HQ", username="director"),
        "risk": make_staff(Role.RISK_OFFICER, unit="B01", username="risk"),
    }


@pytest.fixture
def customer(org, staff):
    return Customer.objects.create(
        kind="individual", name="王五", branch=org["B01"], owner=staff["am"]
    )


def receive(actor, **changes):
    values = {
        "kind": "complaint",
        "channel": "counter",
        "subject": "Queue too long",
        "description": "Waited an hour for a withdrawal.",
        "contact_name": "王先生",
    }
    values.update(changes)
    return complaint_receive(actor=actor, **values)


def put_in_state(complaint: Complaint, state: str, assignee) -> Complaint:
    """Test set-up only: place a complaint in ``state`` without walking the machine."""
    Complaint.objects.filter(pk=complaint.pk).update(
        state=state, assignee=None if state == S.RECEIVED else assignee
    )
    return Complaint.objects.get(pk=complaint.pk)


def snapshot(complaint: Complaint) -> dict:
    return model_to_dict(Complaint.objects.get(pk=complaint.pk))


def trail(complaint: Complaint) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(object_type="customers.complaint", object_id=str(complaint.pk))
        .order_by("id")
        .values_list("action", "from_state", "to_state", "actor__username", "comment")
    )


# --- receiving and deadlines ------------------------------------------------------------------


def test_receive_sets_branch_deadline_and_writes_the_first_trail_row(org, staff, customer):
    received_at = dt.datetime(2026, 3, 10, 10, 0, tzinfo=SH)

    complaint = receive(staff["teller"], customer=customer, received_at=received_at)

    row = Complaint.objects.get(pk=complaint.pk)
    assert row.state == S.RECEIVED
    assert row.branch == org["B01"]
    assert row.customer == customer
    assert row.received_by == staff["teller"]
    assert row.due_at == dt.datetime(2026, 3, 25, 23, 59, 59, 999999, tzinfo=SH)
    assert row.escalation_level == 0
    assert trail(row) == [("complaint.receive", "", "received", "teller", "Queue too long")]


@pytest.mark.parametrize(
    ("severity", "due_day"),
    [
        ("normal", dt.date(2026, 3, 25)),
        ("complex", dt.date(2026, 4, 9)),
        ("urgent", dt.date(2026, 3, 15)),
    ],
)
def test_due_dates_per_severity_end_of_the_shanghai_day(staff, severity, due_day):
    complaint = receive(
        staff["teller"],
        severity=severity,
        received_at=dt.datetime(2026, 3, 10, 8, 0, tzinfo=SH),
    )

    due = Complaint.objects.get(pk=complaint.pk).due_at.astimezone(SH)
    assert (due.date(), due.time()) == (due_day, dt.time(23, 59, 59, 999999))


def test_due_date_counts_from_the_shanghai_day_of_receipt():
    # 16:30 UTC on the 10th is 00:30 on the 11th in Shanghai
    late = complaint_due_at(
        received_at=dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC), severity="urgent"
    )
    assert late == dt.datetime(2026, 3, 16, 23, 59, 59, 999999, tzinfo=SH)


def test_due_days_come_from_settings(settings):
    settings.COMPLAINT_DUE_DAYS = {"normal": 10}

    due = complaint_due_at(received_at=dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH), severity="normal")
    urgent = complaint_due_at(
        received_at=dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH), severity="urgent"
    )

    assert due.date() == dt.date(2026, 3, 20)
    assert urgent.date() == dt.date(2026, 3, 15)  # the default where the setting is silent


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"description": ""}, "description"),
        ({"kind": "praise"}, "kind"),
        ({"channel": "fax"}, "channel"),
        ({"severity": "critical"}, "severity"),
        ({"contact_name": ""}, "contact_name"),
    ],
)
def test_receive_refuses_bad_input_and_saves_nothing(staff, changes, field):
    with pytest.raises(DomainError) as refused:
        receive(staff["teller"], **changes)

    assert refused.value.field == field
    assert Complaint.objects.count() == 0
    assert AuditEvent.objects.filter(object_type="customers.complaint").count() == 0


def test_receive_refuses_a_customer_of_another_branch(staff, customer):
    with pytest.raises(DomainError) as refused:
        receive(staff["teller_b2"], customer=customer)

    assert refused.value.field == "customer"
    assert Complaint.objects.count() == 0


def test_management_without_add_permission_cannot_receive(staff):
    with pytest.raises(PermissionDenied):
        receive(staff["director"])
    assert Complaint.objects.count() == 0


# --- the lifecycle, every (state, transition) pair --------------------------------------------

ALLOWED = {
    (S.RECEIVED, "assign"): (S.ASSIGNED, "complaint.assign"),
    (S.ASSIGNED, "assign"): (S.ASSIGNED, "complaint.reassign"),
    (S.RESPONDED, "assign"): (S.ASSIGNED, "complaint.reassign"),
    (S.ASSIGNED, "respond"): (S.RESPONDED, "complaint.respond"),
    (S.ASSIGNED, "resolve"): (S.RESOLVED, "complaint.resolve"),
    (S.RESPONDED, "resolve"): (S.RESOLVED, "complaint.resolve"),
    (S.RESOLVED, "close"): (S.CLOSED, "complaint.close"),
    (S.RESOLVED, "reopen"): (S.ASSIGNED, "complaint.reopen"),
    (S.CLOSED, "reopen"): (S.ASSIGNED, "complaint.reopen"),
}
PAIRS = [
    (state, name)
    for state in S.values
    for name in ("assign", "respond", "resolve", "close", "reopen")
]


def run(name, *, actor, complaint, assignee):
    if name == "assign":
        return complaint_assign(actor=actor, complaint=complaint, assignee=assignee, comment="c")
    if name == "respond":
        return complaint_respond(actor=actor, complaint=complaint, text="We apologised.")
    if name == "resolve":
        return complaint_resolve(actor=actor, complaint=complaint, text="Second window opened.")
    if name == "close":
        return complaint_close(actor=actor, complaint=complaint, comment="Customer satisfied.")
    return complaint_reopen(actor=actor, complaint=complaint, reason="Customer called again.")


@pytest.mark.parametrize(("state", "name"), PAIRS)
def test_every_state_and_transition(staff, state, name):
    complaint = put_in_state(receive(staff["teller"]), state, assignee=staff["am"])
    before, before_trail = snapshot(complaint), trail(complaint)
    manager = staff["manager"]

    if (state, name) in ALLOWED:
        target, action = ALLOWED[(state, name)]
        run(name, actor=manager, complaint=complaint, assignee=staff["am2"])
        after = Complaint.objects.get(pk=complaint.pk)
        assert after.state == target
        new_rows = trail(after)[len(before_trail) :]
        assert [(a, f, t, who) for a, f, t, who, _comment in new_rows] == [
            (action, state, target, "manager")
        ]
    else:
        with pytest.raises(ConflictError) as refused:
            run(name, actor=manager, complaint=complaint, assignee=staff["am2"])
        assert refused.value.status_code == 409
        assert snapshot(complaint) == before
        assert trail(complaint) == before_trail


def test_transitions_fill_the_fields_the_customer_page_shows(staff, customer):
    complaint = receive(staff["teller"], customer=customer)
    manager, am = staff["manager"], staff["am"]

    complaint_assign(actor=manager, complaint=complaint, assignee=am)
    complaint_respond(actor=am, complaint=complaint, text="  We called back.  ")
    complaint_resolve(actor=am, complaint=complaint, text="Fee refunded.")
    complaint_close(actor=manager, complaint=complaint, comment="")

    row = Complaint.objects.get(pk=complaint.pk)
    assert (row.state, row.assignee, row.response, row.resolution) == (
        S.CLOSED,
        am,
        "We called back.",
        "Fee refunded.",
    )
    assert row.responded_at <= row.resolved_at <= row.closed_at
    assert [(a, f, t, who) for a, f, t, who, _c in trail(row)] == [
        ("complaint.receive", "", "received", "teller"),
        ("complaint.assign", "received", "assigned", "manager"),
        ("complaint.respond", "assigned", "responded", "am"),
        ("complaint.resolve", "responded", "resolved", "am"),
        ("complaint.close", "resolved", "closed", "manager"),
    ]

    complaint_reopen(actor=manager, complaint=row, reason="Refund never arrived.")
    reopened = Complaint.objects.get(pk=complaint.pk)
    assert (reopened.state, reopened.assignee, reopened.reopen_count) == (S.ASSIGNED, am, 1)
    assert (reopened.resolved_at, reopened.closed_at) == (None, None)
    assert trail(reopened)[-1] == (
        "complaint.reopen",
        "closed",
        "assigned",
        "manager",
        "Refund never arrived.",
    )


@pytest.mark.parametrize(
    ("state", "name"),
    [(S.ASSIGNED, "respond"), (S.RESPONDED, "resolve"), (S.CLOSED, "reopen")],
)
def test_text_is_required_and_blank_changes_nothing(staff, state, name):
    complaint = put_in_state(receive(staff["teller"]), state, assignee=staff["am"])
    before, before_trail = snapshot(complaint), trail(complaint)

    with pytest.raises(DomainError) as refused:
        complaint_transition(actor=staff["manager"], complaint=complaint, transition=name, text=" ")

    assert refused.value.status_code == 400
    assert refused.value.field == "text"
    assert snapshot(complaint) == before
    assert trail(complaint) == before_trail


def test_assignee_must_handle_complaints_of_that_branch(staff):
    complaint = receive(staff["teller"])
    before = snapshot(complaint)

    for wrong in (staff["manager_b2"], staff["risk"], None):
        with pytest.raises(DomainError) as refused:
            complaint_assign(actor=staff["manager"], complaint=complaint, assignee=wrong)
        assert refused.value.field == "assignee"
    assert snapshot(complaint) == before

    # head office may take a case over
    complaint_assign(actor=staff["manager"], complaint=complaint, assignee=staff["director"])
    assert Complaint.objects.get(pk=complaint.pk).assignee == staff["director"]


# --- who may do what --------------------------------------------------------------------------


def test_teller_may_not_assign_close_or_reopen(staff):
    complaint = receive(staff["teller"])
    before = snapshot(complaint)

    with pytest.raises(PermissionDenied):
        complaint_assign(actor=staff["teller"], complaint=complaint, assignee=staff["am"])
    resolved = put_in_state(complaint, S.RESOLVED, assignee=staff["am"])
    with pytest.raises(PermissionDenied):
        complaint_close(actor=staff["teller"], complaint=resolved)
    with pytest.raises(PermissionDenied):
        complaint_reopen(actor=staff["teller"], complaint=resolved, reason="x")
    assert Complaint.objects.get(pk=complaint.pk).state == S.RESOLVED
    assert len(trail(complaint)) == 1
    assert before["state"] == S.RECEIVED


def test_assignee_may_respond_and_resolve_their_own_case_only(staff, customer):
    complaint = put_in_state(receive(staff["teller"], customer=customer), S.ASSIGNED, staff["am"])

    with pytest.raises(PermissionDenied):
        complaint_respond(actor=staff["teller"], complaint=complaint, text="not mine")
    complaint_respond(actor=staff["am"], complaint=complaint, text="answered")
    complaint_resolve(actor=staff["am"], complaint=complaint, text="done")

    assert Complaint.objects.get(pk=complaint.pk).state == S.RESOLVED
    with pytest.raises(PermissionDenied):
        complaint_close(actor=staff["am"], complaint=complaint)


def test_concurrent_transitions_one_wins_the_other_gets_409(transactional_db, org, make_staff):
    sync_roles()
    teller = make_staff(Role.TELLER, unit="B01-01")
    manager = make_staff(Role.BRANCH_MANAGER, unit="B01")
    handler = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    complaint = put_in_state(receive(teller), S.RESOLVED, assignee=handler)
    barrier = threading.Barrier(2)
    outcomes = []

    def close():
        try:
            barrier.wait()
            complaint_close(actor=manager, complaint=complaint, comment="closing")
            outcomes.append("closed")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["closed", "conflict"]
    assert [a for a, *_ in trail(complaint)] == ["complaint.receive", "complaint.close"]


# --- scoping ----------------------------------------------------------------------------------


def test_account_manager_sees_only_their_customers_and_their_own_cases(staff, customer, org):
    mine = receive(staff["teller"], customer=customer)
    walk_in = receive(staff["teller"])
    received_by_am2 = receive(staff["am2"])
    from customers.services.service import complaints_visible

    assert set(complaints_visible(staff["am"])) == {mine}
    assert set(complaints_visible(staff["am2"])) == {received_by_am2}
    assert set(complaints_visible(staff["teller"])) == {mine, walk_in, received_by_am2}
    assert set(complaints_visible(staff["manager_b2"])) == set()
    assert set(complaints_visible(staff["director"])) == {mine, walk_in, received_by_am2}
    assert set(complaints_visible(staff["risk"])) == set()


def test_another_branch_complaint_is_404_in_pages_and_never_listed(client, staff):
    theirs = receive(staff["teller_b2"], subject="B02 case")
    ours = receive(staff["teller"], subject="B01 case")
    client.force_login(staff["manager"])

    assert client.get(reverse("customers:complaint_detail", args=[theirs.pk])).status_code == 404
    posted = client.post(
        reverse("customers:complaint_transition", args=[theirs.pk]),
        {"transition": "assign", "assignee": staff["manager_b2"].pk},
    )
    assert posted.status_code == 404
    listed = client.get(reverse("customers:complaints"), {"state": "all"})
    assert [c.pk for c in listed.context["page_obj"]] == [ours.pk]
    assert "B02 case" not in listed.content.decode()
    assert Complaint.objects.get(pk=theirs.pk).state == S.RECEIVED


def test_another_branch_complaint_is_404_in_the_api_and_never_listed(staff):
    theirs = receive(staff["teller_b2"])
    ours = receive(staff["teller"])
    api = APIClient()
    api.force_authenticate(staff["manager"])

    assert api.get(f"/api/v1/complaints/{theirs.pk}/").status_code == 404
    response = api.post(
        f"/api/v1/complaints/{theirs.pk}/transitions/",
        {"transition": "assign", "assignee": staff["manager_b2"].pk},
        format="json",
    )
    assert response.status_code == 404
    listed = api.get("/api/v1/complaints/").json()
    assert [row["id"] for row in listed["results"]] == [ours.pk]
    assert Complaint.objects.get(pk=theirs.pk).state == S.RECEIVED


def test_new_complaint_preselects_a_customer_in_scope_only(client, staff, customer, org):
    client.force_login(staff["teller"])
    ok = client.get(reverse("customers:complaint_new"), {"customer": customer.pk})
    assert ok.status_code == 200
    assert ok.context["selected_customer"] == customer

    client.force_login(staff["teller_b2"])
    assert (
        client.get(reverse("customers:complaint_new"), {"customer": customer.pk}).status_code == 404
    )


# --- pages ------------------------------------------------------------------------------------


def test_receive_page_then_assign_and_answer_through_the_detail_page(client, staff, customer):
    client.force_login(staff["teller"])
    response = client.post(
        reverse("customers:complaint_new"),
        {
            "kind": "complaint",
            "channel": "phone",
            "severity": "urgent",
            "customer": customer.pk,
            "subject": "Card swallowed",
            "description": "The ATM kept the card.",
        },
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:complaint_detail", args=[complaint.pk])
    assert (complaint.channel, complaint.severity, complaint.customer) == (
        "phone",
        "urgent",
        customer,
    )

    client.force_login(staff["manager"])
    detail = client.get(reverse("customers:complaint_detail", args=[complaint.pk]))
    assert detail.context["actions"] == ["assign"]
    assert staff["am"] in detail.context["assignees"]
    url = reverse("customers:complaint_transition", args=[complaint.pk])
    assert client.post(url, {"transition": "assign", "assignee": staff["am"].pk}).status_code == 302

    client.force_login(staff["am"])
    assert client.get(reverse("customers:complaint_detail", args=[complaint.pk])).context[
        "actions"
    ] == ["respond", "resolve"]
    assert client.post(url, {"transition": "respond", "text": "Card returned."}).status_code == 302
    body = client.get(reverse("customers:complaint_detail", args=[complaint.pk])).content.decode()
    assert body.count('data-testid="trail-item"') == 3
    assert "Card returned." in body


def test_transition_page_answers_403_400_and_409(client, staff):
    complaint = receive(staff["teller"])
    url = reverse("customers:complaint_transition", args=[complaint.pk])

    client.force_login(staff["teller"])
    assert client.post(url, {"transition": "assign", "assignee": staff["am"].pk}).status_code == 403
    client.force_login(staff["manager"])
    assert client.post(url, {"transition": "close", "text": "done"}).status_code == 409
    assert client.post(url, {"transition": "assign", "assignee": 999999}).status_code == 400
    assert client.post(url, {"transition": "fly"}).status_code == 400
    assert Complaint.objects.get(pk=complaint.pk).state == S.RECEIVED
    assert len(trail(complaint)) == 1


def test_list_filters_overdue_escalated_and_kind(client, staff):
    overdue = receive(staff["teller"], received_at=dt.datetime(2026, 1, 1, 9, 0, tzinfo=SH))
    fresh = receive(staff["teller"], kind="suggestion")
    escalated = receive(staff["teller"], received_at=dt.datetime(2026, 1, 2, 9, 0, tzinfo=SH))
    Complaint.objects.filter(pk=escalated.pk).update(escalation_level=2)
    client.force_login(staff["director"])
    url = reverse("customers:complaints")

    def ids(**params):
        return {c.pk for c in client.get(url, params).context["page_obj"]}

    assert ids() == {overdue.pk, fresh.pk, escalated.pk}
    assert ids(overdue="true") == {overdue.pk, escalated.pk}
    assert ids(overdue="false") == {fresh.pk}
    assert ids(escalated="head_office") == {escalated.pk}
    assert ids(escalated="branch") == set()
    assert ids(kind="suggestion") == {fresh.pk}
    assert ids(state="resolved") == set()
    # the open queue puts escalated cases first, then the nearest deadline
    queue = [c.pk for c in client.get(url).context["page_obj"]]
    assert queue == [escalated.pk, overdue.pk, fresh.pk]


def test_complaint_pages_are_for_the_roles_that_hold_the_permission(client, staff):
    complaint = receive(staff["teller"])
    for name in ("teller", "am", "manager", "director"):
        client.force_login(staff[name])
        assert client.get(reverse("customers:complaints")).status_code == 200, name
    client.force_login(staff["risk"])
    assert client.get(reverse("customers:complaints")).status_code == 403
    assert client.get(reverse("customers:complaint_detail", args=[complaint.pk])).status_code == 403
    client.force_login(staff["director"])
    assert client.get(reverse("customers:complaint_new")).status_code == 403


def test_complaint_list_page_has_a_fixed_number_of_queries(
    client, staff, customer, django_assert_max_num_queries
):
    client.force_login(staff["manager"])
    for _ in range(3):
        complaint_assign(
            actor=staff["manager"],
            complaint=receive(staff["teller"], customer=customer),
            assignee=staff["am"],
        )
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("customers:complaints"))
    for _ in range(60):
        receive(staff["teller"], customer=customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("customers:complaints"))
    assert len(response.context["page_obj"]) == 50


# --- API --------------------------------------------------------------------------------------


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_receive_and_walk_the_lifecycle(staff, customer):
    created = api_for(staff["teller"]).post(
        "/api/v1/complaints/",
        {
            "kind": "suggestion",
            "channel": "online",
            "customer": customer.pk,
            "subject": "Open on Saturdays",
            "description": "Please open the outlet on Saturday mornings.",
        },
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["state"] == "received"
    assert [event["action"] for event in created.json()["trail"]] == ["complaint.receive"]

    manager = api_for(staff["manager"])
    url = f"/api/v1/complaints/{pk}/transitions/"
    assigned = manager.post(
        url, {"transition": "assign", "assignee": staff["am"].pk}, format="json"
    )
    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == {"id": staff["am"].pk, "name": staff["am"].name}
    resolved = api_for(staff["am"]).post(
        url, {"transition": "resolve", "comment": "Saturday opening from May."}, format="json"
    )
    assert resolved.status_code == 200
    assert resolved.json()["resolution"] == "Saturday opening from May."
    detail = manager.get(f"/api/v1/complaints/{pk}/").json()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in detail["trail"]] == [
        ("complaint.receive", "", "received"),
        ("complaint.assign", "received", "assigned"),
        ("complaint.resolve", "assigned", "resolved"),
    ]
    root = manager.get("/api/v1/").json()
    assert root["complaints"].endswith("/api/v1/complaints/")
    assert root["service-summary"].endswith("/api/v1/service-summary/")


def test_api_transition_status_codes(staff):
    complaint = receive(staff["teller"])
    url = f"/api/v1/complaints/{complaint.pk}/transitions/"

    teller_assigns = api_for(staff["teller"]).post(
        url, {"transition": "assign", "assignee": staff["am"].pk}, format="json"
    )
    assert teller_assigns.status_code == 403

    manager = api_for(staff["manager"])
    illegal = manager.post(url, {"transition": "close"}, format="json")
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "illegal_transition"

    assert manager.post(url, {"transition": "fly"}, format="json").status_code == 400
    no_assignee = manager.post(url, {"transition": "assign", "assignee": 999999}, format="json")
    assert no_assignee.status_code == 400
    assert list(no_assignee.json()) == ["assignee", "code"]
    assert (
        manager.post(
            "/api/v1/complaints/999999/transitions/", {"transition": "close"}, format="json"
        ).status_code
        == 404
    )

    assert Complaint.objects.get(pk=complaint.pk).state == S.RECEIVED
    assert len(trail(complaint)) == 1


def test_api_respond_without_text_is_400(staff):
    complaint = put_in_state(receive(staff["teller"]), S.ASSIGNED, staff["am"])

    response = api_for(staff["am"]).post(
        f"/api/v1/complaints/{complaint.pk}/transitions/", {"transition": "respond"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["text", "code"]
    assert Complaint.objects.get(pk=complaint.pk).state == S.ASSIGNED


def test_api_receive_refuses_management_and_bad_input(staff):
    director = api_for(staff["director"])
    body = {
        "kind": "complaint",
        "channel": "phone",
        "subject": "s",
        "description": "d",
        "contact_name": "x",
    }
    assert director.post("/api/v1/complaints/", body, format="json").status_code == 403

    teller = api_for(staff["teller"])
    assert (
        teller.post("/api/v1/complaints/", {**body, "channel": "fax"}, format="json").status_code
        == 400
    )
    assert (
        teller.post("/api/v1/complaints/", {**body, "contact_name": ""}, format="json").status_code
        == 400
    )
    assert Complaint.objects.count() == 0


def test_api_list_filters_and_has_a_fixed_number_of_queries(
    staff, customer, django_assert_max_num_queries
):
    api = api_for(staff["director"])
    escalated = receive(staff["teller"], customer=customer)
    Complaint.objects.filter(pk=escalated.pk).update(escalation_level=2)
    with django_assert_max_num_queries(8) as few:
        api.get("/api/v1/complaints/")
    for _ in range(30):
        complaint_assign(
            actor=staff["manager"],
            complaint=receive(staff["teller"], customer=customer),
            assignee=staff["am"],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = api.get("/api/v1/complaints/")
    assert listed.json()["count"] == 31

    to_head_office = api.get("/api/v1/complaints/", {"escalated": "head_office"}).json()
    assert [row["id"] for row in to_head_office["results"]] == [escalated.pk]
    assert api.get("/api/v1/complaints/", {"state": "lost"}).status_code == 400
