"""Serializers of the grid API. Input and output are separate where they differ; output never
carries an evaluation the reader may not see (the selectors filter before serializing)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import CreditRating, Customer, Occupation, Visit
from customers.validators import mask_mobile
from grid.models import (
    CampaignHousehold,
    Evaluation,
    Grid,
    GridOfficer,
    Household,
    HouseholdMember,
    IncomeSource,
    Village,
    VillageCreditCampaign,
)

MONEY = {"max_digits": 16, "decimal_places": 2}


class GridRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GridStaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class GridFiguresSerializer(serializers.Serializer):
    households = serializers.IntegerField()
    filed = serializers.IntegerField()
    evaluated = serializers.IntegerField()
    pre_credited = serializers.IntegerField()
    signed = serializers.IntegerField()
    granted = serializers.DecimalField(**MONEY)
    drawn = serializers.DecimalField(**MONEY)
    coverage_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="Percent"
    )
    filing_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="Percent"
    )


class CampaignFiguresSerializer(GridFiguresSerializer):
    excluded = serializers.IntegerField()
    to_decide = serializers.IntegerField()
    refused = serializers.IntegerField()
    away = serializers.IntegerField()
    pending_signing = serializers.IntegerField()


def _figures(context: dict, key: str, pk: int, empty):
    return context.get(key, {}).get(pk) or empty


# --- grids and villages -----------------------------------------------------------------------


class GridOfficerSerializer(serializers.ModelSerializer):
    mobile = serializers.SerializerMethodField()

    class Meta:
        model = GridOfficer
        fields = ["id", "name", "role", "duty", "user", "mobile"]

    def get_mobile(self, officer: GridOfficer) -> str:
        # Masked for everybody: a full number is shown only by a reveal view, which logs it.
        return mask_mobile(officer.mobile)


class VillageRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Village
        fields = ["id", "town", "name"]


class GridSerializer(serializers.ModelSerializer):
    branch = GridRefSerializer()
    account_manager = GridStaffRefSerializer()
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "branch", "account_manager", "area", "is_active", "figures"]

    @extend_schema_field(GridFiguresSerializer)
    def get_figures(self, grid: Grid) -> dict:
        from grid.metrics import Figures

        return GridFiguresSerializer(_figures(self.context, "figures", grid.pk, Figures())).data


class GridDetailSerializer(GridSerializer):
    officers = serializers.SerializerMethodField()
    villages = VillageRefSerializer(many=True)

    class Meta(GridSerializer.Meta):
        fields = [*GridSerializer.Meta.fields, "officers", "villages"]

    @extend_schema_field(GridOfficerSerializer(many=True))
    def get_officers(self, grid: Grid) -> list:
        officers = [o for o in grid.officers.all() if o.is_active]
        return GridOfficerSerializer(officers, many=True, context=self.context).data


class VillageSerializer(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField()

    class Meta:
        model = Village
        fields = ["id", "grid", "town", "name", "figures"]

    @extend_schema_field(GridFiguresSerializer)
    def get_figures(self, village: Village) -> dict:
        from grid.metrics import Figures

        return GridFiguresSerializer(_figures(self.context, "figures", village.pk, Figures())).data


# --- households -------------------------------------------------------------------------------


class HouseholdSerializer(serializers.ModelSerializer):
    is_filed = serializers.BooleanField()

    class Meta:
        model = Household
        fields = [
            "id",
            "village",
            "village_group",
            "head_name",
            "head",
            "address",
            "income_sources",
            "annual_income",
            "assets",
            "asset_value",
            "labour_count",
            "member_count",
            "migrant_count",
            "completeness",
            "is_filed",
            "card_issued_on",
            "notes",
        ]


class HouseholdInputSerializer(serializers.Serializer):
    """Create (all required fields) or change (any subset, ``partial=True``) a household."""

    village = serializers.IntegerField(help_text="Only on create.")
    head_name = serializers.CharField(max_length=50)
    head = serializers.IntegerField(
        required=False, allow_null=True, help_text="The head's customer number, once filed."
    )
    village_group = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    income_sources = serializers.ListField(
        child=serializers.ChoiceField(choices=IncomeSource.choices), required=False
    )
    annual_income = serializers.DecimalField(**MONEY, required=False, allow_null=True, min_value=0)
    assets = serializers.CharField(max_length=300, required=False, allow_blank=True)
    asset_value = serializers.DecimalField(**MONEY, required=False, allow_null=True, min_value=0)
    labour_count = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=50
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class HouseholdMemberSerializer(serializers.ModelSerializer):
    is_minimally_filed = serializers.BooleanField()

    class Meta:
        model = HouseholdMember
        fields = [
            "id",
            "household",
            "name",
            "relation",
            "gender",
            "birth_year",
            "occupation",
            "is_migrant",
            "works_in",
            "customer",
            "note",
            "is_minimally_filed",
        ]


class HouseholdMemberInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    relation = serializers.ChoiceField(choices=HouseholdMember.Relation.choices)
    gender = serializers.ChoiceField(
        choices=Customer.Gender.choices, required=False, allow_blank=True
    )
    birth_year = serializers.IntegerField(min_value=1900, max_value=2100, allow_null=True)
    occupation = serializers.ChoiceField(
        choices=Occupation.choices, required=False, allow_blank=True
    )
    is_migrant = serializers.BooleanField(required=False)
    works_in = serializers.CharField(max_length=100, required=False, allow_blank=True)
    customer = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- campaigns --------------------------------------------------------------------------------


class CampaignSerializer(serializers.ModelSerializer):
    village = VillageRefSerializer()
    project_manager = GridStaffRefSerializer()
    product = GridRefSerializer()
    evaluators = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()

    class Meta:
        model = VillageCreditCampaign
        fields = [
            "id",
            "name",
            "village",
            "project_manager",
            "product",
            "phase",
            "starts_on",
            "ends_on",
            "tolerance",
            "credit_months",
            "evaluators",
            "figures",
        ]

    def get_evaluators(self, campaign: VillageCreditCampaign) -> list[int]:
        return [slot.user_id for slot in campaign.evaluator_slots.all()]

    @extend_schema_field(CampaignFiguresSerializer)
    def get_figures(self, campaign: VillageCreditCampaign) -> dict:
        from grid.metrics import CampaignFigures

        return CampaignFiguresSerializer(
            _figures(self.context, "figures", campaign.pk, CampaignFigures())
        ).data


class CampaignInputSerializer(serializers.Serializer):
    village = serializers.IntegerField()
    name = serializers.CharField(max_length=100)
    project_manager = serializers.IntegerField()
    product = serializers.IntegerField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    tolerance = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        min_value=0,
        max_value=1,
        required=False,
        help_text="A fraction: 0.200 = spread within 20% of the median (the default).",
    )
    credit_months = serializers.IntegerField(min_value=1, max_value=60, required=False)


class CampaignUpdateInputSerializer(serializers.Serializer):
    """The terms to change; leave out what stays. The product, the start, the tolerance and the
    months change only in preparation (409 later)."""

    name = serializers.CharField(max_length=100, required=False)
    project_manager = serializers.IntegerField(required=False)
    product = serializers.IntegerField(required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    tolerance = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False
    )
    credit_months = serializers.IntegerField(min_value=1, max_value=60, required=False)


class EvaluatorsInputSerializer(serializers.Serializer):
    evaluators = serializers.ListField(child=serializers.IntegerField(), min_length=3, max_length=3)


class CampaignTransitionInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=["crediting", "follow_up"])


class HouseholdRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "head_name", "village_group", "head"]


class CampaignHouseholdSerializer(serializers.ModelSerializer):
    """A household in a campaign. Of the evaluation only the count is given: the entries
    themselves come from the evaluations endpoint, which applies the back-to-back rule."""

    household = HouseholdRefSerializer()
    stage = serializers.CharField()
    # Named apart from the customers app's visit channel and outcome, so that each choice set
    # gets its own enum in the OpenAPI schema.
    reconcile_outcome = serializers.ChoiceField(
        source="outcome", choices=CampaignHousehold.Outcome.choices, allow_blank=True
    )
    signing_channel = serializers.ChoiceField(
        source="channel", choices=CampaignHousehold.Channel.choices, allow_blank=True
    )
    credit_line = serializers.CharField(source="credit_line.number", allow_null=True, default=None)

    class Meta:
        model = CampaignHousehold
        fields = [
            "id",
            "household",
            "stage",
            "excluded_reason",
            "exclusion_note",
            "submitted_count",
            "evaluated_at",
            "reconcile_outcome",
            "proposed_limit",
            "proposed_rating",
            "limit",
            "rating",
            "pre_credited_at",
            "signing",
            "signing_channel",
            "refusal_reason",
            "away_note",
            "away_follow_up_on",
            "signed_at",
            "credit_line",
        ]


class HouseholdEvaluationSerializer(serializers.ModelSerializer):
    evaluator = GridStaffRefSerializer()
    household = serializers.IntegerField(source="entry.household_id")

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "entry",
            "household",
            "evaluator",
            "rating",
            "suggested_limit",
            "comment",
            "submitted_at",
        ]


class HouseholdEvaluationInputSerializer(serializers.Serializer):
    entry = serializers.IntegerField(help_text="The campaign household (its id).")
    rating = serializers.ChoiceField(choices=CreditRating.choices)
    suggested_limit = serializers.DecimalField(**MONEY, min_value=0)
    comment = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ReconcileCountsSerializer(serializers.Serializer):
    reconciled = serializers.IntegerField()
    close = serializers.IntegerField()
    compromise = serializers.IntegerField()
    pre_credited = serializers.IntegerField()


class ReconcileRuleSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    limit_rule = serializers.CharField()
    rating_rule = serializers.CharField()
    limits = serializers.ListField(child=serializers.DecimalField(**MONEY))
    ratings = serializers.ListField(child=serializers.CharField())
    tolerance = serializers.DecimalField(max_digits=4, decimal_places=3)
    spread = serializers.DecimalField(**MONEY)
    median = serializers.DecimalField(**MONEY)
    mean = serializers.DecimalField(**MONEY)
    threshold = serializers.DecimalField(**MONEY)
    limits_close = serializers.BooleanField()


class ReconcileResultSerializer(CampaignHouseholdSerializer):
    rule = serializers.SerializerMethodField()
    decision_comment = serializers.CharField()
    decided_by = GridStaffRefSerializer(allow_null=True)

    class Meta(CampaignHouseholdSerializer.Meta):
        fields = [
            *CampaignHouseholdSerializer.Meta.fields,
            "rule",
            "decision_comment",
            "decided_by",
        ]

    @extend_schema_field(ReconcileRuleSerializer(allow_null=True))
    def get_rule(self, entry: CampaignHousehold) -> dict | None:
        if entry.reconciled_at is None:
            return None
        return ReconcileRuleSerializer(
            {
                **entry.reconcile_inputs,
                "outcome": entry.outcome,
                "limit_rule": entry.limit_rule,
                "rating_rule": entry.rating_rule,
            }
        ).data


class GroupDecisionInputSerializer(serializers.Serializer):
    limit = serializers.DecimalField(**MONEY, min_value=0, help_text="0 = no credit.")
    rating = serializers.ChoiceField(choices=CreditRating.choices, required=False, allow_blank=True)
    comment = serializers.CharField(max_length=2000)


class CampaignSigningInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["sign", "refuse", "away"])
    signing_channel = serializers.ChoiceField(
        choices=CampaignHousehold.Channel.choices,
        default=CampaignHousehold.Channel.DOOR_TO_DOOR,
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    follow_up_on = serializers.DateField(required=False)


class BatchSigningInputSerializer(serializers.Serializer):
    entries = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=5000,
        help_text="Campaign household ids; leave out to sign every pre-credited household "
        "still pending.",
    )
    signing_channel = serializers.ChoiceField(
        choices=CampaignHousehold.Channel.choices,
        default=CampaignHousehold.Channel.CENTRALIZED,
    )


class BatchSigningFailureSerializer(serializers.Serializer):
    entry = serializers.IntegerField()
    household = serializers.IntegerField()
    reason = serializers.CharField()


class BatchSigningOutputSerializer(serializers.Serializer):
    signed = serializers.IntegerField()
    failed = BatchSigningFailureSerializer(many=True)


class GridFollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["no_card", "unused", "away"])
    household = serializers.IntegerField(source="household_id")
    head_name = serializers.CharField(source="household.head_name")
    village = serializers.CharField(source="household.village")
    campaign = serializers.IntegerField(source="entry.campaign_id")
    last_contact = serializers.DateField(allow_null=True)
    due_by = serializers.DateField()


class FollowUpDoneInputSerializer(serializers.Serializer):
    """How and with what outcome the household was contacted today."""

    channel = serializers.ChoiceField(choices=Visit.Channel.choices)
    outcome = serializers.ChoiceField(choices=Visit.Outcome.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class FollowUpDoneOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    visit = serializers.IntegerField(source="visit_id", allow_null=True)
    completed_at = serializers.DateTimeField()
