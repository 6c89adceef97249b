"""API serializers for segments, visits and grade changes: input and output kept apart.

Input serializers check shape only; the business rules (rule whitelist, dates, four eyes) are the
services', so the API and the pages refuse exactly the same things with the same messages.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import (
    CustomerCategory,
    CustomerClass,
    GradeChange,
    IndustryCategory,
    ManagingLevel,
    Segment,
    Visit,
)
from customers.segment_rules import ATTRIBUTES, OPERATORS, describe_rule, today_in_shanghai
from customers.selectors import customers_visible


class RuleSerializer(serializers.Serializer):
    attribute = serializers.CharField(
        help_text="One of: " + ", ".join(ATTRIBUTES),
    )
    op = serializers.CharField(help_text="One of: " + ", ".join(OPERATORS))
    value = serializers.JSONField(
        help_text="A scalar for eq/ne/gte/lte, a list for in, [low, high] for between. Amounts in "
        "yuan (strings or numbers), ages in whole years, choices by code, branches by code."
    )


class SegmentOutputSerializer(serializers.ModelSerializer):
    rules = RuleSerializer(many=True)
    rule_texts = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(
        source="visible_members",
        help_text="Members the requesting user may see (all of them for head office).",
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "description",
            "rules",
            "rule_texts",
            "is_active",
            "member_count",
            "computed_at",
        ]

    def get_rule_texts(self, segment: Segment) -> list[str]:
        return [describe_rule(rule) for rule in segment.rules]


class SegmentCreateInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # Shape only: the whitelist lives in customers.segment_rules and answers with its own message.
    rules = serializers.ListField(child=serializers.JSONField())
    is_active = serializers.BooleanField(required=False, default=True)


class SegmentUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    rules = serializers.ListField(child=serializers.JSONField(), required=False)
    is_active = serializers.BooleanField(required=False)


class VisitOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    staff_name = serializers.CharField(source="staff.display_name")

    class Meta:
        model = Visit
        fields = [
            "id",
            "customer",
            "customer_name",
            "staff",
            "staff_name",
            "visited_on",
            "channel",
            "outcome",
            "notes",
            "next_step",
            "next_contact_on",
            "created_at",
        ]


@extend_schema_field(OpenApiTypes.INT)
class ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id the requesting user may see; any other id is "does not exist"."""

    def get_queryset(self):
        return customers_visible(self.context["request"].user)


class VisitInputSerializer(serializers.Serializer):
    customer = ScopedCustomerField()
    visited_on = serializers.DateField(
        required=False, help_text="Defaults to today (Asia/Shanghai); never in the future."
    )
    channel = serializers.ChoiceField(choices=Visit.Channel.choices)
    outcome = serializers.ChoiceField(choices=Visit.Outcome.choices)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    next_step = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    next_contact_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Must be after the visit."
    )

    def validate(self, attrs):
        attrs.setdefault("visited_on", today_in_shanghai())
        return attrs


class GradeChangeOutputSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    proposed_by_name = serializers.CharField(source="proposed_by.display_name")
    decided_by_name = serializers.CharField(
        source="decided_by.display_name", allow_null=True, default=None
    )

    class Meta:
        model = GradeChange
        fields = [
            "id",
            "customer",
            "customer_name",
            "status",
            "old_customer_class",
            "new_customer_class",
            "old_managing_level",
            "new_managing_level",
            "old_industry_category",
            "new_industry_category",
            "old_customer_category",
            "new_customer_category",
            "reason",
            "proposed_by",
            "proposed_by_name",
            "proposed_at",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "decision_comment",
        ]


class GradeProposeInputSerializer(serializers.Serializer):
    new_customer_class = serializers.ChoiceField(choices=CustomerClass.choices)
    new_managing_level = serializers.ChoiceField(choices=ManagingLevel.choices)
    new_industry_category = serializers.ChoiceField(choices=IndustryCategory.choices)
    new_customer_category = serializers.ChoiceField(choices=CustomerCategory.choices)
    reason = serializers.CharField(max_length=2000)


class GradeApproveInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class GradeRejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000)
