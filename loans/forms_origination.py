"""Forms of the origination pages. They check shape (numbers, lengths, choices); the business
rules are the services' (``application_errors``, ``product_create``), whose errors are attached to
the matching fields with ``attach_errors``."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from coop.services import DomainError
from customers.models import CreditRating
from loans.models import DayCount, Product, RepaymentMethod, RiskRoute
from loans.services.origination import (
    CollateralFields,
    GuarantorFields,
    ProductFields,
    TierFields,
)

HUNDRED = Decimal(100)


def percent_to_rate(percent: Decimal) -> Decimal:
    """4.35 (%) → 0.0435; the form allows four decimals in percent, the column six as a
    fraction, so the division is exact."""
    return percent / HUNDRED


def rate_to_percent(rate: Decimal) -> Decimal:
    """0.043500 → 4.35, 0.1 → 10 (never 1E+1: the value goes into inputs and URLs)."""
    text = f"{(rate * HUNDRED).quantize(Decimal('0.0001')):f}"
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


class MoneyField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        super().__init__(**kwargs)
        # Keep the browser's own number checks out of the way: our messages name the limits.
        self.widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class PercentField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal("99.9999"))
        super().__init__(**kwargs)
        self.widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control")


def attach_errors(
    form: forms.Form,
    errors: list[DomainError],
    *,
    field_map: dict[str, str] | None = None,
    formsets: dict[str, forms.BaseFormSet] | None = None,
) -> None:
    """Show the services' errors on the form: on the field they name (renamed through
    ``field_map``), on a formset's own error list, or on top of the form."""
    field_map = field_map or {}
    formsets = formsets or {}
    for error in errors:
        field = field_map.get(error.field or "", error.field)
        if field in formsets:
            formsets[field]._non_form_errors = formsets[field].error_class(
                [*formsets[field].non_form_errors(), error.message]
            )
        elif field in form.fields:
            form.add_error(field, error.message)
        else:
            form.add_error(None, error.message)


# --- products -----------------------------------------------------------------------------------


class ProductForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Product.Kind.choices)
    customer_kind = forms.ChoiceField(
        label=_("Customer type"), choices=Product.CustomerKind.choices
    )
    min_amount = MoneyField(label=_("Minimum amount (¥)"))
    max_amount = MoneyField(label=_("Maximum amount (¥)"))
    min_term_months = forms.IntegerField(label=_("Minimum term (months)"), min_value=1)
    max_term_months = forms.IntegerField(label=_("Maximum term (months)"), min_value=1)
    min_rate_percent = PercentField(label=_("Minimum annual rate (%)"))
    max_rate_percent = PercentField(label=_("Maximum annual rate (%)"))
    repayment_methods = forms.MultipleChoiceField(
        label=_("Repayment methods allowed"),
        choices=RepaymentMethod.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    security = forms.ChoiceField(
        label=_("Guarantee or collateral"), choices=Product.Security.choices
    )
    eligible_ratings = forms.MultipleChoiceField(
        label=_("Eligible credit ratings"),
        help_text=_("None ticked: open to every customer, rated or not."),
        choices=CreditRating.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    revolving = forms.BooleanField(label=_("Revolving"), required=False)
    revolving_years = forms.IntegerField(
        label=_("Revolving period (years)"), min_value=0, max_value=10, required=False
    )
    default_route = forms.ChoiceField(label=_("Default risk route"), choices=RiskRoute.choices)
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)
    sort_order = forms.IntegerField(
        label=_("Sort order"), min_value=0, max_value=32767, initial=100
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The code is the product's natural key; it is shown but not sent.
            self.fields["code"].disabled = True
        _bootstrap(self)

    @staticmethod
    def initial_for(product: Product) -> dict:
        initial = {
            f: getattr(product, f)
            for f in (
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
                "repayment_methods",
                "security",
                "eligible_ratings",
                "revolving",
                "revolving_years",
                "default_route",
                "is_active",
                "sort_order",
            )
        }
        initial["min_rate_percent"] = rate_to_percent(product.min_rate)
        initial["max_rate_percent"] = rate_to_percent(product.max_rate)
        return initial

    def service_data(self) -> ProductFields:
        data = dict(self.cleaned_data)
        data["min_rate"] = percent_to_rate(data.pop("min_rate_percent"))
        data["max_rate"] = percent_to_rate(data.pop("max_rate_percent"))
        data["revolving_years"] = data.get("revolving_years") or 0
        return data  # type: ignore[return-value]

    FIELD_MAP = {"min_rate": "min_rate_percent", "max_rate": "max_rate_percent"}


class TierForm(forms.Form):
    """One row per credit rating; a row left empty means "no tier for this rating"."""

    rating = forms.ChoiceField(choices=CreditRating.choices, widget=forms.HiddenInput)
    min_amount = MoneyField(label=_("From (¥)"), required=False)
    max_amount = MoneyField(label=_("To (¥)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    @property
    def rating_label(self) -> str:
        value = self["rating"].value()
        return str(CreditRating(value).label) if value in CreditRating.values else ""

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_amount"), cleaned.get("max_amount")
        if (low is None) != (high is None) and not self.errors:
            raise forms.ValidationError(_("Give both ends of the tier, or neither."))
        return cleaned


BaseTierFormSet = formset_factory(TierForm, extra=0)


def tier_formset(*, data=None, product: Product | None = None) -> forms.BaseFormSet:
    """Always the three ratings, filled from the product's tiers."""
    existing = {t.rating: t for t in product.tiers.all()} if product else {}
    initial = []
    for rating in CreditRating.values:
        tier = existing.get(rating)
        initial.append(
            {
                "rating": rating,
                "min_amount": tier.min_amount if tier else None,
                "max_amount": tier.max_amount if tier else None,
            }
        )
    return BaseTierFormSet(data=data, initial=initial, prefix="tiers")


def tiers_from(formset: forms.BaseFormSet) -> list[TierFields]:
    return [
        {
            "rating": form.cleaned_data["rating"],
            "min_amount": form.cleaned_data["min_amount"],
            "max_amount": form.cleaned_data["max_amount"],
        }
        for form in formset.forms
        if form.cleaned_data.get("min_amount") is not None
    ]


# --- applications -------------------------------------------------------------------------------


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("Customer name"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class ApplicationForm(forms.Form):
    """The terms of an application for one product; the product is chosen in the step before."""

    amount = MoneyField(label=_("Amount (¥)"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=360)
    annual_rate_percent = PercentField(label=_("Annual rate (%)"))
    repayment_method = forms.ChoiceField(label=_("Repayment method"))
    purpose = forms.CharField(label=_("Purpose"), max_length=200)

    FIELD_MAP = {"annual_rate": "annual_rate_percent", "product": None}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["repayment_method"].choices = [
            (m, RepaymentMethod(m).label) for m in product.repayment_methods
        ]
        _bootstrap(self)

    @staticmethod
    def initial_for(application) -> dict:
        return {
            "amount": application.amount,
            "term_months": application.term_months,
            "annual_rate_percent": rate_to_percent(application.annual_rate),
            "repayment_method": application.repayment_method,
            "purpose": application.purpose,
        }

    def terms(self) -> dict:
        """The service's terms; a field that failed its own checks is None (or blank)."""
        data = self.cleaned_data
        percent = data.get("annual_rate_percent")
        return {
            "amount": data.get("amount"),
            "term_months": data.get("term_months"),
            "annual_rate": percent_to_rate(percent) if percent is not None else None,
            "repayment_method": data.get("repayment_method", ""),
            "purpose": data.get("purpose", ""),
        }


class GuarantorForm(forms.Form):
    name = forms.CharField(label=_("Guarantor"), max_length=100, required=False)
    is_company = forms.BooleanField(label=_("Guarantee company"), required=False)
    relationship = forms.CharField(
        label=_("Relationship to the borrower"), max_length=50, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class CollateralForm(forms.Form):
    description = forms.CharField(label=_("Collateral"), max_length=200, required=False)
    appraised_value = MoneyField(label=_("Appraised value (¥)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("description")
            and cleaned.get("appraised_value") is None
            and not self.errors
        ):
            self.add_error("appraised_value", _("Give the appraised value."))
        if cleaned.get("appraised_value") is not None and not cleaned.get("description"):
            self.add_error("description", _("Describe the collateral."))
        return cleaned


GuarantorFormSet = formset_factory(GuarantorForm, extra=2, max_num=10)
CollateralFormSet = formset_factory(CollateralForm, extra=2, max_num=10)


def guarantors_from(formset: forms.BaseFormSet) -> list[GuarantorFields]:
    return [
        {
            "name": f.cleaned_data["name"],
            "is_company": f.cleaned_data.get("is_company", False),
            "relationship": f.cleaned_data.get("relationship", ""),
        }
        for f in formset.forms
        if f.cleaned_data.get("name")
    ]


def collaterals_from(formset: forms.BaseFormSet) -> list[CollateralFields]:
    return [
        {
            "description": f.cleaned_data["description"],
            "appraised_value": f.cleaned_data["appraised_value"],
        }
        for f in formset.forms
        if f.cleaned_data.get("description")
    ]


class SchedulePreviewForm(forms.Form):
    amount = MoneyField()
    term_months = forms.IntegerField(min_value=1, max_value=360)
    annual_rate_percent = PercentField()
    repayment_method = forms.ChoiceField(choices=RepaymentMethod.choices)
    start_date = forms.DateField(required=False)
    day_count = forms.ChoiceField(choices=DayCount.choices, required=False)
