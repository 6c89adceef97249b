"""Completing an inspection: findings validated (bad input changes nothing), the next routine
one planned, a "risk" conclusion raising an early warning in the same transaction, and the risk
officer's handling of the warning — acknowledge, ad-hoc inspection, classification review
(decided by a second person through loans' override service), close."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from coop.models import AuditEvent
from coop.services import ConflictError, DomainError
from loans.models import ClassificationOverride, Loan
from loans.services.classification import classification_override_approve, loan_write_off
from risk.inspections import (
    early_warning_acknowledge,
    early_warning_close,
    early_warning_order_inspection,
    early_warning_review,
    inspection_complete,
)
from risk.models import EarlyWarning, Inspection, InspectionAttachment
from tests.risk.test_inspection_factories import (
    NORMAL,
    RISK,
    fresh_inspection,
    loan_for,
    open_inspection,
    staff_fixture,  # noqa: F401 — the ``staff`` fixture
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _state(inspection: Inspection) -> tuple:
    row = fresh_inspection(inspection)
    return (
        row.status,
        row.completed_at,
        row.conclusion,
        Inspection.objects.filter(loan_id=row.loan_id).count(),
        EarlyWarning.objects.count(),
        InspectionAttachment.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(
    ("findings", "field"),
    [
        (replace(NORMAL, operation_note="  "), "operation_note"),
        (replace(NORMAL, funds_use="diverted"), "funds_use_note"),
        (replace(NORMAL, funds_use="spent"), "funds_use"),
        (replace(NORMAL, conclusion="attention"), "next_action"),
        (replace(NORMAL, conclusion=""), "conclusion"),
        (replace(NORMAL, signals=("income_fell", "aliens")), "signals"),
    ],
)
def test_bad_findings_change_nothing(org, staff, media, findings, field):
    inspection = open_inspection(loan_for(org, staff))
    before = _state(inspection)
    photo = SimpleUploadedFile("a.png", PNG, content_type="image/png")

    with pytest.raises(DomainError) as raised:
        inspection_complete(
            actor=staff.am, inspection=inspection, findings=findings, attachments=[photo]
        )

    assert raised.value.field == field
    assert _state(inspection) == before


def test_wrong_file_type_and_wrong_role_change_nothing(org, staff, media):
    inspection = open_inspection(loan_for(org, staff))
    before = _state(inspection)
    script = SimpleUploadedFile("x.html", b"<script>", content_type="text/html")

    with pytest.raises(DomainError) as raised:
        inspection_complete(
            actor=staff.am, inspection=inspection, findings=NORMAL, attachments=[script]
        )
    assert raised.value.field == "attachments"
    with pytest.raises(PermissionDenied):
        inspection_complete(actor=staff.teller, inspection=inspection, findings=NORMAL)
    assert _state(inspection) == before


def test_completing_twice_is_a_conflict(org, staff):
    inspection = open_inspection(loan_for(org, staff))
    inspection_complete(actor=staff.am, inspection=inspection, findings=NORMAL)
    before = _state(inspection)

    with pytest.raises(ConflictError):
        inspection_complete(actor=staff.am, inspection=inspection, findings=RISK)

    assert _state(inspection) == before
    assert fresh_inspection(inspection).conclusion == "normal"


def test_completion_stores_findings_and_photos(org, staff, media):
    inspection = open_inspection(loan_for(org, staff))
    photo = SimpleUploadedFile("门头照片 张三.png", PNG, content_type="image/png")

    inspection_complete(
        actor=staff.am,
        inspection=inspection,
        findings=replace(NORMAL, signals=("lawsuit", "income_fell", "lawsuit")),
        attachments=[photo],
    )

    row = fresh_inspection(inspection)
    assert (row.funds_use, row.conclusion, row.signals) == (
        "matches",
        "normal",
        ["income_fell", "lawsuit"],
    )
    attachment = InspectionAttachment.objects.get(inspection=inspection)
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "门头照片 张三.png",
        "image/png",
        len(PNG),
    )
    # The stored name never carries what the user typed.
    assert "张三" not in attachment.file.name
    assert attachment.file.read() == PNG
    assert EarlyWarning.objects.count() == 0


def test_closed_loan_gets_no_next_routine_inspection(org, staff):
    loan = loan_for(org, staff)
    inspection = open_inspection(loan)
    loan_write_off(actor=staff.director, loan=loan, reason="诉讼终结")

    inspection_complete(actor=staff.am, inspection=inspection, findings=NORMAL)

    assert list(Inspection.objects.filter(loan=loan).values_list("status", flat=True)) == [
        "completed"
    ]


def test_risk_conclusion_raises_a_warning_then_a_classification_review(org, staff):
    loan = loan_for(org, staff)
    inspection = open_inspection(loan)

    inspection_complete(actor=staff.am, inspection=inspection, findings=RISK)

    warning = EarlyWarning.objects.get(inspection=inspection)
    assert (warning.status, warning.loan_id, warning.branch_id, warning.signals) == (
        "open",
        loan.pk,
        loan.branch_id,
        ["income_fell", "funds_diverted", "business_stopped"],
    )
    assert AuditEvent.objects.filter(
        action="early_warning.raise", object_id=str(warning.pk), actor=staff.am
    ).exists()
    # The next routine inspection is planned as usual.
    assert open_inspection(loan).kind == "routine"

    warning = early_warning_review(
        actor=staff.risk,
        warning=warning,
        to_class="special_mention",
        reason="贷后检查发现资金挪用、经营停滞。",
    )
    proposal = ClassificationOverride.objects.get(loan=loan)
    assert (warning.status, warning.classification_review_id, proposal.status) == (
        "acknowledged",
        proposal.pk,
        "proposed",
    )
    with pytest.raises(ConflictError):
        early_warning_review(actor=staff.risk, warning=warning, to_class="substandard", reason="x")

    # A second person decides the review, through loans' own service.
    with pytest.raises(PermissionDenied):
        classification_override_approve(actor=staff.risk, override=proposal)
    classification_override_approve(actor=staff.manager, override=proposal)
    assert Loan.objects.get(pk=loan.pk).classification == "special_mention"

    warning = early_warning_order_inspection(
        actor=staff.risk, warning=warning, due_on=date(2030, 1, 1)
    )
    ad_hoc = Inspection.objects.get(pk=warning.ad_hoc_inspection_id)
    assert (ad_hoc.kind, ad_hoc.reason, ad_hoc.due_on, ad_hoc.assigned_to) == (
        "ad_hoc",
        "early_warning",
        date(2030, 1, 1),
        staff.am,
    )

    before = AuditEvent.objects.count()
    with pytest.raises(DomainError):
        early_warning_close(actor=staff.risk, warning=warning, comment=" ")
    assert EarlyWarning.objects.get(pk=warning.pk).status == "acknowledged"
    assert AuditEvent.objects.count() == before
    early_warning_close(actor=staff.risk, warning=warning, comment="已下调分类并安排专项检查。")
    closed = EarlyWarning.objects.get(pk=warning.pk)
    assert (closed.status, closed.closed_by) == ("closed", staff.risk)
    assert list(
        AuditEvent.objects.filter(object_type="risk.earlywarning", object_id=str(warning.pk))
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    ) == [
        ("early_warning.raise", "", "open"),
        ("early_warning.review", "open", "acknowledged"),
        ("early_warning.order_inspection", "acknowledged", "acknowledged"),
        ("early_warning.close", "acknowledged", "closed"),
    ]


def test_failed_review_changes_nothing(org, staff):
    loan = loan_for(org, staff)
    inspection_complete(actor=staff.am, inspection=open_inspection(loan), findings=RISK)
    warning = EarlyWarning.objects.get(loan=loan)
    before = AuditEvent.objects.count()

    # The loan is already "normal": loans' service refuses, and the warning stays as it was.
    with pytest.raises(DomainError):
        early_warning_review(actor=staff.risk, warning=warning, to_class="normal", reason="x")
    with pytest.raises(PermissionDenied):
        early_warning_acknowledge(actor=staff.manager, warning=warning)

    row = EarlyWarning.objects.get(pk=warning.pk)
    assert (row.status, row.classification_review_id) == ("open", None)
    assert ClassificationOverride.objects.count() == 0
    assert AuditEvent.objects.count() == before
    early_warning_acknowledge(actor=staff.risk, warning=warning)
    with pytest.raises(ConflictError):
        early_warning_acknowledge(actor=staff.risk, warning=warning)
