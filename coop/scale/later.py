"""Rows of the apps that build on loans: post-loan inspections and early warnings (risk), and
satisfaction survey responses (surveys).

Each part runs only when its models are installed, so the county dataset can be built on any
state of the tree; the command's counts say which parts were written.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.db import transaction

from coop.scale.copy import CopyWriter, reserve_ids

INSPECTION_COLUMNS = (
    "id",
    "loan_id",
    "customer_id",
    "branch_id",
    "kind",
    "reason",
    "status",
    "due_on",
    "assigned_to_id",
    "escalation_level",
    "created_at",
    "completed_at",
    "completed_on",
    "on_time",
    "completed_by_id",
    "funds_use",
    "funds_use_note",
    "operation_note",
    "guarantor_note",
    "collateral_note",
    "signals",
    "conclusion",
    "next_action",
)
NOTICE_COLUMNS = (
    "inspection_id",
    "level",
    "recipient_id",
    "org_unit_id",
    "days_overdue",
    "created_at",
)
WARNING_COLUMNS = (
    "loan_id",
    "customer_id",
    "branch_id",
    "inspection_id",
    "signals",
    "summary",
    "status",
    "raised_at",
    "acknowledged_by_id",
    "acknowledged_at",
    "closed_by_id",
    "closed_at",
    "close_comment",
    "classification_review_id",
    "ad_hoc_inspection_id",
)


def _has(app_label: str, model: str) -> bool:
    try:
        apps.get_model(app_label, model)
    except LookupError:
        return False
    return True


def generate(builder) -> dict[str, int]:
    counts: dict[str, int] = {}
    if _has("risk", "Inspection"):
        counts.update(inspections(builder))
    if _has("surveys", "Response"):
        counts.update(surveys(builder))
    return counts


@transaction.atomic
def inspections(builder) -> dict[str, int]:
    """Every disbursed loan's inspection history by the inspection rule: the first one, then
    routine ones six months after each completion, most on time; live loans keep one open
    (due, or overdue with its notices and escalation level as the hourly sweep leaves them);
    loans overdue beyond the rule's limit have their ad-hoc inspection; an inspection concluded
    "risk" raised an early warning."""
    from risk.inspections import first_due_on, inspection_rule, routine_due_on

    rng = builder.rng
    today = builder.today
    rule = inspection_rule()
    facts = builder.loan_facts
    # A loan has at most one inspection per six months of its life, plus an ad-hoc one.
    cap = sum(2 + max(0, (today - f[5]).days) // 150 for f in facts)
    first_id = next_id = reserve_ids("risk_inspection", cap)
    inspections_w = CopyWriter("risk_inspection", INSPECTION_COLUMNS)
    notices_w = CopyWriter("risk_inspectionnotice", NOTICE_COLUMNS)
    warnings_w = CopyWriter("risk_earlywarning", WARNING_COLUMNS)
    hq = builder.hq.pk
    for loan_id, customer, branch, owner, principal, start, state, dpd, settled_on in facts:
        end = settled_on or today
        due = first_due_on(rule=rule, principal=Decimal(principal), disbursed_on=start)
        kind = "first"
        while True:
            inspection_id = next_id
            next_id += 1
            created = builder.at(start if kind == "first" else due - timedelta(days=180), 9)
            if due >= end or (
                due < today and state in ("active", "overdue") and rng.random() < 0.04
            ):
                # Still open: the last one of a live loan (a few left undone past their date).
                if state not in ("active", "overdue"):
                    next_id -= 1
                    break
                days_over = (today - due).days
                if days_over > 0:
                    level = (
                        1
                        + (days_over >= rule.branch_grace_days)
                        + (days_over >= rule.head_office_grace_days)
                    )
                    for lv in range(1, level + 1):
                        notices_w.add(
                            (
                                inspection_id,
                                lv,
                                owner.pk if lv == 1 else None,
                                branch.unit.pk if lv < 3 else hq,
                                days_over,
                                builder.at(today, 7),
                            )
                        )
                    status = "overdue"
                else:
                    level, status = 0, "due"
                inspections_w.add(
                    (
                        inspection_id,
                        loan_id,
                        customer,
                        branch.unit.pk,
                        kind,
                        "schedule",
                        status,
                        due,
                        owner.pk,
                        level,
                        created,
                        None,
                        None,
                        None,
                        None,
                        "",
                        "",
                        "",
                        "",
                        "",
                        [],
                        "",
                        "",
                    )
                )
                break
            late = rng.random() < 0.08
            done_on = (
                due + timedelta(days=rng.randrange(1, 20))
                if late
                else due - timedelta(days=rng.randrange(0, 12))
            )
            done_on = max(done_on, start)
            if done_on >= today:
                done_on = today - timedelta(days=1)
            conclusion = rng.choices(("normal", "attention", "risk"), (86, 11, 3))[0]
            if state in ("overdue", "written_off") and rng.random() < 0.4:
                conclusion = "risk"
            signals = ["income_fell"] if conclusion != "normal" else []
            inspections_w.add(
                (
                    inspection_id,
                    loan_id,
                    customer,
                    branch.unit.pk,
                    kind,
                    "schedule",
                    "completed",
                    due,
                    owner.pk,
                    0,
                    created,
                    builder.at(done_on, 15),
                    done_on,
                    done_on <= due,
                    owner.pk,
                    "matches" if conclusion == "normal" else "partly",
                    "",
                    "经营正常" if conclusion == "normal" else "收入下降",
                    "",
                    "",
                    signals,
                    conclusion,
                    "",
                )
            )
            if conclusion == "risk":
                status = rng.choices(("open", "acknowledged", "closed"), (50, 25, 25))[0]
                risk = branch.risk.pk
                raised = builder.at(done_on, 15)
                warnings_w.add(
                    (
                        loan_id,
                        customer,
                        branch.unit.pk,
                        inspection_id,
                        signals or ["income_fell"],
                        "贷后检查发现风险信号",
                        status,
                        raised,
                        risk if status != "open" else None,
                        raised + timedelta(days=1) if status != "open" else None,
                        risk if status == "closed" else None,
                        raised + timedelta(days=10) if status == "closed" else None,
                        "已落实风险缓释措施" if status == "closed" else "",
                        None,
                        None,
                    )
                )
            due = routine_due_on(rule=rule, completed_on=done_on)
            kind = "routine"
        if state == "overdue" and dpd > rule.overdue_days_for_ad_hoc:
            # The sweep planned it the day the loan passed the limit.
            planned = today - timedelta(days=dpd - rule.overdue_days_for_ad_hoc - 1)
            ad_hoc_due = planned + timedelta(days=rule.ad_hoc_due_days)
            inspection_id = next_id
            next_id += 1
            days_over = (today - ad_hoc_due).days
            status, level = (
                ("due", 0)
                if days_over <= 0
                else (
                    "overdue",
                    1
                    + (days_over >= rule.branch_grace_days)
                    + (days_over >= rule.head_office_grace_days),
                )
            )
            for lv in range(1, level + 1):
                notices_w.add(
                    (
                        inspection_id,
                        lv,
                        owner.pk if lv == 1 else None,
                        branch.unit.pk if lv < 3 else hq,
                        days_over,
                        builder.at(today, 7),
                    )
                )
            inspections_w.add(
                (
                    inspection_id,
                    loan_id,
                    customer,
                    branch.unit.pk,
                    "ad_hoc",
                    "loan_overdue",
                    status,
                    ad_hoc_due,
                    owner.pk,
                    level,
                    builder.at(planned, 2),
                    None,
                    None,
                    None,
                    None,
                    "",
                    "",
                    "",
                    "",
                    "",
                    [],
                    "",
                    "",
                )
            )
    if next_id > first_id + cap:
        raise RuntimeError("inspection id block too small")
    for writer in (inspections_w, notices_w, warnings_w):
        writer.flush()
    return {
        "inspections": inspections_w.count,
        "inspection_notices": notices_w.count,
        "early_warnings": warnings_w.count,
    }


RESPONSE_COLUMNS = (
    "id",
    "campaign_id",
    "invitation_id",
    "channel",
    "entered_by_id",
    "submitted_at",
    "is_complete",
    "is_straight_line",
    "is_valid",
    "comment",
)
ANSWER_COLUMNS = ("response_id", "indicator_id", "importance", "satisfaction")


@transaction.atomic
def surveys(builder) -> dict[str, int]:
    """A quarterly satisfaction survey over the last four quarters (seed 002's questionnaire),
    each inviting the customers of a few grids through the survey services; about seven in ten
    answer, scored around the demo's profile, the later quarters a little better."""
    from django.db import connection

    from surveys.defaults import (
        DEFAULT_FRAMEWORK_CODE,
        DEFAULT_FRAMEWORK_NAME,
        default_indicator_rows,
    )
    from surveys.demo import IMPROVED, PROFILE
    from surveys.models import Framework, Indicator, Invitation
    from surveys.services import campaign_close, campaign_create, campaign_open, framework_create

    rng = builder.rng
    today = builder.today
    director = builder.hq_management
    framework = Framework.objects.filter(code=DEFAULT_FRAMEWORK_CODE).order_by(
        "version"
    ).first() or framework_create(
        actor=None,
        code=DEFAULT_FRAMEWORK_CODE,
        name=DEFAULT_FRAMEWORK_NAME[0],
        name_en=DEFAULT_FRAMEWORK_NAME[1],
        indicators=default_indicator_rows(),
    )
    indicators = dict(
        Indicator.objects.filter(framework=framework, code__in=list(PROFILE)).values_list(
            "code", "pk"
        )
    )
    grids = sorted(builder.grid_branch)
    responses_w = CopyWriter("surveys_response", RESPONSE_COLUMNS)
    answers_w = CopyWriter("surveys_answer", ANSWER_COLUMNS)
    campaigns = 0
    for quarter in range(4, 0, -1):
        starts = _quarter_start(today, quarter - 1)
        ends = starts + timedelta(days=29)
        picked = [
            grids[(quarter * 7 + k * 13) % len(grids)] for k in range(max(1, len(grids) // 10))
        ]
        branches = {builder.grid_branch[g].unit.pk: builder.grid_branch[g].unit for g in picked}
        from grid.models import Grid

        campaign = campaign_create(
            actor=director,
            name=f"{starts.year}年第{(starts.month - 1) // 3 + 1}季度信贷服务满意度调查",
            framework=framework,
            period="quarterly",
            starts_on=starts,
            ends_on=ends,
            target_branches=list(branches.values()),
            target_grids=list(Grid.objects.filter(pk__in=picked)),
            respondent_roles=["legal_representative", "finance_contact"],
            anonymity="branch",
        )
        campaign = campaign_open(actor=director, campaign=campaign)
        campaigns += 1
        invitations = list(
            Invitation.objects.filter(campaign=campaign)
            .order_by("reference")
            .values_list("pk", "customer__owner_id")
        )
        response0 = reserve_ids("surveys_response", len(invitations))
        lift = IMPROVED if quarter < 3 else {}
        begin = builder.at(starts, 8)
        for n, (invitation_id, owner_id) in enumerate(invitations):
            if rng.random() > 0.72:
                continue
            response_id = response0 + n
            incomplete = rng.random() < 0.05
            missing = set(rng.sample(list(PROFILE), 3)) if incomplete else set()
            for code, (importance, satisfaction) in PROFILE.items():
                answers_w.add(
                    (
                        response_id,
                        indicators[code],
                        _score(rng, importance),
                        None if code in missing else _score(rng, satisfaction + lift.get(code, 0)),
                    )
                )
            channel = rng.choice(("visit", "visit", "link", "paper"))
            submitted = begin + timedelta(days=rng.randrange(0, 26), hours=rng.randrange(0, 9))
            submitted = min(submitted, builder.now - timedelta(hours=1))
            responses_w.add(
                (
                    response_id,
                    campaign.pk,
                    invitation_id,
                    channel,
                    None if channel == "link" else owner_id,
                    submitted,
                    not incomplete,
                    False,
                    not incomplete,
                    "",
                )
            )
        responses_w.flush()
        answers_w.flush()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE surveys_invitation AS i SET responded_at = r.submitted_at "
                "FROM surveys_response AS r WHERE r.invitation_id = i.id AND i.campaign_id = %s",
                [campaign.pk],
            )
        if quarter > 1:
            campaign_close(actor=director, campaign=campaign)
    return {
        "survey_campaigns": campaigns,
        "survey_responses": responses_w.count,
        "survey_answers": answers_w.count,
    }


def _quarter_start(today, back: int):
    month = (today.month - 1) // 3 * 3 + 1 - 3 * back
    year = today.year
    while month < 1:
        month += 12
        year -= 1
    return today.replace(year=year, month=month, day=1)


def _score(rng, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.65))))
