"""Serializers of the customer files API. Input and output differ: numbers go in in full and come
out masked (``id_number_masked``, ``mobile_masked``); the full value only through ``reveal``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coop.models import OrgUnit, User
from customers.forms import account_managers_visible
from customers.models import (
    Customer,
    CustomerCategory,
    CustomerClass,
    IncomeBand,
    IndustryCategory,
    Occupation,
    PersonalDataAccess,
    Workplace,
)
from customers.services.files import CustomerFields, id_number_mismatch
from customers.validators import (
    mask_id_number,
    mask_mobile,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)


def _run(validator, value: str) -> None:
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages[0], code=exc.code) from None


# --- output -------------------------------------------------------------------------------------


def _optional_choice(choices) -> serializers.ChoiceField:
    # Read-only model fields lose ``allow_blank``; without it the schema's enum leaves out the
    # empty value these optional fields do hold.
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class CustomerOutputSerializer(serializers.ModelSerializer):
    gender = _optional_choice(Customer.Gender.choices)
    occupation = _optional_choice(Occupation.choices)
    income_band = _optional_choice(IncomeBand.choices)
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    b_manager_name = serializers.SerializerMethodField()
    id_number_masked = serializers.SerializerMethodField()
    mobile_masked = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        # No birth date: with the masked ID's first and last four characters it would give away
        # most of the number. ``age`` serves segmentation.
        fields = [
            "id",
            "kind",
            "name",
            "branch",
            "branch_name",
            "owner",
            "owner_name",
            "b_manager",
            "b_manager_name",
            "id_number_masked",
            "credit_code",
            "mobile_masked",
            "gender",
            "age",
            "occupation",
            "workplace",
            "work_location",
            "income_band",
            "legal_representative",
            "finance_contact",
            "industry",
            "address",
            "customer_class",
            "managing_level",
            "industry_category",
            "customer_category",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_b_manager_name(self, customer: Customer) -> str | None:
        return customer.b_manager.display_name if customer.b_manager else None

    def get_id_number_masked(self, customer: Customer) -> str:
        return mask_id_number(customer.id_number or "")

    def get_mobile_masked(self, customer: Customer) -> str:
        return mask_mobile(customer.mobile)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_age(self, customer: Customer) -> int | None:
        return customer.age()


class SegmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class CustomerDetailOutputSerializer(CustomerOutputSerializer):
    policy = serializers.ListField(child=serializers.CharField(), read_only=True)
    segments = SegmentRefSerializer(many=True, read_only=True)

    class Meta(CustomerOutputSerializer.Meta):
        fields = [*CustomerOutputSerializer.Meta.fields, "policy", "segments"]
        read_only_fields = fields


# --- input --------------------------------------------------------------------------------------


class _CustomerInputBase(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=30, required=False, write_only=True)
    gender = serializers.ChoiceField(
        choices=Customer.Gender.choices, required=False, allow_blank=True
    )
    birth_date = serializers.DateField(required=False, allow_null=True)
    occupation = serializers.ChoiceField(
        choices=Occupation.choices, required=False, allow_blank=True
    )
    workplace = serializers.ChoiceField(choices=Workplace.choices, required=False)
    work_location = serializers.CharField(max_length=100, required=False, allow_blank=True)
    income_band = serializers.ChoiceField(
        choices=IncomeBand.choices, required=False, allow_blank=True
    )
    credit_code = serializers.CharField(max_length=30, required=False)
    legal_representative = serializers.CharField(max_length=50, required=False, allow_blank=True)
    finance_contact = serializers.CharField(max_length=50, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=60, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, write_only=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_id_number(self, value: str) -> str:
        number = normalize_id_number(value)
        _run(validate_id_number, number)
        return number

    def validate_credit_code(self, value: str) -> str:
        code = normalize_credit_code(value)
        _run(validate_credit_code, code)
        return code

    def validate_mobile(self, value: str) -> str:
        mobile = normalize_mobile(value)
        if mobile:
            _run(validate_mobile, mobile)
        return mobile

    def _check_identity(self, attrs: dict[str, Any], kind: str, current: str | None) -> None:
        if kind == Customer.Kind.INDIVIDUAL:
            if attrs.get("credit_code"):
                raise serializers.ValidationError(
                    {"credit_code": _("An individual customer has no unified social credit code.")}
                )
            number = attrs.get("id_number") or current
            if not number:
                raise serializers.ValidationError(
                    {"id_number": _("The ID number is required for an individual customer.")}
                )
            mismatch = id_number_mismatch(
                number, gender=attrs.get("gender") or "", birth_date=attrs.get("birth_date")
            )
            if mismatch:
                raise serializers.ValidationError({mismatch[0]: mismatch[1]})
        else:
            if attrs.get("id_number"):
                raise serializers.ValidationError(
                    {"id_number": _("A corporate customer has no resident ID number.")}
                )
            if not (attrs.get("credit_code") or current):
                raise serializers.ValidationError(
                    {
                        "credit_code": _(
                            "The unified social credit code is required for a corporate customer."
                        )
                    }
                )


class CustomerCreateInputSerializer(_CustomerInputBase):
    kind = serializers.ChoiceField(choices=Customer.Kind.choices)
    branch = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Only for head-office staff; everyone else files into their own branch."),
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("The account manager; defaults to the account manager filing the customer."),
    )
    b_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            managers = account_managers_visible(request.user)
            self.fields["owner"].queryset = managers
            self.fields["b_manager"].queryset = managers
            self.fields["branch"].queryset = OrgUnit.objects.filter(
                kind=OrgUnit.Kind.BRANCH, is_active=True
            )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        self._check_identity(attrs, attrs["kind"], None)
        return attrs

    def service_data(self) -> CustomerFields:
        return dict(self.validated_data)  # type: ignore[return-value]


class CustomerUpdateInputSerializer(_CustomerInputBase):
    """PATCH: a missing key keeps the current value; the ID number cannot be emptied."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        customer: Customer = self.instance
        current = customer.id_number if customer.is_individual else customer.credit_code
        self._check_identity(attrs, customer.kind, current)
        return attrs

    def service_data(self) -> CustomerFields:
        return dict(self.validated_data)  # type: ignore[return-value]


class RevealInputSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=PersonalDataAccess.Field.choices)


class RevealOutputSerializer(serializers.Serializer):
    value = serializers.CharField()


# For the schema of the list filters; the same names as the page's GET filters.
FILTER_CHOICES = {
    "kind": Customer.Kind.values,
    "customer_class": CustomerClass.values,
    "customer_category": CustomerCategory.values,
    "industry_category": IndustryCategory.values,
}
