"""Demo post-loan inspections for the demo loans (``loans.demo_lifecycle``): visits recorded on
time and late, inspections overdue at each escalation level, and one "risk" conclusion with its
early warning in each of the first two branches (each with the signed visit record
attached) — all through the services, with visit dates set back from today.

Idempotent: visits are recorded only while no inspection has been completed yet, and planning
and the sweep create nothing twice. Run after ``risk.demo.seed`` (the loans must exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from coop.models import User
from risk.inspections import (
    InspectionFindings,
    inspection_complete,
    inspections_plan,
    inspections_sweep,
)
from risk.models import Inspection, InspectionKind

ON_TIME = InspectionFindings(
    funds_use="matches",
    conclusion="normal",
    operation_note="种植、养殖经营正常，销售回款稳定。",
    guarantor_note="保证人经营正常，担保能力未见变化。",
    next_action="按期进行下次检查。",
)
ATTENTION = InspectionFindings(
    funds_use="partly",
    funds_use_note="部分资金用于购置家用车辆。",
    conclusion="attention",
    operation_note="受市场价格影响，本季收入有所下降。",
    signals=("income_fell",),
    next_action="三个月内回访，关注还款来源。",
)
RISK = InspectionFindings(
    funds_use="diverted",
    funds_use_note="大部分资金用于偿还民间借贷。",
    conclusion="risk",
    operation_note="养殖场已停业，借款人外出务工。",
    guarantor_note="保证人身体欠佳，代偿能力下降。",
    signals=("funds_diverted", "business_stopped", "guarantor_lost_capacity"),
    next_action="提请风险部门预警并复核五级分类。",
)
RISK_GUARANTOR = InspectionFindings(
    funds_use="matches",
    conclusion="risk",
    operation_note="门店经营尚可，但近两月销售明显下滑。",
    guarantor_note="保证人涉及民间借贷纠纷，已被起诉。",
    signals=("income_fell", "guarantor_lost_capacity"),
    next_action="要求追加担保，提请风险部门预警。",
)

# The signed visit record scanned on site: a one-page PDF, small enough for any demo disk.
VISIT_RECORD_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    findings: InspectionFindings
    # The day of the visit for this open first inspection, or None when it does not fit.
    visit: Callable[[Inspection, date, date], date | None]
    branch: str | None = None  # only an inspection of this branch (code), else any
    attach_record: bool = False


def _on_time(inspection: Inspection, disbursed: date, today: date) -> date | None:
    day = min(inspection.due_on - timedelta(days=2), today)
    return day if day >= disbursed else None


def _late(inspection: Inspection, disbursed: date, today: date) -> date | None:
    day = inspection.due_on + timedelta(days=10)
    return day if day <= today else None


def _routine_overdue_by(days: int):
    # Visited so that the next routine inspection (six months on) is ``days`` overdue today.
    def visit(inspection: Inspection, disbursed: date, today: date) -> date | None:
        day = today - relativedelta(months=6) - timedelta(days=days)
        return day if disbursed <= day <= today else None

    return visit


SCENARIOS = [
    Scenario("overdue, branch manager", ON_TIME, _routine_overdue_by(12)),
    Scenario("overdue, account manager", ON_TIME, _routine_overdue_by(3)),
    Scenario("risk, early warning", RISK, _on_time, branch="B01", attach_record=True),
    Scenario("risk, early warning", RISK_GUARANTOR, _on_time, branch="B02", attach_record=True),
    Scenario("late", ATTENTION, _late),
    Scenario("on time", ON_TIME, _on_time),
    Scenario("late", ON_TIME, _late),
    Scenario("on time", ON_TIME, _on_time),
]


def _visit_record(inspection: Inspection) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(
            f"贷后检查记录-{inspection.loan.number}.pdf",
            VISIT_RECORD_PDF,
            content_type="application/pdf",
        )
    ]


@transaction.atomic
def seed(*, today: date | None = None) -> str:
    """Inspections for the demo loans (``today`` defaults to the current Shanghai date). The
    oldest first inspections that no scenario takes stay open and the sweep escalates them
    (head-office level when a month overdue)."""
    today = today or timezone.localdate()
    planned = inspections_plan(today=today)
    open_first = list(
        Inspection.objects.filter(kind=InspectionKind.FIRST, status__in=("due", "overdue"))
        .select_related("loan", "branch", "assigned_to")
        .order_by("branch__code", "loan__disbursed_on", "id")
    )
    done: list[str] = []
    # Completed inspections mean the demo ran before (or real work exists): leave them be.
    scenarios = [] if Inspection.objects.filter(status="completed").exists() else SCENARIOS
    for scenario in scenarios:
        for inspection in open_first:
            if scenario.branch and inspection.branch.code != scenario.branch:
                continue
            day = scenario.visit(inspection, inspection.loan.disbursed_on, today)
            if day is None:
                continue
            actor: User = inspection.assigned_to
            inspection_complete(
                actor=actor,
                inspection=inspection,
                findings=scenario.findings,
                attachments=_visit_record(inspection) if scenario.attach_record else None,
                inspected_on=day,
            )
            open_first.remove(inspection)
            done.append(scenario.name)
            break
    swept = inspections_sweep(today=today)
    return (
        f"{planned['first'] + planned['routine']} inspections planned, {len(done)} completed "
        f"({', '.join(done) or 'none'}); {swept['marked_overdue']} overdue, "
        f"{swept['escalated_branch_manager']} escalated to branches, "
        f"{swept['escalated_head_office']} to head office"
    )
