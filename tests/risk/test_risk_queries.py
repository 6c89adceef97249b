"""Every list page and list endpoint takes a fixed number of queries, whatever the number of
cases and meetings (measured with a few and with many)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coop.roles import Role
from risk import services
from risk.models import Stage


@pytest.fixture
def grow(open_case, drive, team):
    """Add ``n`` committee cases (with a meeting and a vote) and ``n`` low-route cases."""

    def add(n: int):
        for _ in range(n):
            case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)
            meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])
            services.committee_vote_cast(meeting=meeting, actor=team.committee[1], vote="approve")
            drive(open_case("low"), Stage.APPROVED)
            open_case("medium")

    return add


# (who, url, budget): the budgets are what the pages take today plus nothing for the rows.
PAGES = [
    ("hq_risk1", reverse("risk:queue"), 9),
    ("hq_risk1", reverse("risk:queue") + "?view=open", 8),
    ("hq_risk1", reverse("risk:queue") + "?view=closed", 8),
    ("member", reverse("risk:queue"), 11),
    ("member", reverse("risk:meetings"), 7),
    ("am_a", reverse("risk:queue"), 8),
    ("am_a", reverse("risk:open_list"), 7),
    ("director", reverse("risk:timing"), 8),
    ("director", reverse("risk:timing") + "?by=month", 8),
    ("director", reverse("risk:rules"), 12),  # + the inspection rule
    ("director", reverse("risk:rules_edit"), 9),
    ("hq_risk1", "/api/v1/approval-cases/", 8),
    ("hq_risk1", "/api/v1/approval-cases/?view=waiting", 9),
    ("member", "/api/v1/committee-meetings/", 7),
    ("director", "/api/v1/approval-stats/?by=branch", 7),
]


@pytest.mark.parametrize(("who", "url", "budget"), PAGES)
def test_list_pages_take_a_fixed_number_of_queries(
    client, grow, team, make_staff, django_assert_max_num_queries, who, url, budget
):
    people = {
        "hq_risk1": team.hq_risk1,
        "member": team.committee[2],
        "am_a": team.am_a,
        "director": make_staff(Role.MANAGEMENT, unit="HQ"),
    }
    client.force_login(people[who])
    for size in (1, 4):
        grow(size)
        with django_assert_max_num_queries(budget):
            response = client.get(url)
        assert response.status_code == 200


def test_case_and_meeting_pages_take_a_fixed_number_of_queries(
    client, open_case, drive, team, django_assert_max_num_queries
):
    api = APIClient()
    api.force_authenticate(team.committee[2])
    client.force_login(team.committee[2])
    for _ in range(2):
        case = drive(open_case("high", amount="3500000"), Stage.LOAN_APPROVAL)
        meeting = services.committee_meeting_convene(case=case, actor=team.committee[0])
        for member in team.committee[:4]:
            services.committee_vote_cast(meeting=meeting, actor=member, vote="approve")
        with django_assert_max_num_queries(16):
            assert client.get(reverse("risk:case", args=[case.pk])).status_code == 200
        with django_assert_max_num_queries(8):
            assert client.get(reverse("risk:meeting", args=[meeting.pk])).status_code == 200
        with django_assert_max_num_queries(14):
            assert api.get(f"/api/v1/approval-cases/{case.pk}/").status_code == 200
        with django_assert_max_num_queries(8):
            assert api.get(f"/api/v1/committee-meetings/{meeting.pk}/").status_code == 200
