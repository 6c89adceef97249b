"""Serializers of the approval API: separate input and output shapes."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from loans.models import RiskRoute
from risk import policy
from risk.models import (
    ApprovalCase,
    ApprovalLog,
    CommitteeMeeting,
    CommitteeVote,
    InvestigationSignature,
    ReasonCode,
    Stage,
)
from risk.selectors import TIMING_GROUPS


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class ApplicationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    product = serializers.CharField(source="product.name")
    product_code = serializers.CharField(source="product.code")


class CaseOutputSerializer(serializers.ModelSerializer):
    application = ApplicationRefSerializer()
    customer = RefSerializer()
    branch = RefSerializer()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    route_label = serializers.CharField(source="get_route_display")
    state_label = serializers.CharField(source="get_state_display")
    seconds_in_stage = serializers.SerializerMethodField()
    target_hours = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalCase
        fields = [
            "id",
            "application",
            "customer",
            "branch",
            "amount",
            "route",
            "route_label",
            "state",
            "state_label",
            "opened_at",
            "stage_entered_at",
            "stage_due_at",
            "closed_at",
            "seconds_in_stage",
            "target_hours",
            "overdue",
        ]

    def get_seconds_in_stage(self, case: ApprovalCase) -> int:
        end = case.closed_at or self.context.get("now") or timezone.now()
        return max(0, int((end - case.stage_entered_at).total_seconds()))

    def get_target_hours(self, case: ApprovalCase) -> int | None:
        if case.is_closed:
            return None
        return self.context.get("targets", {}).get(case.state)

    def get_overdue(self, case: ApprovalCase) -> bool:
        target = self.get_target_hours(case)
        return target is not None and self.get_seconds_in_stage(case) > target * 3600


class LogEntrySerializer(serializers.ModelSerializer):
    actor = UserRefSerializer()

    class Meta:
        model = ApprovalLog
        fields = [
            "id",
            "from_state",
            "to_state",
            "transition",
            "actor",
            "role",
            "created_at",
            "comment",
            "reason_code",
            "seconds_in_stage",
        ]


class SignatureSerializer(serializers.ModelSerializer):
    signer = UserRefSerializer()

    class Meta:
        model = InvestigationSignature
        fields = ["round", "part", "signer", "comment", "signed_at"]


class RouteStepSerializer(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    status = serializers.ChoiceField(choices=["done", "current", "stopped", "todo"])


class RoutingSerializer(serializers.Serializer):
    ruleset_version = serializers.IntegerField(source="ruleset.version")
    rule = RefSerializer(allow_null=True)
    facts = serializers.DictField(source="routing_facts")


class MeetingRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommitteeMeeting
        fields = ["id", "status", "outcome", "convened_at", "closed_at"]


class CaseDetailOutputSerializer(CaseOutputSerializer):
    routing = serializers.SerializerMethodField()
    route_stages = serializers.SerializerMethodField()
    trail = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()
    meetings = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

    class Meta(CaseOutputSerializer.Meta):
        fields = [
            *CaseOutputSerializer.Meta.fields,
            "routing",
            "route_stages",
            "trail",
            "signatures",
            "meetings",
            "available_transitions",
        ]

    def get_routing(self, case: ApprovalCase) -> dict:
        return RoutingSerializer(case).data

    def get_route_stages(self, case: ApprovalCase) -> list[dict]:
        return RouteStepSerializer(self.context["steps"], many=True).data

    def get_trail(self, case: ApprovalCase) -> list[dict]:
        return LogEntrySerializer(self.context["trail"], many=True).data

    def get_signatures(self, case: ApprovalCase) -> list[dict]:
        return SignatureSerializer(self.context["signatures"], many=True).data

    def get_meetings(self, case: ApprovalCase) -> list[dict]:
        return MeetingRefSerializer(self.context["meetings"], many=True).data

    def get_available_transitions(self, case: ApprovalCase) -> list[str]:
        return self.context["available"]


class CaseOpenInputSerializer(serializers.Serializer):
    application = serializers.IntegerField(help_text="Loan application id (draft or submitted).")


class TransitionInputSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=policy.TRANSITIONS)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason_code = serializers.ChoiceField(
        choices=[c for c in ReasonCode.values if c != ReasonCode.COMMITTEE],
        required=False,
        allow_blank=True,
        help_text="Required for reject.",
    )
    state = serializers.ChoiceField(
        choices=Stage.values,
        required=False,
        help_text="The stage you saw; if the case has moved on since, the answer is 409.",
    )


class AvailableTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs_comment = serializers.BooleanField()
    needs_reason = serializers.BooleanField()


class StatsQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=list(TIMING_GROUPS), required=False, allow_blank=True)
    route = serializers.ChoiceField(choices=RiskRoute.values, required=False, allow_blank=True)
    branch = serializers.IntegerField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"date_to": _("The end date is before the start date.")}
            )
        return attrs


class StatsRowSerializer(serializers.Serializer):
    stage = serializers.CharField()
    stage_label = serializers.CharField()
    group = serializers.CharField()
    group_label = serializers.CharField()
    visits = serializers.IntegerField()
    avg_seconds = serializers.FloatField()
    p90_seconds = serializers.FloatField()
    target_hours = serializers.IntegerField(allow_null=True)


class StatsOutputSerializer(serializers.Serializer):
    by = serializers.CharField()
    rows = StatsRowSerializer(many=True)


class MemberVoteSerializer(serializers.Serializer):
    member = UserRefSerializer()
    voted = serializers.BooleanField()
    vote = serializers.CharField(help_text="Empty until the meeting closes.")
    comment = serializers.CharField(help_text="Empty until the meeting closes.")


class MeetingOutputSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id")
    application_number = serializers.CharField(source="case.application.number")
    convened_by = UserRefSerializer()
    votes_cast = serializers.SerializerMethodField()
    tally = serializers.SerializerMethodField()

    class Meta:
        model = CommitteeMeeting
        fields = [
            "id",
            "case",
            "application_number",
            "stage",
            "status",
            "outcome",
            "quorum",
            "majority_numerator",
            "majority_denominator",
            "convened_by",
            "convened_at",
            "closed_at",
            "votes_cast",
            "tally",
        ]

    def get_votes_cast(self, meeting: CommitteeMeeting) -> int:
        count = getattr(meeting, "vote_count", None)
        return count if count is not None else meeting.votes.count()

    def get_tally(self, meeting: CommitteeMeeting) -> dict | None:
        """Null while the meeting is open: the votes are secret until it closes."""
        if meeting.status == CommitteeMeeting.Status.OPEN:
            return None
        return {
            "for": meeting.votes_for,
            "against": meeting.votes_against,
            "abstain": meeting.abstentions,
        }


class MeetingDetailOutputSerializer(MeetingOutputSerializer):
    members = serializers.SerializerMethodField()

    class Meta(MeetingOutputSerializer.Meta):
        fields = [*MeetingOutputSerializer.Meta.fields, "members"]

    def get_members(self, meeting: CommitteeMeeting) -> list[dict]:
        return MemberVoteSerializer(self.context["members"], many=True).data


class MeetingConveneInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(help_text="Approval case id, at its approval stage.")


class VoteInputSerializer(serializers.Serializer):
    vote = serializers.ChoiceField(choices=CommitteeVote.Vote.values)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
