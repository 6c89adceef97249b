"""Forms of the approval pages: they validate input; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms import formset_factory, modelformset_factory
from django.utils.translation import gettext_lazy as _

from coop.models import OrgUnit
from customers.models import CreditRating, CustomerCategory, CustomerClass, IndustryCategory
from loans.models import Product, RiskRoute
from risk import policy
from risk.models import (
    CommitteeVote,
    ReasonCode,
    RoutingRule,
    Stage,
    StageAuthority,
    StageSLA,
)
from risk.selectors import QUEUE_VIEWS, TIMING_GROUPS

BLANK = [("", "—")]
REASONS = [(c, label) for c, label in ReasonCode.choices if c != ReasonCode.COMMITTEE]


class CaseFilterForm(forms.Form):
    view = forms.ChoiceField(
        label=_("Show"), choices=list(QUEUE_VIEWS.items()), required=False, initial="waiting"
    )
    state = forms.ChoiceField(
        label=_("Approval stage"), choices=BLANK + list(Stage.choices), required=False
    )
    route = forms.ChoiceField(
        label=_("Route"), choices=BLANK + list(RiskRoute.choices), required=False
    )
    q = forms.CharField(label=_("Application or customer"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = css

    def values(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "view": data.get("view") or "waiting",
            "state": data.get("state") or "",
            "route": data.get("route") or "",
            "query": (data.get("q") or "").strip(),
        }


class TransitionForm(forms.Form):
    transition = forms.ChoiceField(
        choices=[(t, t) for t in policy.TRANSITIONS], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
    reason_code = forms.ChoiceField(
        label=_("Reason"),
        choices=BLANK + REASONS,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    # The stage the user saw: acting on a case that moved meanwhile is a conflict.
    state = forms.ChoiceField(choices=Stage.choices, widget=forms.HiddenInput)


class VoteForm(forms.Form):
    vote = forms.ChoiceField(
        label=_("Your vote"), choices=CommitteeVote.Vote.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class TimingFilterForm(forms.Form):
    by = forms.ChoiceField(label=_("Per"), choices=list(TIMING_GROUPS.items()), required=False)
    route = forms.ChoiceField(
        label=_("Route"), choices=BLANK + list(RiskRoute.choices), required=False
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=OrgUnit.objects.none(), required=False
    )
    date_from = forms.DateField(
        label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        if branches is not None:
            self.fields["branch"].queryset = branches
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = css

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def _checkboxes(label, choices):
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input me-1"}),
    )


def product_code_choices() -> list[tuple[str, str]]:
    return list(Product.objects.order_by("sort_order", "code").values_list("code", "name"))


TRISTATE = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


class RuleForm(forms.Form):
    """One routing rule of the next version; empty conditions mean "any"."""

    position = forms.IntegerField(
        label=_("Order"), min_value=1, widget=forms.NumberInput(attrs={"class": "form-control"})
    )
    name = forms.CharField(
        label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    route = forms.ChoiceField(
        label=_("Route"),
        choices=RiskRoute.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    customer_kind = forms.ChoiceField(
        label=_("Customer type"),
        choices=BLANK + list(RoutingRule.CustomerKind.choices),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    product_codes = forms.MultipleChoiceField(
        label=_("Products"),
        required=False,
        widget=forms.SelectMultiple(attrs={"class": "form-select", "size": 4}),
    )
    product_kinds = _checkboxes(_("Product kinds"), Product.Kind.choices)
    amount_above = forms.DecimalField(
        label=_("Amount above"),
        required=False,
        min_value=Decimal("0"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    amount_up_to = forms.DecimalField(
        label=_("Amount up to"),
        required=False,
        min_value=Decimal("0"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    within_rating_tier = forms.ChoiceField(
        label=_("Within the rating tier"),
        choices=TRISTATE,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    credit_ratings = _checkboxes(_("Credit ratings"), CreditRating.choices)
    customer_classes = _checkboxes(_("Customer classes"), CustomerClass.choices)
    customer_categories = _checkboxes(_("Customer categories"), CustomerCategory.choices)
    industry_categories = _checkboxes(_("Industry entry categories"), IndustryCategory.choices)
    exposure_above = forms.DecimalField(
        label=_("Total exposure above"),
        required=False,
        min_value=Decimal("0"),
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    has_overdue_history = forms.ChoiceField(
        label=_("Overdue history"),
        choices=TRISTATE,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, product_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_codes"].choices = (
            product_choices if product_choices is not None else product_code_choices()
        )

    @staticmethod
    def initial_from(rule: RoutingRule) -> dict:
        def tri(value):
            return "" if value is None else "yes" if value else "no"

        return {
            "position": rule.position,
            "name": rule.name,
            "route": rule.route,
            "customer_kind": rule.customer_kind,
            "product_codes": rule.product_codes,
            "product_kinds": rule.product_kinds,
            "amount_above": rule.amount_above,
            "amount_up_to": rule.amount_up_to,
            "within_rating_tier": tri(rule.within_rating_tier),
            "credit_ratings": rule.credit_ratings,
            "customer_classes": rule.customer_classes,
            "customer_categories": rule.customer_categories,
            "industry_categories": rule.industry_categories,
            "exposure_above": rule.exposure_above,
            "has_overdue_history": tri(rule.has_overdue_history),
        }

    def rule_spec(self) -> dict:
        data = self.cleaned_data

        def tri(value):
            return None if not value else value == "yes"

        return {
            "name": data["name"],
            "route": data["route"],
            "customer_kind": data.get("customer_kind") or "",
            "product_codes": list(data.get("product_codes") or []),
            "product_kinds": list(data.get("product_kinds") or []),
            "amount_above": data.get("amount_above"),
            "amount_up_to": data.get("amount_up_to"),
            "within_rating_tier": tri(data.get("within_rating_tier")),
            "credit_ratings": list(data.get("credit_ratings") or []),
            "customer_classes": list(data.get("customer_classes") or []),
            "customer_categories": list(data.get("customer_categories") or []),
            "industry_categories": list(data.get("industry_categories") or []),
            "exposure_above": data.get("exposure_above"),
            "has_overdue_history": tri(data.get("has_overdue_history")),
        }


RuleFormSet = formset_factory(RuleForm, extra=1, can_delete=True)


class PublishForm(forms.Form):
    comment = forms.CharField(
        label=_("What changed"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


AuthorityFormSet = modelformset_factory(
    StageAuthority,
    fields=["max_amount"],
    extra=0,
    widgets={"max_amount": forms.NumberInput(attrs={"class": "form-control", "step": "0.01"})},
)
SLAFormSet = modelformset_factory(
    StageSLA,
    fields=["target_hours"],
    extra=0,
    widgets={"target_hours": forms.NumberInput(attrs={"class": "form-control"})},
)


class CommitteePolicyForm(forms.Form):
    quorum = forms.IntegerField(
        label=_("Members present for a quorum"),
        min_value=1,
        max_value=99,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    majority_numerator = forms.IntegerField(
        label=_("Majority (numerator)"),
        min_value=1,
        max_value=99,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
    majority_denominator = forms.IntegerField(
        label=_("Majority (denominator)"),
        min_value=1,
        max_value=99,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )
