"""Forms of the lifecycle pages: they parse and check the shape of the input; the business rules
live in the services, whose DomainErrors the views put back on the form."""

from __future__ import annotations

import uuid
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.models import OrgUnit
from coop.money import format_yuan
from loans.models import Classification, CreditLine, Loan, Product, RepaymentMethod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_WIDGET = forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"})


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields in one loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.fields.values():
            widget = bound.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class _KeyedForm(StyledForm):
    """A form that carries an idempotency key made when it is rendered: submitting it twice
    (double click, back and submit again) is recognised as the same request."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("idempotency_key", str(uuid.uuid4()))
        super().__init__(*args, **kwargs)


def _money_field(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=MONEY_WIDGET,
    )


class LoanFilterForm(StyledForm):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *Loan.State.choices]
    )
    classification = forms.ChoiceField(
        label=_("Classification"),
        required=False,
        choices=[("", _("All classes")), *Classification.choices],
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.none(), empty_label=_("All")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=OrgUnit.objects.none(), empty_label=_("All")
    )

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.order_by("sort_order", "code")
        if branches is None:
            del self.fields["branch"]
        else:
            self.fields["branch"].queryset = branches


class CreditLineFilterForm(StyledForm):
    q = forms.CharField(label=_("Customer or number"), required=False, max_length=50)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *CreditLine.Status.choices],
    )


class CreditLineGrantForm(_KeyedForm):
    """Grant a credit line (授信) to one customer: the products offered to them, with the
    amount range their rating allows in each product's label."""

    product = forms.ChoiceField(label=_("Product"), choices=())
    limit = _money_field(_("Limit (yuan)"))
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("Valid to"), widget=DATE)
    revolving = forms.BooleanField(
        label=_("Revolving"),
        required=False,
        help_text=_("Repaid amounts can be drawn again until the end date (revolving products)."),
    )
    guarantee_contract = forms.ModelChoiceField(
        label=_("Maximum-amount guarantee contract"),
        required=False,
        queryset=None,
        empty_label=_("None"),
        help_text=_("Required by products secured by a maximum-amount guarantee."),
    )

    def __init__(self, *args, offers, guarantees, **kwargs):
        """``offers``: (product, min amount, max amount) for each product offered to the
        customer (``eligible_products``)."""
        today = timezone.localdate()
        kwargs.setdefault("initial", {"valid_from": today, "valid_to": _year_on(today)})
        super().__init__(*args, **kwargs)
        self.products = {str(product.pk): product for product, _low, _high in offers}
        self.fields["product"].choices = [("", "---------")] + [
            (str(product.pk), f"{product.name} ({format_yuan(low)} – {format_yuan(high)})")
            for product, low, high in offers
        ]
        self.fields["guarantee_contract"].queryset = guarantees
        self.fields["revolving"].widget.attrs["class"] = "form-check-input"

    def clean_product(self) -> Product:
        return self.products[self.cleaned_data["product"]]


def _year_on(day):
    """The day before the same date next year: a one-year line."""
    return day + relativedelta(years=1) - relativedelta(days=1)


class GuaranteeContractForm(_KeyedForm):
    guarantor_name = forms.CharField(label=_("Guarantor"), max_length=100)
    guarantor_is_company = forms.BooleanField(
        label=_("The guarantor is a guarantee company"), required=False
    )
    max_amount = _money_field(_("Maximum guaranteed amount (yuan)"))
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("Valid to"), widget=DATE)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)

    def __init__(self, *args, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault(
            "initial", {"valid_from": today, "valid_to": _year_on(today), "signed_on": today}
        )
        super().__init__(*args, **kwargs)
        self.fields["guarantor_is_company"].widget.attrs["class"] = "form-check-input"


class DrawdownForm(_KeyedForm):
    amount = _money_field(_("Amount (yuan)"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=360)
    repayment_method = forms.ChoiceField(label=_("Repayment method"), choices=())
    annual_rate_percent = forms.DecimalField(
        label=_("Annual rate (%)"),
        max_digits=7,
        decimal_places=4,
        min_value=Decimal("0"),
        max_value=Decimal("99"),
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=200)

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        offered = set(product.repayment_methods or [])
        self.fields["repayment_method"].choices = [
            (value, label) for value, label in RepaymentMethod.choices if value in offered
        ]

    @property
    def annual_rate(self) -> Decimal:
        return self.cleaned_data["annual_rate_percent"] / 100


class ContractForm(StyledForm):
    signed_on = forms.DateField(
        label=_("Signed on"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty if the contract is signed later."),
    )
    guarantee_contract = forms.ModelChoiceField(
        label=_("Maximum-amount guarantee contract"),
        required=False,
        queryset=None,
        empty_label=_("None"),
    )

    def __init__(self, *args, guarantees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guarantee_contract"].queryset = guarantees


class SignForm(StyledForm):
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"signed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class NoticeForm(StyledForm):
    account_number = forms.CharField(
        label=_("Payee account"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class DisburseForm(_KeyedForm):
    disbursed_on = forms.DateField(label=_("Disbursed on"), widget=DATE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("disbursed_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class RepaymentForm(_KeyedForm):
    amount = _money_field(_("Amount received (yuan)"))
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("paid_on", timezone.localdate())
        super().__init__(*args, **kwargs)


class OverrideForm(StyledForm):
    to_class = forms.ChoiceField(label=_("New classification"), choices=Classification.choices)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class DecideForm(StyledForm):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CommentForm(StyledForm):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
