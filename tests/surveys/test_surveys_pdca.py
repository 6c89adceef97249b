"""Improvement items through plan → do → check → act → closed, and the problem ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from surveys.models import ImprovementItem, Invitation
from surveys.services import improvement_advance, improvement_open
from tests.surveys.conftest import HAND_RESPONSES, answers_of, make_customers, submit


@pytest.fixture
def campaign(org, sv, small_framework, make_campaign):
    make_customers(org, sv.am, 3)
    campaign = make_campaign(small_framework)
    for invitation, values in zip(
        Invitation.objects.filter(campaign=campaign).order_by("reference"),
        HAND_RESPONSES,
        strict=True,
    ):
        submit(invitation, answers_of(values))
    return campaign


def open_item(sv, campaign, **kw):
    values = {
        "actor": sv.manager,
        "title": "收费公开性不足",
        "owner": sv.am,
        "level": "same_level",
        "plan": "在营业厅和手机银行公示收费项目",
        "due_on": timezone.localdate() + timedelta(days=30),
        "campaign": campaign,
        "indicator": campaign.framework.indicators.get(code="P2"),
    }
    values.update(kw)
    return improvement_open(**values)


def test_full_lifecycle_with_audit(sv, campaign):
    item = open_item(sv, campaign)
    assert item.state == "plan"
    assert item.baseline_satisfaction == D("2.3333")
    assert item.org_unit == sv.manager.org_unit
    item = improvement_advance(actor=sv.am, item=item, action="start", note="已制定公示清单")
    item = improvement_advance(actor=sv.am, item=item, action="check", note="客户反馈有改善")
    item = improvement_advance(actor=sv.manager, item=item, action="act", note="推广到全部网点")
    item = improvement_advance(actor=sv.manager, item=item, action="close", note="整改完成")
    assert item.state == "closed"
    assert item.closed_at is not None
    assert item.notes.count("\n") == 3
    trail = list(
        AuditEvent.objects.filter(object_type="surveys.improvementitem", object_id=str(item.pk))
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )
    assert trail == [
        ("survey_improvement.open", "", "plan"),
        ("survey_improvement.start", "plan", "do"),
        ("survey_improvement.check", "do", "check"),
        ("survey_improvement.act", "check", "act"),
        ("survey_improvement.close", "act", "closed"),
    ]


def test_check_can_send_the_item_back_to_plan(sv, campaign):
    item = open_item(sv, campaign)
    improvement_advance(actor=sv.am, item=item, action="start")
    improvement_advance(actor=sv.am, item=item, action="check", note="效果不明显")
    item = improvement_advance(actor=sv.am, item=item, action="replan", note="重新制定措施")
    assert item.state == "plan"


@pytest.mark.parametrize("action", ["check", "act", "close", "replan"])
def test_steps_out_of_order_are_refused_and_change_nothing(sv, campaign, action):
    item = open_item(sv, campaign)
    with pytest.raises(ConflictError):
        improvement_advance(actor=sv.am, item=item, action=action, note="x")
    stored = ImprovementItem.objects.get(pk=item.pk)
    assert (stored.state, stored.notes) == ("plan", "")
    assert not AuditEvent.objects.filter(action=f"survey_improvement.{action}").exists()


def test_check_needs_a_note(sv, campaign):
    item = open_item(sv, campaign)
    improvement_advance(actor=sv.am, item=item, action="start")
    with pytest.raises(DomainError):
        improvement_advance(actor=sv.am, item=item, action="check", note=" ")
    assert ImprovementItem.objects.get(pk=item.pk).state == "do"


def test_only_owner_or_manager_moves_an_item(sv, campaign, make_staff):
    item = open_item(sv, campaign)
    stranger = make_staff("account_manager", unit="B01")
    with pytest.raises(PermissionDenied):
        improvement_advance(actor=stranger, item=item, action="start")
    assert ImprovementItem.objects.get(pk=item.pk).state == "plan"


def test_opening_is_checked(sv, campaign):
    with pytest.raises(DomainError):
        open_item(sv, campaign, due_on=timezone.localdate() - timedelta(days=1))
    with pytest.raises(DomainError):
        open_item(sv, campaign, owner=sv.other_am)  # another branch's staff
    with pytest.raises(PermissionDenied):
        open_item(sv, campaign, actor=sv.am)
    assert ImprovementItem.objects.count() == 0


def test_ledger_highlights_overdue_and_is_scoped(client, sv, campaign):
    item = open_item(sv, campaign)
    late = open_item(sv, campaign, title="网点布局")
    ImprovementItem.objects.filter(pk=late.pk).update(
        due_on=timezone.localdate() - timedelta(days=3)
    )
    client.force_login(sv.manager)
    page = client.get("/surveys/ledger/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="overdue-row"') == 1
    assert item.title in html and late.title in html
    client.force_login(sv.other_manager)
    assert late.title not in client.get("/surveys/ledger/").content.decode()
    assert client.get(f"/surveys/improvements/{late.pk}/").status_code == 404


def test_next_campaign_shows_whether_the_indicator_moved(
    sv, campaign, small_framework, make_campaign
):
    from datetime import date

    from surveys.analysis import movement

    item = open_item(sv, campaign)
    later = make_campaign(small_framework, starts_on=date(2026, 7, 1))
    better = answers_of(HAND_RESPONSES[0])
    for invitation in Invitation.objects.filter(campaign=later)[:2]:
        submit(invitation, better)
    moved = movement(user=sv.manager, items=[ImprovementItem.objects.get(pk=item.pk)])
    assert moved[item.pk][0] == later
    assert moved[item.pk][1] == D("3.0000")


def test_api_open_and_advance(client, sv, campaign):
    client.force_login(sv.manager)
    answer = client.post(
        "/api/v1/surveys/improvements/",
        {
            "title": "反馈渠道",
            "owner": sv.am.pk,
            "level": "escalated",
            "plan": "开通意见反馈热线",
            "due_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
            "campaign": campaign.pk,
            "indicator": "P2",
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    step = client.post(
        f"/api/v1/surveys/improvements/{pk}/advance/",
        {"action": "close", "note": "x"},
        content_type="application/json",
    )
    assert step.status_code == 409
    ok = client.post(
        f"/api/v1/surveys/improvements/{pk}/advance/",
        {"action": "start"},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["state"] == "do"


def test_process_feedback_goes_to_the_owner_who_answers_once(sv):
    from surveys.models import ProcessFeedback, ProcessOwner
    from surveys.services import feedback_answer, feedback_file

    ProcessOwner.objects.create(process="授信审批", owner=sv.director)
    feedback = feedback_file(
        actor=sv.am, process="授信审批", source="staff", text="同一材料在两个环节重复收集"
    )
    assert (feedback.routed_to, feedback.org_unit) == (sv.director, sv.am.org_unit)
    with pytest.raises(PermissionDenied):
        feedback_answer(actor=sv.manager, feedback=feedback, answer="x")
    feedback_answer(actor=sv.director, feedback=feedback, answer="已修订流程，取消重复收集")
    with pytest.raises(ConflictError):
        feedback_answer(actor=sv.director, feedback=feedback, answer="again")
    stored = ProcessFeedback.objects.get(pk=feedback.pk)
    assert (stored.status, stored.answer) == ("answered", "已修订流程，取消重复收集")
    with pytest.raises(DomainError):
        feedback_file(actor=sv.am, process="", source="staff", text="x")
    assert ProcessFeedback.objects.count() == 1
