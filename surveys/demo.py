"""Demo surveys: the default 7 × 26 framework and two campaigns a quarter apart.

Run after the customers, loans and grid demos (customers are invited with their loan stage and
grid). Head office runs a second-quarter campaign (closed) and a third-quarter one (open) over
城关 and 谢桥 branches; customers answer on visits, through their link or on paper, with a few
incomplete questionnaires and one straight-liner. Quadrant II indicators of the first campaign get
improvement items, and the second campaign shows them moving. 城关支行 also drafts a survey of
its own and follows a finding of its own, and so does 谢桥支行; staff of both branches file
process feedback.
Deterministic (fixed random seed) and idempotent: the framework is found by code, campaigns by
name, items by title, feedback by its text.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from coop.models import OrgUnit, User
from coop.scoping import scope_root
from surveys.defaults import DEFAULT_FRAMEWORK_CODE, DEFAULT_FRAMEWORK_NAME, default_indicator_rows
from surveys.models import (
    Campaign,
    Framework,
    ImprovementItem,
    Invitation,
    ProcessFeedback,
    ProcessOwner,
    Response,
)
from surveys.services import (
    campaign_close,
    campaign_create,
    campaign_open,
    feedback_file,
    framework_create,
    improvement_advance,
    improvement_open,
    response_submit,
)

# Typical importance and satisfaction per indicator, shaped on seed 002's findings: the
# interest-rate standard is the strongest point; feedback channels, fee openness and business
# expansion sit on the satisfied/unsatisfied boundary; e-banking is just below; branch layout and
# the business hall matter little and satisfy little.
PROFILE = {
    "A01": (4.4, 4.2), "A02": (4.3, 3.8), "A03": (4.2, 4.1), "A04": (3.9, 4.2),
    "B01": (4.6, 4.1), "B02": (4.7, 4.3), "B03": (4.3, 4.0),
    "C01": (4.2, 4.4), "C02": (4.1, 4.6), "C03": (3.8, 4.3), "C04": (4.4, 4.6),
    "D01": (4.8, 4.7), "D02": (4.3, 3.9), "D03": (4.4, 4.0), "D04": (4.1, 4.0),
    "E01": (3.9, 4.0), "E02": (4.5, 3.9), "E03": (4.3, 3.95), "E04": (4.0, 3.9),
    "F01": (3.7, 3.8), "F02": (3.3, 3.5), "F03": (3.2, 3.4), "F04": (3.6, 4.1),
    "G01": (4.3, 3.9), "G02": (3.8, 4.2), "G03": (4.0, 3.9),
}  # fmt: skip
# What improved by the next quarter after the improvement items of the first one.
IMPROVED = {"G01": 0.35, "D02": 0.3, "E02": 0.2}

COMMENTS = [
    "希望贷款审批再快一些",
    "客户经理服务很热情",
    "手机银行操作有点复杂",
    "建议营业厅增加座椅",
    "收费项目希望公示得更清楚",
    "",
]

CAMPAIGNS = [
    ("2026年二季度信贷服务满意度调查", date(2026, 4, 1), date(2026, 4, 30), True),
    ("2026年三季度信贷服务满意度调查", date(2026, 7, 1), date(2026, 7, 31), False),
]
# Branches run surveys of their own too: drafted by the manager, not yet opened.
# (manager's username, name, starts, ends)
BRANCH_CAMPAIGNS = [
    ("b1_manager", "城关支行2026年岁末客户回访调查", date(2026, 12, 1), date(2026, 12, 31)),
    ("b2_manager", "谢桥支行2026年岁末农户回访调查", date(2026, 12, 1), date(2026, 12, 31)),
]
# What a branch improves on its own, on an indicator of the bank-wide campaign:
# (manager, owner, indicator code, title, finding, plan).
BRANCH_ITEMS = [
    (
        "b1_manager",
        "b1_am2",
        "F03",
        "城关支行：营业厅等候区增设座椅和叫号屏",
        "二季度问卷中多位客户反映营业厅等候座位不足、叫号不清。",
        "本月内在城关支行营业部、管仲路分理处各增设座椅十个，并安装叫号显示屏。",
    ),
    (
        "b2_manager",
        "b2_am1",
        "B01",
        "谢桥支行：春耕前开展集中预授信",
        "农户反映春耕前贷款集中，审批排队时间长。",
        "春节后两周内分村开展集中预授信，旺季前完成续授信户的额度复核。",
    ),
]
# (username of who files it, source, text) — all about the loan approval process.
FEEDBACK = [
    (
        "b1_am1",
        "customer",
        "多位客户反映续贷时需要重复提交已提供过的材料，建议前序环节已收集的资料不再要求重复提交。",
    ),
    (
        "b2_am1",
        "staff",
        "谢桥片区农户集中在春耕前申请贷款，审批排队时间较长，建议旺季前开展集中预授信。",
    ),
]


def _framework() -> Framework:
    existing = Framework.objects.filter(code=DEFAULT_FRAMEWORK_CODE).order_by("version").first()
    if existing:
        return existing
    return framework_create(
        actor=None,
        code=DEFAULT_FRAMEWORK_CODE,
        name=DEFAULT_FRAMEWORK_NAME[0],
        name_en=DEFAULT_FRAMEWORK_NAME[1],
        description="依据顾客满意度指数模型(ACSI)和服务质量差距模型(SERVQUAL)设置7个一级指标、26个二级指标。",
        indicators=default_indicator_rows(),
    )


def _score(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.65))))


def _answers(rng: random.Random, codes: list[str], lift: dict) -> list[dict]:
    answers = []
    for code in codes:
        imp, sat = PROFILE[code]
        answers.append(
            {
                "indicator": code,
                "importance": _score(rng, imp),
                "satisfaction": _score(rng, sat + lift.get(code, 0)),
            }
        )
    return answers


def _respond(campaign: Campaign, rng: random.Random, lift: dict) -> int:
    codes = list(PROFILE)
    invitations = list(
        Invitation.objects.filter(campaign=campaign, responded_at__isnull=True)
        .select_related("customer__owner")
        .order_by("reference")
    )
    start = timezone.make_aware(datetime.combine(campaign.starts_on, datetime.min.time()))
    straight_done = False
    count = 0
    for n, invitation in enumerate(invitations):
        if rng.random() > 0.72:
            continue  # not everybody answers
        answers = _answers(rng, codes, lift)
        roll = rng.random()
        if roll < 0.06:
            for answer in rng.sample(answers, 3):
                answer["satisfaction"] = None  # an incomplete questionnaire
        elif not straight_done and n > 20:
            answers = [{"indicator": c, "importance": 5, "satisfaction": 5} for c in codes]
            straight_done = True
        channel = rng.choice(["visit", "visit", "link", "paper"])
        actor = None if channel == "link" else invitation.customer.owner
        response = response_submit(
            invitation=invitation,
            answers=answers,
            channel=channel,
            actor=actor,
            comment=rng.choice(COMMENTS),
        )
        # Spread the answers over the campaign's weeks so lists read like a real campaign.
        when = start + timedelta(days=rng.randint(0, 25), hours=rng.randint(8, 17))
        Response.objects.filter(pk=response.pk).update(submitted_at=when)
        Invitation.objects.filter(pk=invitation.pk).update(responded_at=when)
        count += 1
    return count


@transaction.atomic
def seed() -> str:
    director = User.objects.filter(username="director").first()
    if director is None:
        return "skipped (no demo staff)"
    framework = _framework()
    branches = list(OrgUnit.objects.filter(code__in=["B01", "B02"]))
    rng = random.Random(20260401)
    created = responses = 0
    campaigns = []
    for name, starts, ends, close in CAMPAIGNS:
        campaign = Campaign.objects.filter(name=name).first()
        if campaign is None:
            campaign = campaign_create(
                actor=director,
                name=name,
                framework=framework,
                period=Campaign.Period.QUARTERLY,
                starts_on=starts,
                ends_on=ends,
                target_branches=branches,
                respondent_roles=["finance_contact", "legal_representative"],
                anonymity="branch",
            )
            campaign = campaign_open(actor=director, campaign=campaign)
            lift = IMPROVED if campaigns else {}
            responses += _respond(campaign, rng, lift)
            if close:
                campaign = campaign_close(actor=director, campaign=campaign)
            created += 1
        campaigns.append(campaign)
    items = _improvements(director, campaigns[0])
    branch_campaigns = _branch_campaign(framework)
    items += _branch_improvement(campaigns[0])
    feedback = _feedback(director)
    return (
        f"{created} campaigns, {responses} responses, {items} improvement items, "
        f"{branch_campaigns} branch campaigns, {feedback} feedback"
    )


def _branch_campaign(framework: Framework) -> int:
    made = 0
    for username, name, starts, ends in BRANCH_CAMPAIGNS:
        manager = User.objects.filter(username=username).first()
        if manager is None or Campaign.objects.filter(name=name).exists():
            continue
        campaign_create(
            actor=manager,
            name=name,
            framework=framework,
            period=Campaign.Period.QUARTERLY,
            starts_on=starts,
            ends_on=ends,
            target_branches=[scope_root(manager)],
            respondent_roles=["finance_contact", "legal_representative"],
            anonymity="branch",
        )
        made += 1
    return made


def _branch_improvement(campaign: Campaign) -> int:
    made = 0
    for username, owner_name, code, title, finding, plan in BRANCH_ITEMS:
        manager = User.objects.filter(username=username).first()
        owner = User.objects.filter(username=owner_name).first()
        if manager is None or owner is None or ImprovementItem.objects.filter(title=title).exists():
            continue
        improvement_open(
            actor=manager,
            title=title,
            owner=owner,
            level=ImprovementItem.Level.SAME_LEVEL,
            finding=finding,
            plan=plan,
            due_on=timezone.localdate() + timedelta(days=45),
            campaign=campaign,
            indicator=campaign.framework.indicators.get(code=code),
        )
        made += 1
    return made


def _improvements(director: User, campaign: Campaign) -> int:
    from surveys.analysis import campaign_analysis

    b1_manager = User.objects.filter(username="b1_manager").first() or director
    result = campaign_analysis(user=director, campaign=campaign)
    second = [row for row in result["indicators"] if row["quadrant"] == 2][:3]
    made = 0
    for number, row in enumerate(second):
        title = f"改进：{row['name']}"
        if ImprovementItem.objects.filter(title=title).exists():
            continue
        item = improvement_open(
            actor=director,
            title=title,
            owner=b1_manager if number % 2 == 0 else director,
            level=ImprovementItem.Level.SAME_LEVEL if number else ImprovementItem.Level.ESCALATED,
            finding=f"重要度 {row['importance_mean']}，满意度 {row['satisfaction_mean']}，"
            "位于第二象限。",
            plan="梳理客户意见，制定整改措施，下季度调查复核。",
            due_on=timezone.localdate() + timedelta(days=30),
            campaign=campaign,
            indicator=campaign.framework.indicators.get(code=row["code"]),
        )
        made += 1
        if number == 0:
            improvement_advance(
                actor=director, item=item, action="start", note="已在各网点公示收费项目"
            )
        if number == 2:
            # One item left past its date, so the ledger shows what "overdue" looks like.
            ImprovementItem.objects.filter(pk=item.pk).update(
                due_on=timezone.localdate() - timedelta(days=5)
            )
    return made


def _feedback(director: User) -> int:
    ProcessOwner.objects.get_or_create(process="贷款审批流程", defaults={"owner": director})
    filed = 0
    for username, source, text in FEEDBACK:
        staff = User.objects.filter(username=username).first()
        if staff is None or ProcessFeedback.objects.filter(text=text).exists():
            continue
        feedback_file(actor=staff, process="贷款审批流程", source=source, text=text)
        filed += 1
    return filed
