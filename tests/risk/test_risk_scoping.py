"""Scoping: another branch's case (and its meeting) is 404 in pages and API and never in a list;
account managers see only their own customers' cases; head office sees every branch."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coop.roles import Role
from risk import services
from risk.models import ApprovalLog, Stage


@pytest.fixture
def b02_case(open_case, make_staff):
    owner = make_staff(Role.ACCOUNT_MANAGER, unit="B02", username="b2_am")
    return open_case("low", branch="B02", owner=owner, b_manager=None)


def test_another_branchs_case_is_404_in_pages_and_never_listed(client, b02_case, open_case, team):
    own = open_case("low")
    client.force_login(team.branch_risk)

    detail = client.get(reverse("risk:case", args=[b02_case.pk]))
    transition = client.post(
        reverse("risk:case_transition", args=[b02_case.pk]),
        {"transition": "advance", "state": "credit_granting"},
    )
    listed = {
        view: [
            row.case.pk
            for row in client.get(f"{reverse('risk:queue')}?view={view}").context["rows"]
        ]
        for view in ("waiting", "open", "closed")
    }

    assert detail.status_code == 404
    assert transition.status_code == 404
    assert listed == {"waiting": [own.pk], "open": [own.pk], "closed": []}
    assert ApprovalLog.objects.filter(case=b02_case).count() == 1


def test_another_branchs_case_is_404_in_the_api_and_never_listed(b02_case, open_case, team):
    own = open_case("low")
    api = APIClient()
    api.force_authenticate(team.branch_risk)

    listing = api.get("/api/v1/approval-cases/").json()
    detail = api.get(f"/api/v1/approval-cases/{b02_case.pk}/")
    available = api.get(f"/api/v1/approval-cases/{b02_case.pk}/available-transitions/")
    transition = api.post(
        f"/api/v1/approval-cases/{b02_case.pk}/transitions/",
        {"transition": "advance"},
        format="json",
    )

    assert [row["id"] for row in listing["results"]] == [own.pk]
    assert (detail.status_code, available.status_code, transition.status_code) == (404, 404, 404)
    assert ApprovalLog.objects.filter(case=b02_case).count() == 1


def test_head_office_sees_every_branch(client, b02_case, open_case, team):
    own = open_case("low")
    client.force_login(team.hq_risk1)

    rows = client.get(reverse("risk:queue") + "?view=open").context["rows"]

    assert sorted(row.case.pk for row in rows) == sorted([own.pk, b02_case.pk])
    assert client.get(reverse("risk:case", args=[b02_case.pk])).status_code == 200


def test_account_managers_see_only_their_own_customers_cases(client, open_case, team, make_staff):
    case = open_case("low")
    colleague = make_staff(Role.ACCOUNT_MANAGER, username="colleague")
    api = APIClient()

    api.force_authenticate(colleague)
    assert api.get("/api/v1/approval-cases/").json()["count"] == 0
    assert api.get(f"/api/v1/approval-cases/{case.pk}/").status_code == 404
    api.force_authenticate(team.am_b)  # the B-role manager sees the customer's cases
    assert api.get(f"/api/v1/approval-cases/{case.pk}/").status_code == 200


def test_another_branchs_committee_meeting_is_hidden_from_a_branch(
    client, open_case, drive, team, make_staff
):
    case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)
    meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])
    b02_officer = make_staff(Role.RISK_OFFICER, unit="B02")
    client.force_login(b02_officer)
    api = APIClient()
    api.force_authenticate(b02_officer)

    assert client.get(reverse("risk:meeting", args=[meeting.pk])).status_code == 404
    assert list(client.get(reverse("risk:meetings")).context["meetings"]) == []
    assert api.get(f"/api/v1/committee-meetings/{meeting.pk}/").status_code == 404
    assert api.get("/api/v1/committee-meetings/").json()["count"] == 0
