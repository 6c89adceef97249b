"""Serializers of the origination API. Input and output differ (the output nests the customer
and product, the input takes their ids), so each has its own class. Money is a string with two
decimals ("5000.00"), rates a fraction string with six ("0.043500")."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from customers.models import CreditRating, Customer
from customers.selectors import customers_visible
from loans.models import (
    Collateral,
    DayCount,
    Guarantor,
    LoanApplication,
    Product,
    ProductTier,
    RepaymentMethod,
    RiskRoute,
)
from loans.schedules import ScheduleError, generate_schedule


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


def rate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=8, decimal_places=6, **kwargs)


class ScopedCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer id the requesting user may see; any other id reads as "does not exist", so
    nothing is learnt about other branches' customers."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Customer.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Customer.objects.none()
        return customers_visible(request.user)


# --- products -----------------------------------------------------------------------------------


class ProductTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductTier
        fields = ["rating", "min_amount", "max_amount"]


class ProductSerializer(serializers.ModelSerializer):
    repayment_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=RepaymentMethod.choices)
    )
    eligible_ratings = serializers.ListField(
        child=serializers.ChoiceField(choices=CreditRating.choices)
    )
    tiers = ProductTierSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "description",
            "kind",
            "customer_kind",
            "min_amount",
            "max_amount",
            "min_term_months",
            "max_term_months",
            "min_rate",
            "max_rate",
            "repayment_methods",
            "security",
            "eligible_ratings",
            "revolving",
            "revolving_years",
            "default_route",
            "is_active",
            "sort_order",
            "tiers",
        ]
        read_only_fields = fields


class ProductTierInputSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=CreditRating.choices)
    min_amount = money()
    max_amount = money()


class ProductInputSerializer(serializers.Serializer):
    """Create (POST, ``code`` required) or change (PUT all fields, PATCH some) a product. The
    code cannot change; ``tiers`` given replaces all tiers."""

    code = serializers.SlugField(max_length=40, required=False)
    name = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=Product.Kind.choices)
    customer_kind = serializers.ChoiceField(choices=Product.CustomerKind.choices)
    min_amount = money()
    max_amount = money()
    min_term_months = serializers.IntegerField(min_value=1, max_value=360)
    max_term_months = serializers.IntegerField(min_value=1, max_value=360)
    min_rate = rate(help_text=gettext_lazy("Annual rate as a fraction: 0.0435 is 4.35%."))
    max_rate = rate()
    repayment_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=RepaymentMethod.choices), allow_empty=False
    )
    security = serializers.ChoiceField(choices=Product.Security.choices)
    eligible_ratings = serializers.ListField(
        child=serializers.ChoiceField(choices=CreditRating.choices), required=False, default=list
    )
    revolving = serializers.BooleanField(required=False, default=False)
    revolving_years = serializers.IntegerField(min_value=0, max_value=10, required=False, default=0)
    default_route = serializers.ChoiceField(choices=RiskRoute.choices)
    is_active = serializers.BooleanField(required=False, default=True)
    sort_order = serializers.IntegerField(min_value=0, max_value=32767, required=False, default=100)
    tiers = ProductTierInputSerializer(many=True, required=False)


class EligibleProductSerializer(serializers.Serializer):
    product = ProductSerializer()
    min_amount = money(help_text=gettext_lazy("The least this customer may borrow."))
    max_amount = money(help_text=gettext_lazy("The most this customer may borrow."))


# --- applications -------------------------------------------------------------------------------


class CustomerBriefSerializer(serializers.ModelSerializer):
    # Corporate customers have no rating: the empty value belongs in the schema's enum.
    credit_rating = serializers.ChoiceField(
        choices=CreditRating.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Customer
        fields = ["id", "name", "kind", "credit_rating"]
        read_only_fields = fields


class ProductBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name"]
        read_only_fields = fields


class GuarantorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Guarantor
        fields = ["id", "name", "is_company", "customer", "relationship"]
        read_only_fields = fields


class CollateralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Collateral
        fields = ["id", "description", "appraised_value"]
        read_only_fields = fields


class LoanApplicationSerializer(serializers.ModelSerializer):
    customer = CustomerBriefSerializer(read_only=True)
    product = ProductBriefSerializer(read_only=True)
    branch = serializers.CharField(source="branch.name", read_only=True)
    prepared_by = serializers.CharField(source="prepared_by.display_name", read_only=True)
    guarantors = GuarantorSerializer(many=True, read_only=True)
    collaterals = CollateralSerializer(many=True, read_only=True)

    class Meta:
        model = LoanApplication
        fields = [
            "id",
            "number",
            "state",
            "customer",
            "branch",
            "product",
            "amount",
            "term_months",
            "annual_rate",
            "repayment_method",
            "purpose",
            "prepared_by",
            "created_at",
            "submitted_at",
            "decided_at",
            "approved_amount",
            "decision_comment",
            "guarantors",
            "collaterals",
        ]
        read_only_fields = fields


class GuarantorInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_company = serializers.BooleanField(required=False, default=False)
    customer = ScopedCustomerField(required=False, allow_null=True, default=None)
    relationship = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )


class CollateralInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200)
    appraised_value = money()


class LoanApplicationCreateSerializer(serializers.Serializer):
    customer = ScopedCustomerField()
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    amount = money()
    term_months = serializers.IntegerField(min_value=1, max_value=360)
    annual_rate = rate(help_text=gettext_lazy("Annual rate as a fraction: 0.0435 is 4.35%."))
    repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices)
    purpose = serializers.CharField(max_length=200)
    guarantors = GuarantorInputSerializer(many=True, required=False, default=list)
    collaterals = CollateralInputSerializer(many=True, required=False, default=list)


class LoanApplicationUpdateSerializer(serializers.Serializer):
    """PATCH of a draft: fields left out stay; ``guarantors`` / ``collaterals`` given replace
    the whole list."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False)
    amount = money(required=False)
    term_months = serializers.IntegerField(min_value=1, max_value=360, required=False)
    annual_rate = rate(required=False)
    repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices, required=False)
    purpose = serializers.CharField(max_length=200, required=False)
    guarantors = GuarantorInputSerializer(many=True, required=False)
    collaterals = CollateralInputSerializer(many=True, required=False)


# --- schedule preview ---------------------------------------------------------------------------


class SchedulePreviewInputSerializer(serializers.Serializer):
    amount = money(min_value=Decimal("0.01"))
    annual_rate = rate(
        min_value=Decimal(0),
        max_value=Decimal("0.999999"),
        help_text=gettext_lazy("Annual rate as a fraction: 0.0435 is 4.35%."),
    )
    term_months = serializers.IntegerField(min_value=1, max_value=360)
    method = serializers.ChoiceField(choices=RepaymentMethod.choices)
    start_date = serializers.DateField()
    day_count = serializers.ChoiceField(
        choices=DayCount.choices, required=False, default=DayCount.THIRTY_360
    )

    def validate(self, attrs):
        try:
            attrs["installments"] = generate_schedule(
                amount=attrs["amount"],
                annual_rate=attrs["annual_rate"],
                term_months=attrs["term_months"],
                method=attrs["method"],
                start_date=attrs["start_date"],
                day_count=attrs["day_count"],
            )
        except ScheduleError:
            # The engine refuses amortizing schedules that cannot repay a fen per installment.
            raise serializers.ValidationError(
                {
                    "amount": [
                        _(
                            "The amount is too small for this term: every installment must "
                            "repay at least ¥0.01."
                        )
                    ]
                }
            ) from None
        return attrs


class InstallmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = money()
    interest = money()
    total = money()
    remaining = money()


class ScheduleTotalsSerializer(serializers.Serializer):
    total_principal = money()
    total_interest = money()
    total_paid = money()
    installments = serializers.IntegerField()


class SchedulePreviewSerializer(serializers.Serializer):
    installments = InstallmentSerializer(many=True)
    totals = ScheduleTotalsSerializer()
