"""Forms of the customer files: list filters, find by number, create and edit.

The forms show every field error at once using the same validators and helpers as the service;
the service still decides (duplicates, branch and account-manager rules) and its ``DomainError``
is put back on the field it names.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from coop.models import OrgUnit, User
from coop.roles import Role, has_role
from coop.scoping import visible_org_units
from customers.models import (
    Customer,
    CustomerCategory,
    CustomerClass,
    IncomeBand,
    IndustryCategory,
    Occupation,
    Segment,
    Workplace,
)
from customers.selectors import customers_visible
from customers.services.files import (
    CustomerFields,
    account_managers_of,
    acts_branch_wide,
    creation_branch,
    id_number_mismatch,
)
from customers.validators import (
    credit_code_is_valid,
    id_number_is_valid,
    mask_id_number,
    mask_mobile,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)

# Seven digits in a row cannot be part of a name: it is (part of) an ID, mobile or credit code,
# which must not travel in a URL.
_NUMBER_RE = re.compile(r"[0-9]{7,}|[0-9A-Za-z]{17,}")


def looks_like_number(text: str) -> bool:
    return bool(_NUMBER_RE.search(text or ""))


def _blank(choices) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


def _manager_label(user: User) -> str:
    return f"{user.display_name} · {user.org_unit.name}"


class BootstrapFormMixin:
    """Bootstrap classes on the widgets, and ``is-invalid`` on every field with an error (also
    those the view adds from a service's ``DomainError``)."""

    def _style_widgets(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = css

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _manager_label(obj)


def account_managers_visible(user: User) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True,
            groups__name=Role.ACCOUNT_MANAGER,
            org_unit__in=visible_org_units(user),
        )
        .select_related("org_unit")
        .distinct()
        .order_by("name", "username")
    )


# --- list ---------------------------------------------------------------------------------------


class CustomerFilterForm(BootstrapFormMixin, forms.Form):
    """GET filters of the list, the API list and the export. Names only: numbers go by POST."""

    q = forms.CharField(label=_("Name"), max_length=50, required=False)
    kind = forms.ChoiceField(
        label=_("Customer type"), choices=_blank(Customer.Kind.choices), required=False
    )
    customer_class = forms.ChoiceField(
        label=_("Customer class"), choices=_blank(CustomerClass.choices), required=False
    )
    customer_category = forms.ChoiceField(
        label=_("Customer category"), choices=_blank(CustomerCategory.choices), required=False
    )
    industry_category = forms.ChoiceField(
        label=_("Industry entry category"),
        choices=_blank(IndustryCategory.choices),
        required=False,
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label=_("All"),
    )
    owner = ManagerChoiceField(
        label=_("Account manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("All"),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.has_perm("customers.view_segment"):
            del self.fields["segment"]
        # Account managers see only their own customers; an owner filter is for branch-wide roles.
        if acts_branch_wide(user):
            self.fields["owner"].queryset = account_managers_visible(user)
        else:
            del self.fields["owner"]
        self._style_widgets()

    def clean_q(self) -> str:
        q = self.cleaned_data["q"].strip()
        if looks_like_number(q):
            raise ValidationError(
                _("To find a customer by ID number or mobile number, use the find box."),
                code="number_in_url",
            )
        return q

    def filter(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        """``queryset`` narrowed by the filters that are valid; an invalid one (only a hand-made
        URL can send one) is left out and shown as a field error."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("q"):
            queryset = queryset.filter(name__icontains=data["q"])
        for field in ("kind", "customer_class", "customer_category", "industry_category"):
            if data.get(field):
                queryset = queryset.filter(**{field: data[field]})
        if data.get("segment"):
            queryset = queryset.filter(memberships__segment=data["segment"])
        if data.get("owner"):
            queryset = queryset.filter(Q(owner=data["owner"]) | Q(b_manager=data["owner"]))
        return queryset


class CustomerFindForm(BootstrapFormMixin, forms.Form):
    """Find one customer by a full number, sent by POST so it stays out of URLs and logs."""

    number = forms.CharField(
        label=_("ID number, credit code or mobile number"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style_widgets()

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip()

    def matches(self, user: User) -> QuerySet[Customer]:
        number = self.cleaned_data["number"]
        conditions = Q(pk__in=[])
        id_number = normalize_id_number(number)
        if id_number_is_valid(id_number):
            conditions |= Q(id_number=id_number)
        credit_code = normalize_credit_code(number)
        if credit_code_is_valid(credit_code):
            conditions |= Q(credit_code=credit_code)
        mobile = normalize_mobile(number)
        try:
            validate_mobile(mobile)
        except ValidationError:
            pass
        else:
            conditions |= Q(mobile=mobile)
        return (
            customers_visible(user)
            .filter(conditions)
            .select_related("branch", "owner", "b_manager")
            .order_by("name", "id")
        )


# --- create and edit ----------------------------------------------------------------------------


class CustomerForm(BootstrapFormMixin, forms.Form):
    """Create (``customer=None``) or edit one customer of ``kind``.

    On edit the ID and mobile numbers are never put back into the page (the clerk may not be
    allowed to see them): they are empty, show the masked value, and empty means "keep".
    """

    name = forms.CharField(label=_("Name"), max_length=100)
    # individuals
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=[("", _("From the ID number")), *Customer.Gender.choices],
        required=False,
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    occupation = forms.ChoiceField(
        label=_("Occupation / work type"),
        choices=[("", "—"), *Occupation.choices],
        required=False,
    )
    workplace = forms.ChoiceField(
        label=_("Workplace"),
        choices=Workplace.choices,
        initial=Workplace.HOME,
        widget=forms.RadioSelect,
    )
    work_location = forms.CharField(label=_("Where they work"), max_length=100, required=False)
    income_band = forms.ChoiceField(
        label=_("Income band"), choices=[("", "—"), *IncomeBand.choices], required=False
    )
    # corporates
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    legal_representative = forms.CharField(
        label=_("Legal representative"), max_length=50, required=False
    )
    finance_contact = forms.CharField(label=_("Finance contact"), max_length=50, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=60, required=False)
    # both
    mobile = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    # creation only
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=OrgUnit.objects.none(), required=True
    )
    owner = ManagerChoiceField(
        label=_("Account manager"), queryset=User.objects.none(), required=True
    )
    b_manager = ManagerChoiceField(
        label=_("B-role manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("None"),
    )

    INDIVIDUAL = (
        "name",
        "id_number",
        "gender",
        "birth_date",
        "occupation",
        "workplace",
        "work_location",
        "income_band",
        "mobile",
        "address",
    )
    CORPORATE = (
        "name",
        "credit_code",
        "legal_representative",
        "finance_contact",
        "industry",
        "mobile",
        "address",
    )
    ASSIGNMENT = ("branch", "owner", "b_manager")

    def __init__(self, *args, user: User, kind: str, customer: Customer | None = None, **kwargs):
        self.user = user
        self.kind = kind
        self.customer = customer
        if customer is not None:
            kwargs.setdefault("initial", self._initial_from(customer))
        super().__init__(*args, **kwargs)
        wanted = self.INDIVIDUAL if kind == Customer.Kind.INDIVIDUAL else self.CORPORATE
        if customer is None:
            wanted = (*wanted, *self._assignment_fields())
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]

        if kind == Customer.Kind.INDIVIDUAL:
            self.fields["id_number"].required = customer is None
            self.fields["gender"].help_text = _(
                "Optional; checked against the ID number, taken from it when left empty."
            )
            self.fields["birth_date"].help_text = self.fields["gender"].help_text
        else:
            self.fields["credit_code"].required = True
        if customer is not None:
            keep = _("Leave empty to keep the current number.")
            if kind == Customer.Kind.INDIVIDUAL and customer.id_number:
                self.fields["id_number"].widget.attrs["placeholder"] = mask_id_number(
                    customer.id_number
                )
                self.fields["id_number"].help_text = keep
            if customer.mobile:
                self.fields["mobile"].widget.attrs["placeholder"] = mask_mobile(customer.mobile)
                self.fields["mobile"].help_text = keep
        self._style_widgets()

    @staticmethod
    def _initial_from(customer: Customer) -> dict[str, Any]:
        # Everything but the personal numbers, the derived gender and the birth date (which,
        # with the masked ID's first and last four characters, would give most of the number).
        fields = (
            "name",
            "occupation",
            "workplace",
            "work_location",
            "income_band",
            "credit_code",
            "legal_representative",
            "finance_contact",
            "industry",
            "address",
        )
        return {field: getattr(customer, field) for field in fields}

    def _assignment_fields(self) -> tuple[str, ...]:
        branch = creation_branch(self.user)
        fields: list[str] = []
        if branch is None:
            fields.append("branch")
            self.fields["branch"].queryset = OrgUnit.objects.filter(
                kind=OrgUnit.Kind.BRANCH, is_active=True
            ).order_by("code")
            managers = account_managers_visible(self.user)
        else:
            managers = account_managers_of(branch).select_related("org_unit")
        if acts_branch_wide(self.user):
            fields.append("owner")
            self.fields["owner"].queryset = managers
            if has_role(self.user, Role.ACCOUNT_MANAGER):
                self.fields["owner"].initial = self.user.pk
        fields.append("b_manager")
        if "owner" not in fields:
            managers = managers.exclude(pk=self.user.pk)
        self.fields["b_manager"].queryset = managers
        return tuple(fields)

    # --- field validation (same validators as the service) --------------------------------

    def clean_id_number(self) -> str:
        number = normalize_id_number(self.cleaned_data.get("id_number", ""))
        if number:
            validate_id_number(number)
        return number

    def clean_credit_code(self) -> str:
        code = normalize_credit_code(self.cleaned_data.get("credit_code", ""))
        if code:
            validate_credit_code(code)
        return code

    def clean_mobile(self) -> str:
        mobile = normalize_mobile(self.cleaned_data.get("mobile", ""))
        if mobile:
            validate_mobile(mobile)
        return mobile

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.kind == Customer.Kind.INDIVIDUAL and "id_number" not in self.errors:
            number = data.get("id_number") or (self.customer.id_number if self.customer else "")
            if number:
                mismatch = id_number_mismatch(
                    number, gender=data.get("gender") or "", birth_date=data.get("birth_date")
                )
                if mismatch:
                    self.add_error(mismatch[0], mismatch[1])
        owner = data.get("owner") or (self.user if "owner" not in self.fields else None)
        b_manager = data.get("b_manager")
        if b_manager is not None and owner is not None and b_manager.pk == owner.pk:
            self.add_error(
                "b_manager",
                _("The B-role manager must be someone other than the account manager."),
            )
        return data

    def service_data(self) -> CustomerFields:
        """The cleaned values as the service takes them; on edit, empty numbers and the empty
        derived fields are left out, meaning "keep"."""
        data: dict[str, Any] = {
            name: value for name, value in self.cleaned_data.items() if name in self.fields
        }
        if self.customer is None:
            data["kind"] = self.kind
        else:
            for name in ("id_number", "mobile", "gender", "birth_date"):
                if name in data and not data[name]:
                    del data[name]
        return data  # type: ignore[return-value]
