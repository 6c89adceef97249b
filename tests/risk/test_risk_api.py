"""The approval API: list and detail with the trail, transitions answering 200/400/403/404/409,
the current user's available transitions, opening a case, and the OpenAPI schema."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from coop.roles import Role
from risk.models import ApprovalCase, ApprovalLog, Stage


@pytest.fixture
def api():
    return APIClient()


def _as(api, user):
    api.force_authenticate(user)
    return api


def test_list_and_detail_with_trail(api, open_case, team):
    case = open_case("low")

    listing = _as(api, team.branch_risk).get("/api/v1/approval-cases/")
    detail = api.get(f"/api/v1/approval-cases/{case.pk}/")

    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    row = listing.json()["results"][0]
    assert (row["id"], row["route"], row["state"], row["amount"]) == (
        case.pk,
        "low",
        "credit_granting",
        "4000.00",
    )
    assert row["target_hours"] == 24
    assert row["overdue"] is False
    body = detail.json()
    assert [(t["from_state"], t["to_state"], t["transition"]) for t in body["trail"]] == [
        ("application", "credit_granting", "submit")
    ]
    assert body["routing"]["ruleset_version"] == 1
    assert body["routing"]["rule"]["name"] == "评级额度内的农户小额信用贷款"
    assert [(s["stage"], s["status"]) for s in body["route_stages"]] == [
        ("application", "done"),
        ("credit_granting", "current"),
        ("approval", "todo"),
        ("disbursement", "todo"),
    ]
    assert body["available_transitions"] == ["advance", "return_for_information", "reject"]


def test_transition_200_moves_the_case(api, open_case, team):
    case = open_case("low")

    response = _as(api, team.branch_risk).post(
        f"/api/v1/approval-cases/{case.pk}/transitions/",
        {"transition": "advance", "comment": "额度三千", "state": "credit_granting"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["state"] == "approval"
    assert response.json()["trail"][-1]["comment"] == "额度三千"


def test_transition_403_for_a_user_whose_role_does_not_work_the_stage(api, open_case, team):
    case = open_case("low")

    response = _as(api, team.branch_manager).post(
        f"/api/v1/approval-cases/{case.pk}/transitions/", {"transition": "advance"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert "Credit granting" in response.json()["detail"] or "授信" in response.json()["detail"]
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.CREDIT_GRANTING
    assert ApprovalLog.objects.filter(case=case).count() == 1


def test_transition_409_when_not_possible_from_the_state(api, open_case, team):
    case = open_case("low")

    response = _as(api, team.branch_risk).post(
        f"/api/v1/approval-cases/{case.pk}/transitions/",
        {"transition": "sign_investigation", "comment": "x"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    assert ApprovalLog.objects.filter(case=case).count() == 1


def test_transition_409_when_the_case_moved_on_since_the_client_read_it(api, open_case, team):
    case = open_case("low")

    response = _as(api, team.branch_risk).post(
        f"/api/v1/approval-cases/{case.pk}/transitions/",
        {"transition": "advance", "state": "approval"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert ApprovalCase.objects.get(pk=case.pk).state == Stage.CREDIT_GRANTING


def test_transition_400_for_bad_input(api, open_case, team):
    case = open_case("low")
    _as(api, team.branch_risk)

    unknown = api.post(
        f"/api/v1/approval-cases/{case.pk}/transitions/", {"transition": "fly"}, format="json"
    )
    no_comment = api.post(
        f"/api/v1/approval-cases/{case.pk}/transitions/",
        {"transition": "return_for_information"},
        format="json",
    )

    assert unknown.status_code == 400
    assert "transition" in unknown.json()
    assert no_comment.status_code == 400
    assert no_comment.json()["code"] == "required"
    assert ApprovalLog.objects.filter(case=case).count() == 1


def test_available_transitions_for_the_current_user(api, open_case, team):
    case = open_case("low")

    officer = _as(api, team.branch_risk).get(
        f"/api/v1/approval-cases/{case.pk}/available-transitions/"
    )
    manager = _as(api, team.am_a).get(f"/api/v1/approval-cases/{case.pk}/available-transitions/")

    assert [t["name"] for t in officer.json()] == ["advance", "return_for_information", "reject"]
    assert officer.json()[2]["needs_reason"] is True
    assert [t["name"] for t in manager.json()] == ["withdraw"]


def test_open_a_case_through_the_api(api, make_customer, make_application, team):
    application = make_application(make_customer(), "white-collar", "80000")

    response = _as(api, team.am_a).post(
        "/api/v1/approval-cases/", {"application": application.pk}, format="json"
    )
    again = api.post("/api/v1/approval-cases/", {"application": application.pk}, format="json")

    assert response.status_code == 201
    assert (response.json()["route"], response.json()["state"]) == ("medium", "review")
    assert again.status_code == 201
    assert again.json()["id"] == response.json()["id"]
    assert ApprovalCase.objects.filter(application=application).count() == 1


def test_roles_without_permission_get_403(api, open_case, make_staff):
    case = open_case("low")
    teller = make_staff(Role.TELLER, unit="B01-01")
    _as(api, teller)

    assert api.get("/api/v1/approval-cases/").status_code == 403
    assert api.get(f"/api/v1/approval-cases/{case.pk}/").status_code == 403
    assert api.get("/api/v1/approval-stats/").status_code == 403
    response = api.post(
        f"/api/v1/approval-cases/{case.pk}/transitions/", {"transition": "advance"}, format="json"
    )
    assert response.status_code == 403
    assert ApprovalLog.objects.filter(case=case).count() == 1


def test_the_schema_documents_the_endpoints(client, make_staff):
    client.force_login(make_staff(Role.SYSADMIN, unit="HQ"))

    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    transitions = paths["/api/v1/approval-cases/{id}/transitions/"]["post"]
    assert set(transitions["responses"]) == {"200", "400", "401", "403", "404", "409"}
    assert "/api/v1/approval-cases/{id}/available-transitions/" in paths
    assert "/api/v1/approval-stats/" in paths
    assert "/api/v1/committee-meetings/{id}/votes/" in paths
