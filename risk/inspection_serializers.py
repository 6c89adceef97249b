"""Serializers of the inspection and early-warning API: separate input and output shapes."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from loans.models import Classification
from risk.inspections import RULE_FIELDS
from risk.models import (
    Conclusion,
    EarlyWarning,
    FundsUse,
    Inspection,
    InspectionAttachment,
    InspectionNotice,
    InspectionRule,
    RiskSignal,
)


class InspectionOutputSerializer(serializers.ModelSerializer):
    loan_number = serializers.CharField(source="loan.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    assigned_to_name = serializers.CharField(source="assigned_to.display_name", read_only=True)
    # Plain strings with the values documented: several apps' serializers already have
    # "kind" and "status" enums with other values, and the schema must not clash with them.
    kind = serializers.CharField(read_only=True, help_text="first, routine or ad_hoc.")
    status = serializers.CharField(
        read_only=True, help_text="due, overdue, completed or cancelled (the loan closed)."
    )
    escalation_level = serializers.IntegerField(
        read_only=True,
        help_text="0 none, 1 account manager notified, 2 escalated to the branch manager, "
        "3 escalated to head-office risk.",
    )
    # Blank until the inspection is completed. Declared here because a model-built read-only
    # field drops ``allow_blank``, and the schema would then refuse the empty value.
    funds_use = serializers.ChoiceField(choices=FundsUse.choices, allow_blank=True, read_only=True)
    conclusion = serializers.ChoiceField(
        choices=Conclusion.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Inspection
        fields = [
            "id",
            "loan",
            "loan_number",
            "customer",
            "customer_name",
            "branch",
            "branch_name",
            "kind",
            "reason",
            "status",
            "due_on",
            "assigned_to",
            "assigned_to_name",
            "escalation_level",
            "created_at",
            "completed_at",
            "completed_on",
            "on_time",
            "completed_by",
            "funds_use",
            "funds_use_note",
            "operation_note",
            "guarantor_note",
            "collateral_note",
            "signals",
            "conclusion",
            "next_action",
        ]
        read_only_fields = fields


class InspectionNoticeOutputSerializer(serializers.ModelSerializer):
    level = serializers.IntegerField(read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)

    class Meta:
        model = InspectionNotice
        fields = ["level", "recipient", "org_unit", "org_unit_name", "days_overdue", "created_at"]
        read_only_fields = fields


class InspectionAttachmentOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = InspectionAttachment
        fields = ["id", "original_name", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, obj: InspectionAttachment) -> str:
        return reverse(
            "risk:inspection_attachment",
            kwargs={"pk": obj.inspection_id, "attachment_pk": obj.pk},
        )


class InspectionDetailOutputSerializer(InspectionOutputSerializer):
    notices = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    early_warning = serializers.SerializerMethodField()

    class Meta(InspectionOutputSerializer.Meta):
        fields = [
            *InspectionOutputSerializer.Meta.fields,
            "notices",
            "attachments",
            "early_warning",
        ]
        read_only_fields = fields

    def get_notices(self, obj) -> list[dict]:
        return InspectionNoticeOutputSerializer(self.context["notices"], many=True).data

    def get_attachments(self, obj) -> list[dict]:
        return InspectionAttachmentOutputSerializer(self.context["attachments"], many=True).data

    def get_early_warning(self, obj) -> int | None:
        warning = self.context.get("warning")
        return warning.pk if warning else None


class InspectionCompleteInputSerializer(serializers.Serializer):
    funds_use = serializers.ChoiceField(choices=FundsUse.choices)
    funds_use_note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    operation_note = serializers.CharField(max_length=4000)
    guarantor_note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    collateral_note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    signals = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskSignal.choices), required=False, default=list
    )
    conclusion = serializers.ChoiceField(choices=Conclusion.choices)
    next_action = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    inspected_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The day of the visit when it is recorded later (default today); it decides "
        "on time or late.",
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Photos (JPEG, PNG, WebP, HEIC) or PDF, up to 10 files of 10 MB; send as "
        "multipart/form-data.",
    )


class EarlyWarningOutputSerializer(serializers.ModelSerializer):
    loan_number = serializers.CharField(source="loan.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    status = serializers.CharField(read_only=True, help_text="open, acknowledged or closed.")

    class Meta:
        model = EarlyWarning
        fields = [
            "id",
            "loan",
            "loan_number",
            "customer",
            "customer_name",
            "branch",
            "branch_name",
            "inspection",
            "signals",
            "summary",
            "status",
            "raised_at",
            "acknowledged_by",
            "acknowledged_at",
            "closed_by",
            "closed_at",
            "close_comment",
            "classification_review",
            "ad_hoc_inspection",
        ]
        read_only_fields = fields


class EarlyWarningActionInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[
            ("acknowledge", "acknowledge"),
            ("close", "close"),
            ("review", "review"),
            ("inspect", "inspect"),
        ],
        help_text="acknowledge; close (comment required); review: propose a classification "
        "(to_class and reason required) that a second person decides; inspect: order an "
        "ad-hoc inspection (due_on optional).",
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    to_class = serializers.ChoiceField(choices=Classification.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    due_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs["action"] == "review" and not attrs.get("to_class"):
            raise serializers.ValidationError({"to_class": ["This field is required."]})
        return attrs


class ComplianceQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class ComplianceRowSerializer(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="Branch or staff id.")
    label = serializers.CharField()
    branch = serializers.CharField()
    total = serializers.IntegerField()
    due = serializers.IntegerField(help_text="Open and not yet past the due date.")
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    overdue = serializers.IntegerField()
    escalated_branch = serializers.IntegerField()
    escalated_head_office = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="Percent.")
    late_rate = serializers.FloatField(allow_null=True)
    overdue_rate = serializers.FloatField(allow_null=True)


class ComplianceOutputSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    total = ComplianceRowSerializer()
    branches = ComplianceRowSerializer(many=True)
    managers = ComplianceRowSerializer(many=True)


class InspectionRuleSerializer(serializers.ModelSerializer):
    """Seed 003's inspection rule as head office set it."""

    class Meta:
        model = InspectionRule
        fields = [*RULE_FIELDS, "updated_at"]
        read_only_fields = fields


class InspectionRuleInputSerializer(serializers.Serializer):
    """The values to change; leave out what stays. Whole numbers of days or months from 1 to
    3650 (0 allowed for the ad-hoc overdue days); head-office risk is told later than the
    branch manager."""

    amount_threshold = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    first_months_small = serializers.IntegerField(required=False)
    first_days_large = serializers.IntegerField(required=False)
    routine_months = serializers.IntegerField(required=False)
    overdue_days_for_ad_hoc = serializers.IntegerField(required=False)
    ad_hoc_due_days = serializers.IntegerField(required=False)
    branch_grace_days = serializers.IntegerField(required=False)
    head_office_grace_days = serializers.IntegerField(required=False)
