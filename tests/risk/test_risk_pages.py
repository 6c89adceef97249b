"""The approval pages: queue, case page (route diagram, trail, actions), submitting for approval,
transitions through the page with their error answers, the committee pages and the rules page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from coop.roles import Role
from loans.models import LoanApplication
from risk import services
from risk.models import ApprovalCase, ApprovalLog, RoutingRuleSet, Stage


def _page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def test_queue_lists_the_cases_waiting_for_the_user_oldest_first(client, open_case, team):
    first = open_case("low")
    second = open_case("low")
    ApprovalCase.objects.filter(pk=second.pk).update(
        stage_entered_at=first.stage_entered_at - timedelta(hours=30)
    )

    response = _page(client, team.branch_risk, reverse("risk:queue"))

    assert response.status_code == 200
    rows = [row.case.pk for row in response.context["rows"]]
    assert rows == [second.pk, first.pk]
    # credit granting has a 24-hour target: the older case is overdue and highlighted
    assert [row.overdue for row in response.context["rows"]] == [True, False]
    assert response.content.decode().count('data-overdue="1"') == 1


def test_account_manager_sees_their_returned_case_waiting_and_all_their_open_cases(
    client, open_case, team
):
    case = open_case("medium")
    case = services.approval_case_return(case=case, actor=team.branch_risk, comment="补充收入证明")
    assert case.state == Stage.APPLICATION

    waiting = _page(client, team.am_a, reverse("risk:queue"))
    everything = client.get(reverse("risk:queue") + "?view=open")

    assert [row.case.pk for row in waiting.context["rows"]] == [case.pk]
    assert [row.case.pk for row in everything.context["rows"]] == [case.pk]
    assert [
        row.case.pk for row in _page(client, team.am_b, reverse("risk:queue")).context["rows"]
    ] == []


def test_case_page_shows_the_route_diagram_trail_and_actions(client, open_case, drive, team):
    case = drive(open_case("high"), Stage.CREDIT_REVIEW)

    response = _page(client, team.hq_risk2, reverse("risk:case", args=[case.pk]))

    assert response.status_code == 200
    steps = [(step.stage, step.status) for step in response.context["steps"]]
    assert steps == [
        ("application", "done"),
        ("acceptance_review", "done"),
        ("investigation", "done"),
        ("credit_review", "current"),
        ("loan_approval", "todo"),
        ("contract_review", "todo"),
        ("payment_condition_review", "todo"),
        ("disbursement", "todo"),
    ]
    body = response.content.decode()
    assert body.count('data-testid="trail-row"') == 3
    assert 'data-status="current"' in body
    assert [a["name"] for a in response.context["actions"]] == [
        "advance",
        "return_for_information",
        "reject",
    ]


def test_advancing_through_the_page(client, open_case, team):
    case = open_case("low")
    client.force_login(team.branch_risk)

    response = client.post(
        reverse("risk:case_transition", args=[case.pk]),
        {"transition": "advance", "comment": "额度核定", "state": "credit_granting"},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == Stage.APPROVAL
    assert ApprovalLog.objects.filter(case=case).latest("id").comment == "额度核定"


def test_page_answers_403_for_a_user_who_may_not_and_changes_nothing(client, open_case, team):
    case = open_case("low")
    case = services.approval_case_advance(case=case, actor=team.hq_risk1)
    client.force_login(team.hq_risk1)  # completed the previous stage, credit granting
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(
        reverse("risk:case_transition", args=[case.pk]),
        {"transition": "advance", "comment": "", "state": "approval"},
    )

    assert response.status_code == 403
    assert "You completed the previous stage of this case" in response.content.decode()
    case.refresh_from_db()
    assert case.state == Stage.APPROVAL
    assert ApprovalLog.objects.filter(case=case).count() == 2


def test_page_answers_409_when_the_case_moved_on(client, open_case, team):
    case = open_case("low")
    services.approval_case_advance(case=case, actor=team.branch_risk)
    client.force_login(team.hq_risk1)

    response = client.post(
        reverse("risk:case_transition", args=[case.pk]),
        {"transition": "advance", "comment": "", "state": "credit_granting"},
    )

    assert response.status_code == 409
    case.refresh_from_db()
    assert case.state == Stage.APPROVAL


def test_page_answers_400_for_a_rejection_without_reason(client, open_case, team):
    case = open_case("low")
    client.force_login(team.branch_risk)

    response = client.post(
        reverse("risk:case_transition", args=[case.pk]),
        {"transition": "reject", "comment": "收入不足", "state": "credit_granting"},
    )

    assert response.status_code == 400
    case.refresh_from_db()
    assert case.state == Stage.CREDIT_GRANTING


def test_submit_for_approval_from_the_list(client, make_customer, make_application, team):
    customer = make_customer()
    application = make_application(customer, "farmer-microcredit", "4500")
    client.force_login(team.am_a)

    listing = client.get(reverse("risk:open_list"))
    response = client.post(reverse("risk:case_open", args=[application.pk]))

    assert [a.pk for a in listing.context["applications"]] == [application.pk]
    case = ApprovalCase.objects.get(application=application)
    assert response.status_code == 302
    assert response["Location"] == reverse("risk:case", args=[case.pk])
    assert (case.route, case.state) == ("low", Stage.CREDIT_GRANTING)
    assert LoanApplication.objects.get(pk=application.pk).state == "submitted"
    assert list(client.get(reverse("risk:open_list")).context["applications"]) == []


def test_another_account_manager_cannot_submit_someone_elses_application(
    client, make_customer, make_application, make_staff
):
    application = make_application(make_customer(), "farmer-microcredit", "4500")
    stranger = make_staff(Role.ACCOUNT_MANAGER)
    client.force_login(stranger)

    response = client.post(reverse("risk:case_open", args=[application.pk]))

    assert response.status_code == 404
    assert not ApprovalCase.objects.filter(application=application).exists()
    assert LoanApplication.objects.get(pk=application.pk).state == "draft"


def test_roles_without_the_permission_get_403(client, open_case, make_staff):
    case = open_case("low")
    teller = make_staff(Role.TELLER, unit="B01-01")
    client.force_login(teller)

    assert client.get(reverse("risk:queue")).status_code == 403
    assert client.get(reverse("risk:case", args=[case.pk])).status_code == 403
    assert client.get(reverse("risk:timing")).status_code == 403
    assert client.get(reverse("risk:rules")).status_code == 403


@pytest.mark.parametrize(
    ("role", "unit", "url_name"),
    [
        (Role.ACCOUNT_MANAGER, "B01", "risk:queue"),
        (Role.ACCOUNT_MANAGER, "B01", "risk:open_list"),
        (Role.RISK_OFFICER, "HQ", "risk:queue"),
        (Role.BRANCH_MANAGER, "B01", "risk:queue"),
        (Role.BRANCH_MANAGER, "B01", "risk:timing"),
        (Role.LOAN_COMMITTEE, "HQ", "risk:queue"),
        (Role.LOAN_COMMITTEE, "HQ", "risk:meetings"),
        (Role.MANAGEMENT, "HQ", "risk:timing"),
        (Role.MANAGEMENT, "HQ", "risk:rules"),
        (Role.MANAGEMENT, "HQ", "risk:rules_edit"),
    ],
)
def test_each_workbench_page_opens_for_its_roles(
    client, make_staff, risk_config, role, unit, url_name
):
    client.force_login(make_staff(role, unit=unit))

    assert client.get(reverse(url_name)).status_code == 200


def test_head_office_publishes_a_new_version_of_the_routing_rules(client, make_staff, risk_config):
    director = make_staff(Role.MANAGEMENT, unit="HQ")
    client.force_login(director)
    form = client.get(reverse("risk:rules_edit")).context["formset"]
    data = {
        "rules-TOTAL_FORMS": "2",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-position": "2",
        "rules-0-name": "其他",
        "rules-0-route": "high",
        "rules-1-position": "1",
        "rules-1-name": "个人小额",
        "rules-1-route": "low",
        "rules-1-customer_kind": "individual",
        "rules-1-amount_up_to": "50000",
        "comment": "简化规则",
    }
    before = RoutingRuleSet.objects.order_by("-version").first().version

    response = client.post(reverse("risk:rules_edit"), data)

    assert len(form.forms) == 10  # the nine default rules and one empty card
    assert response.status_code == 302
    latest = RoutingRuleSet.objects.order_by("-version").first()
    assert latest.version == before + 1
    assert latest.comment == "简化规则"
    assert [(r.position, r.name, r.route, r.amount_up_to) for r in latest.rules.all()] == [
        (1, "个人小额", "low", 50000),
        (2, "其他", "high", None),
    ]


def test_a_branch_manager_cannot_edit_the_rules(client, make_staff, risk_config):
    client.force_login(make_staff(Role.BRANCH_MANAGER))
    before = RoutingRuleSet.objects.count()

    response = client.post(reverse("risk:rules_edit"), {"rules-TOTAL_FORMS": "0"})

    assert response.status_code == 403
    assert RoutingRuleSet.objects.count() == before


def test_application_link_leads_to_its_case(client, open_case, team):
    case = open_case("low")
    client.force_login(team.branch_risk)

    response = client.get(reverse("risk:application_case", args=[case.application_id]))

    assert response.status_code == 302
    assert response["Location"] == reverse("risk:case", args=[case.pk])
