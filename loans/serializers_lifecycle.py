"""Serializers of the lifecycle API. Input and output are separate classes: what a client sends
(a grant, a drawdown, a repayment) is not the shape of what it gets back.

Amounts travel as decimal strings ("12000.00") and rates as fractions ("0.043500").
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from customers.selectors import customers_visible
from loans.models import (
    Classification,
    CreditLine,
    DayCount,
    DisbursementNotice,
    GuaranteeContract,
    Installment,
    Loan,
    Product,
    Repayment,
    RepaymentMethod,
)

MONEY = {"max_digits": 16, "decimal_places": 2}


def _code(values: list[str]) -> serializers.CharField:
    # Codes go out as plain strings with their values listed: several models have a "state" or
    # "status" with different choices, and enum components named after the field would collide
    # in the OpenAPI schema.
    return serializers.CharField(read_only=True, help_text=" | ".join(values))


# --- output -------------------------------------------------------------------------------------


class CreditLineOut(serializers.ModelSerializer):
    status = _code(CreditLine.Status.values)
    source = _code(CreditLine.Source.values)
    customer_name = serializers.CharField(source="customer.name")
    product_name = serializers.CharField(source="product.name")
    used = serializers.DecimalField(**MONEY, read_only=True)
    available = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = CreditLine
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "branch",
            "product",
            "product_name",
            "limit",
            "used",
            "available",
            "drawn_total",
            "valid_from",
            "valid_to",
            "revolving",
            "guarantee_contract",
            "status",
            "source",
            "created_at",
        ]
        read_only_fields = fields


class LoanOut(serializers.ModelSerializer):
    state = _code(Loan.State.values)
    classification = _code(Classification.values)
    repayment_method = _code(RepaymentMethod.values)
    customer_name = serializers.CharField(source="customer.name")
    product_name = serializers.CharField(source="product.name")
    branch_name = serializers.CharField(source="branch.name")

    class Meta:
        model = Loan
        fields = [
            "id",
            "number",
            "customer",
            "customer_name",
            "branch",
            "branch_name",
            "product",
            "product_name",
            "credit_line",
            "contract",
            "principal",
            "outstanding_principal",
            "annual_rate",
            "term_months",
            "repayment_method",
            "state",
            "classification",
            "classification_locked",
            "days_past_due",
            "disbursed_on",
            "maturity_date",
        ]
        read_only_fields = fields


class LoanDetailOut(LoanOut):
    day_count = _code(DayCount.values)
    account_manager_name = serializers.CharField(source="account_manager.display_name")
    contract_number = serializers.CharField(source="contract.number")

    class Meta(LoanOut.Meta):
        fields = [
            *LoanOut.Meta.fields,
            "account_manager",
            "account_manager_name",
            "contract_number",
            "day_count",
            "settled_on",
        ]
        read_only_fields = fields


class InstallmentOut(serializers.ModelSerializer):
    total = serializers.DecimalField(**MONEY, read_only=True)

    class Meta:
        model = Installment
        fields = [
            "number",
            "due_date",
            "principal",
            "interest",
            "total",
            "paid_principal",
            "paid_interest",
            "paid_penalty",
            "settled_on",
        ]
        read_only_fields = fields


class ScheduleTotalsOut(serializers.Serializer):
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)
    paid_principal = serializers.DecimalField(**MONEY)
    paid_interest = serializers.DecimalField(**MONEY)
    paid_penalty = serializers.DecimalField(**MONEY)


class ScheduleOut(serializers.Serializer):
    loan = serializers.IntegerField()
    day_count = serializers.CharField()
    installments = InstallmentOut(many=True)
    totals = ScheduleTotalsOut()


class RepaymentOut(serializers.ModelSerializer):
    recorded_by_name = serializers.CharField(source="recorded_by.display_name")

    class Meta:
        model = Repayment
        fields = [
            "id",
            "loan",
            "amount",
            "paid_on",
            "to_penalty",
            "to_interest",
            "to_principal",
            "idempotency_key",
            "recorded_by",
            "recorded_by_name",
            "recorded_at",
        ]
        read_only_fields = fields


class NoticeOut(serializers.ModelSerializer):
    status = _code(DisbursementNotice.Status.values)
    contract_number = serializers.CharField(source="contract.number")
    customer_name = serializers.CharField(source="contract.customer.name")
    loan = serializers.IntegerField(source="contract.loan.pk")

    class Meta:
        model = DisbursementNotice
        fields = [
            "id",
            "number",
            "contract",
            "contract_number",
            "loan",
            "customer_name",
            "amount",
            "account_number",
            "status",
            "issued_by",
            "issued_at",
            "disbursed_by",
            "disbursed_at",
        ]
        read_only_fields = fields


# --- input --------------------------------------------------------------------------------------


class CreditLineGrantIn(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=customers_visible(None))
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    limit = serializers.DecimalField(**MONEY, min_value=0)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    revolving = serializers.BooleanField()
    guarantee_contract = serializers.PrimaryKeyRelatedField(
        queryset=GuaranteeContract.objects.all(), required=False, allow_null=True
    )
    source = serializers.ChoiceField(
        choices=CreditLine.Source.choices, default=CreditLine.Source.APPLICATION
    )
    idempotency_key = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        help_text="Optional: the same key again returns the line the first request granted.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the requester's customers can be chosen: another branch's customer reads as
        # "does not exist", the same answer as a wrong id.
        request = self.context.get("request")
        user = request.user if request is not None else None
        self.fields["customer"].queryset = customers_visible(user)
        self.fields["guarantee_contract"].queryset = GuaranteeContract.objects.filter(
            customer__in=customers_visible(user)
        )

    def validate(self, attrs):
        if attrs["valid_to"] < attrs["valid_from"]:
            raise serializers.ValidationError(
                {"valid_to": [_("The end date is before the start date.")]}
            )
        return attrs


class DrawdownIn(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=0)
    term_months = serializers.IntegerField(min_value=1, max_value=360)
    repayment_method = serializers.ChoiceField(choices=RepaymentMethod.choices)
    annual_rate = serializers.DecimalField(max_digits=8, decimal_places=6, min_value=0)
    purpose = serializers.CharField(max_length=200)
    idempotency_key = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        help_text="Optional: the same key again returns the loan the first request drew.",
    )


class RepaymentIn(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=0)
    paid_on = serializers.DateField()
    idempotency_key = serializers.CharField(max_length=64)


class DisburseIn(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64)
    disbursed_on = serializers.DateField()
