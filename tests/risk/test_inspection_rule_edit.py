"""Head office edits the inspection rule on the rules page: the new values plan the inspections
created afterwards, the change is audited, bad values change nothing, and nobody else may."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from coop.models import AuditEvent
from coop.roles import Role
from coop.services import DomainError
from risk.inspections import first_due_on, inspection_rule, inspection_rule_update
from risk.models import Inspection, InspectionRule
from tests.risk.test_inspection_factories import (
    D,
    loan_for,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)

FORM = {
    "amount_threshold": "50000.00",
    "first_months_small": "2",
    "first_days_large": "10",
    "routine_months": "3",
    "overdue_days_for_ad_hoc": "15",
    "ad_hoc_due_days": "5",
    "branch_grace_days": "3",
    "head_office_grace_days": "20",
}


def values(rule: InspectionRule) -> dict:
    return {name: str(getattr(rule, name)) for name in FORM}


def test_head_office_saves_the_rule_and_new_loans_follow_it(client, staff, org):
    client.force_login(staff.director)
    page = client.get(reverse("risk:rules"))
    assert 'data-testid="inspection-rule-form"' in page.content.decode()

    response = client.post(reverse("risk:inspection_rule_edit"), FORM)

    assert response.status_code == 302 and response["Location"] == reverse("risk:rules")
    rule = inspection_rule()
    assert values(rule) == FORM
    event = AuditEvent.objects.get(action="inspection_rule.update")
    assert event.actor == staff.director
    assert event.data["before"]["first_days_large"] == "7"
    assert event.data["after"]["first_days_large"] == "10"
    # ¥60,000 is now above the threshold: first inspection within 10 days, not a month.
    loan = loan_for(org, staff, amount="60000.00", on=date(2025, 3, 2))
    first = Inspection.objects.get(loan=loan)
    assert first.due_on == date(2025, 3, 12)
    assert first_due_on(rule=rule, principal=D("50000.00"), disbursed_on=date(2025, 3, 2)) == (
        date(2025, 5, 2)
    )
    # Saving the same values again records nothing.
    client.post(reverse("risk:inspection_rule_edit"), FORM)
    assert AuditEvent.objects.filter(action="inspection_rule.update").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("head_office_grace_days", "3"),  # not after the branch manager
        ("first_days_large", "0"),
        ("amount_threshold", "-1"),
        ("routine_months", "abc"),
    ],
)
def test_bad_values_say_why_and_change_nothing(client, staff, field, value):
    before = values(inspection_rule())
    client.force_login(staff.director)
    client.cookies["django_language"] = "en"

    response = client.post(
        reverse("risk:inspection_rule_edit"), {**FORM, field: value}, follow=True
    )

    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors, "a refused change must say why"
    assert values(inspection_rule()) == before
    assert not AuditEvent.objects.filter(action="inspection_rule.update").exists()


def test_the_service_checks_the_order_of_escalations_itself(staff):
    with pytest.raises(DomainError) as refused:
        inspection_rule_update(actor=staff.director, branch_grace_days=40)
    with translation.override("en"):
        assert "more days" in str(refused.value.message)
    assert inspection_rule().branch_grace_days == 7


def test_nobody_but_head_office_edits_the_rule(client, staff, make_staff):
    before = values(inspection_rule())
    branch_management = make_staff(Role.MANAGEMENT, unit="B01", username="mgmt_b1")
    for user in (staff.manager, staff.risk, staff.hq_risk, staff.am, branch_management):
        client.force_login(user)
        assert client.post(reverse("risk:inspection_rule_edit"), FORM).status_code == 403
    assert values(inspection_rule()) == before
    client.force_login(staff.director)
    assert client.get(reverse("risk:inspection_rule_edit")).status_code == 405


# --- the API ------------------------------------------------------------------------------------


def api_for(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_reads_and_changes_the_rule_like_the_page(staff):
    url = "/api/v1/inspection-rule/"
    director = api_for(staff.director)
    read = director.get(url)
    assert read.status_code == 200
    assert read.json()["amount_threshold"] == "100000.00"
    assert read.json()["routine_months"] == 6

    changed = director.patch(url, {"routine_months": 4, "amount_threshold": "80000"}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["routine_months"], changed.json()["amount_threshold"]) == (
        4,
        "80000.00",
    )
    rule = inspection_rule()
    assert (rule.routine_months, rule.amount_threshold) == (4, D("80000.00"))
    event = AuditEvent.objects.get(action="inspection_rule.update")
    assert event.actor == staff.director and event.data["after"]["routine_months"] == "4"

    # Bad values: the field's reason, nothing changed, nothing audited.
    for bad, field in (
        ({"routine_months": 0}, "routine_months"),
        ({"branch_grace_days": 40}, "head_office_grace_days"),
        ({"amount_threshold": "-1"}, "amount_threshold"),
        ({"first_days_large": "many"}, "first_days_large"),
    ):
        refused = director.patch(url, bad, format="json")
        assert refused.status_code == 400 and field in refused.json(), (bad, refused.content)
    assert values(inspection_rule()) == values(rule)
    assert AuditEvent.objects.filter(action="inspection_rule.update").count() == 1


@pytest.mark.parametrize("who", ["hq_risk", "risk", "manager", "am", "other_manager"])
def test_only_management_reads_or_changes_the_rule_through_the_api(staff, who):
    # The rule belongs with the routing rules: management at head office keeps them.
    api = api_for(getattr(staff, who))
    before = values(inspection_rule())
    assert api.get("/api/v1/inspection-rule/").status_code == 403
    response = api.patch("/api/v1/inspection-rule/", {"routine_months": 2}, format="json")
    assert response.status_code == 403
    assert values(inspection_rule()) == before
    assert not AuditEvent.objects.filter(action="inspection_rule.update").exists()
