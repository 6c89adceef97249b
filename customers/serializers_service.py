"""API serializers of the counter service and complaints area; input and output kept apart."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coop.models import AuditEvent
from customers.models import BusinessType, Complaint, Customer, ServiceInteraction
from customers.selectors import customers_visible
from customers.services.service import (
    MAX_MINUTES,
    TRANSITIONS,
    complaint_is_overdue,
    complaint_trail,
)

# --- references -------------------------------------------------------------------------------


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CustomerRefSerializer(serializers.Serializer):
    # Name only: ID and mobile numbers belong to the customer file, behind its own rules.
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field(OpenApiTypes.INT)
class _ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id, accepted only within the requesting user's customer scope."""

    default_error_messages = {
        "does_not_exist": _("Choose a customer of your branch."),
        "incorrect_type": _("Choose a customer of your branch."),
    }

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Customer.objects.none()
        return customers_visible(request.user)


# --- counter service --------------------------------------------------------------------------


class ServiceInteractionInputSerializer(serializers.Serializer):
    customer = _ScopedCustomerField(required=False, allow_null=True, default=None)
    business_type = serializers.ChoiceField(choices=BusinessType.choices)
    wait_minutes = serializers.IntegerField(min_value=0, max_value=MAX_MINUTES)
    handling_minutes = serializers.IntegerField(min_value=0, max_value=MAX_MINUTES)
    smile = serializers.BooleanField(required=False, default=False)
    standing = serializers.BooleanField(required=False, default=False)
    standard_wording = serializers.BooleanField(required=False, default=False)
    rating = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, default=None
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ServiceInteractionOutputSerializer(serializers.ModelSerializer):
    teller = StaffRefSerializer()
    outlet = UnitRefSerializer()
    branch = UnitRefSerializer()
    customer = CustomerRefSerializer(allow_null=True)

    class Meta:
        model = ServiceInteraction
        fields = [
            "id",
            "served_at",
            "teller",
            "outlet",
            "branch",
            "customer",
            "business_type",
            "wait_minutes",
            "handling_minutes",
            "smile",
            "standing",
            "standard_wording",
            "rating",
            "note",
        ]


class ServiceSummaryQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=[("day", "day"), ("month", "month")], default="day")
    date = serializers.DateField(
        required=False, help_text="A day (YYYY-MM-DD); for a month, any day in it. Default today."
    )
    branch = serializers.IntegerField(
        required=False, help_text="Narrow to one branch (head office users)."
    )


class SummaryFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    avg_wait = serializers.FloatField(allow_null=True)
    avg_handling = serializers.FloatField(allow_null=True)
    smile_share = serializers.FloatField(allow_null=True, help_text="0..1")
    standing_share = serializers.FloatField(allow_null=True, help_text="0..1")
    wording_share = serializers.FloatField(allow_null=True, help_text="0..1")
    avg_rating = serializers.FloatField(allow_null=True)
    rated_count = serializers.IntegerField()
    ratings = serializers.DictField(child=serializers.IntegerField(), help_text="score → count")
    business_types = serializers.DictField(
        child=serializers.IntegerField(), help_text="business type → count"
    )


class TellerSummarySerializer(SummaryFiguresSerializer):
    teller_id = serializers.IntegerField()
    teller = serializers.CharField()
    outlet = serializers.CharField()


class OutletSummarySerializer(SummaryFiguresSerializer):
    outlet_id = serializers.IntegerField()
    outlet = serializers.CharField()
    branch = serializers.CharField()


class DaySummarySerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()
    avg_wait = serializers.FloatField(allow_null=True)
    avg_handling = serializers.FloatField(allow_null=True)
    avg_rating = serializers.FloatField(allow_null=True)


class ServiceSummarySerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    branch = UnitRefSerializer(allow_null=True)
    total = SummaryFiguresSerializer()
    tellers = TellerSummarySerializer(many=True)
    outlets = OutletSummarySerializer(many=True)
    days = DaySummarySerializer(many=True, help_text="Per Shanghai day, for a month only.")


# --- complaints -------------------------------------------------------------------------------


class ComplaintInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Complaint.Kind.choices)
    channel = serializers.ChoiceField(choices=Complaint.Channel.choices)
    severity = serializers.ChoiceField(
        choices=Complaint.Severity.choices, default=Complaint.Severity.NORMAL
    )
    customer = _ScopedCustomerField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField()


class ComplaintOutputSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(allow_null=True)
    branch = UnitRefSerializer()
    received_by = StaffRefSerializer()
    assignee = StaffRefSerializer(allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "kind",
            "channel",
            "severity",
            "state",
            "subject",
            "description",
            "customer",
            "contact_name",
            "branch",
            "received_by",
            "received_at",
            "assignee",
            "due_at",
            "is_overdue",
            "escalation_level",
            "escalated_at",
            "response",
            "responded_at",
            "resolution",
            "resolved_at",
            "closed_at",
            "reopen_count",
        ]

    def get_is_overdue(self, obj: Complaint) -> bool:
        return complaint_is_overdue(obj)


class TrailEventSerializer(serializers.ModelSerializer):
    actor = StaffRefSerializer(allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["occurred_at", "actor", "action", "from_state", "to_state", "comment", "data"]


class ComplaintDetailSerializer(ComplaintOutputSerializer):
    trail = serializers.SerializerMethodField()

    class Meta(ComplaintOutputSerializer.Meta):
        fields = [*ComplaintOutputSerializer.Meta.fields, "trail"]

    @extend_schema_field(TrailEventSerializer(many=True))
    def get_trail(self, obj: Complaint) -> list:
        return TrailEventSerializer(complaint_trail(obj), many=True).data


class ComplaintTransitionInputSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=[(name, name) for name in TRANSITIONS])
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The answer (respond), resolution (resolve), reason (reopen) or a comment.",
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Same as text."
    )
    assignee = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Staff id (assign, reassign)."
    )

    def validate(self, attrs):
        attrs["text"] = attrs.get("text") or attrs.get("comment") or ""
        attrs.pop("comment", None)
        return attrs
