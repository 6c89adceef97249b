"""Input and output shapes of the surveys API (separate where they differ)."""

from __future__ import annotations

from rest_framework import serializers

from surveys.models import (
    Campaign,
    CustomerType,
    Framework,
    ImprovementItem,
    Indicator,
    LoanStage,
    RespondentRole,
    Response,
)


class SurveyIndicatorInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    parent = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)


class SurveyFrameworkInputSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    indicators = SurveyIndicatorInputSerializer(many=True)


class SurveyIndicatorSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = ["id", "code", "name", "name_en", "parent"]

    def get_parent(self, obj) -> str | None:
        return obj.parent.code if obj.parent_id else None


class SurveyFrameworkSerializer(serializers.ModelSerializer):
    indicators = SurveyIndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = ["id", "code", "version", "name", "name_en", "description", "indicators"]


class SurveyFrameworkListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Framework
        fields = ["id", "code", "version", "name", "name_en"]


class SurveyCampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    framework = serializers.IntegerField()
    org_unit = serializers.IntegerField(required=False, allow_null=True)
    period = serializers.ChoiceField(choices=Campaign.Period.choices)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    target_branches = serializers.ListField(child=serializers.IntegerField(), required=False)
    target_grids = serializers.ListField(child=serializers.IntegerField(), required=False)
    loan_stages = serializers.ListField(
        child=serializers.ChoiceField(choices=LoanStage.choices), required=False
    )
    customer_types = serializers.ListField(
        child=serializers.ChoiceField(choices=CustomerType.choices), required=False
    )
    respondent_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=RespondentRole.choices), required=False
    )
    exclude_straight_lining = serializers.BooleanField(default=True)
    anonymity = serializers.ChoiceField(
        choices=Campaign._meta.get_field("anonymity").choices, default="head_office"
    )
    reminder_after_days = serializers.IntegerField(min_value=1, max_value=90, default=7)


class SurveyCountsSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    returned = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    return_rate = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    valid_rate = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)


class SurveyCampaignSerializer(serializers.ModelSerializer):
    framework_code = serializers.CharField(source="framework.code", read_only=True)
    framework_version = serializers.IntegerField(source="framework.version", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "framework",
            "framework_code",
            "framework_version",
            "org_unit",
            "org_unit_name",
            "period",
            "starts_on",
            "ends_on",
            "loan_stages",
            "customer_types",
            "respondent_roles",
            "exclude_straight_lining",
            "anonymity",
            "reminder_after_days",
            "state",
        ]


class SurveyCampaignDetailSerializer(SurveyCampaignSerializer):
    counts = serializers.SerializerMethodField()

    class Meta(SurveyCampaignSerializer.Meta):
        fields = [*SurveyCampaignSerializer.Meta.fields, "counts"]

    def get_counts(self, obj) -> SurveyCountsSerializer:
        return SurveyCountsSerializer(self.context["counts"]).data


class SurveyAnswerInputSerializer(serializers.Serializer):
    indicator = serializers.CharField(max_length=20)
    importance = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    satisfaction = serializers.IntegerField(
        min_value=1, max_value=5, required=False, allow_null=True
    )


class SurveyResponseInputSerializer(serializers.Serializer):
    invitation = serializers.IntegerField(required=False, help_text="The invitation answered.")
    customer = serializers.IntegerField(
        required=False, help_text="Or the customer met on a visit (invited if need be)."
    )
    answers = SurveyAnswerInputSerializer(many=True)
    comment = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs.get("invitation") and not attrs.get("customer"):
            raise serializers.ValidationError({"invitation": ["Give an invitation or a customer."]})
        return attrs


class SurveyAnswerSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator.code")
    importance = serializers.IntegerField(allow_null=True)
    satisfaction = serializers.IntegerField(allow_null=True)


class SurveyResponseSerializer(serializers.ModelSerializer):
    respondent = serializers.SerializerMethodField(
        help_text="The customer, only for staff at or above the campaign's anonymity level."
    )
    answers = SurveyAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "campaign",
            "channel",
            "submitted_at",
            "is_complete",
            "is_straight_line",
            "is_valid",
            "respondent",
            "comment",
            "answers",
        ]

    def get_respondent(self, obj) -> str | None:
        if not self.context.get("sees_respondent"):
            return None
        return obj.invitation.customer.name


class SurveyImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX: respondent, <code>_importance, …")


class SurveyImportProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class SurveyImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = SurveyImportProblemSerializer(many=True)


class SurveyImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()


class SurveyCrosshairSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(choices=["mean", "midpoint", "median"])
    importance = serializers.DecimalField(max_digits=6, decimal_places=4)
    satisfaction = serializers.DecimalField(max_digits=6, decimal_places=4)
    text = serializers.CharField()


class SurveyIndicatorResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    importance_mean = serializers.DecimalField(max_digits=6, decimal_places=4)
    satisfaction_mean = serializers.DecimalField(max_digits=6, decimal_places=4)
    gap = serializers.DecimalField(max_digits=6, decimal_places=4)
    quadrant = serializers.IntegerField(min_value=1, max_value=4)
    n = serializers.IntegerField()
    near_boundary = serializers.BooleanField()


class SurveyFirstLevelResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    importance_mean = serializers.DecimalField(max_digits=6, decimal_places=4)
    satisfaction_score = serializers.DecimalField(max_digits=6, decimal_places=4)
    indicators = serializers.IntegerField()


class SurveyAnalysisSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    returned = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    crosshair = SurveyCrosshairSerializer()
    index = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    indicators = SurveyIndicatorResultSerializer(many=True)
    first_level = SurveyFirstLevelResultSerializer(many=True)


class SurveyImprovementInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    owner = serializers.IntegerField()
    level = serializers.ChoiceField(choices=ImprovementItem.Level.choices)
    plan = serializers.CharField()
    due_on = serializers.DateField()
    finding = serializers.CharField(required=False, allow_blank=True)
    campaign = serializers.IntegerField(required=False, allow_null=True)
    indicator = serializers.CharField(required=False, allow_blank=True, help_text="Indicator code")


class SurveyImprovementAdvanceSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["start", "check", "act", "replan", "close"])
    note = serializers.CharField(required=False, allow_blank=True)


class SurveyImprovementSerializer(serializers.ModelSerializer):
    indicator_code = serializers.CharField(
        source="indicator.code", default=None, read_only=True, allow_null=True
    )
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementItem
        fields = [
            "id",
            "title",
            "campaign",
            "indicator_code",
            "owner",
            "owner_name",
            "level",
            "finding",
            "plan",
            "due_on",
            "state",
            "notes",
            "baseline_satisfaction",
            "overdue",
        ]

    def get_overdue(self, obj) -> bool:
        from django.utils import timezone

        return obj.state != ImprovementItem.State.CLOSED and obj.due_on < timezone.localdate()
