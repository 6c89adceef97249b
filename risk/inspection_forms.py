"""Forms of the post-loan inspection pages: the inspection form (tablet, camera photos), the
compliance period, and the risk officer's actions on an early warning."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loans.models import Classification
from risk.inspections import RULE_FIELDS, InspectionFindings
from risk.models import Conclusion, FundsUse, InspectionRule, RiskSignal

TEXTAREA = {"class": "form-control", "rows": 3}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files from one input (the service checks their type and size)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class InspectionCompleteForm(forms.Form):
    funds_use = forms.ChoiceField(
        label=_("Actual use of funds"),
        choices=FundsUse.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    funds_use_note = forms.CharField(
        label=_("What the funds were used for"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    operation_note = forms.CharField(
        label=_("Borrower's operation and income"),
        max_length=4000,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    guarantor_note = forms.CharField(
        label=_("Guarantor status"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )
    collateral_note = forms.CharField(
        label=_("Collateral status"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )
    signals = forms.MultipleChoiceField(
        label=_("Risk signals"),
        required=False,
        choices=RiskSignal.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    conclusion = forms.ChoiceField(
        label=_("Conclusion"),
        choices=Conclusion.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    next_action = forms.CharField(
        label=_("Next action"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )
    inspected_on = forms.DateField(
        label=_("Inspected on"),
        required=False,
        help_text=_("The day of the visit, when you record it later. Empty: today."),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        widget=MultipleFileInput(
            attrs={"class": "form-control", "accept": "image/*", "capture": "environment"}
        ),
    )
    documents = MultipleFileField(
        label=_("Other attachments (photos or PDF)"),
        widget=MultipleFileInput(attrs={"class": "form-control", "accept": "image/*,.pdf"}),
    )

    def findings(self) -> InspectionFindings:
        data = self.cleaned_data
        return InspectionFindings(
            funds_use=data["funds_use"],
            conclusion=data["conclusion"],
            funds_use_note=data["funds_use_note"],
            operation_note=data["operation_note"],
            guarantor_note=data["guarantor_note"],
            collateral_note=data["collateral_note"],
            signals=tuple(data["signals"]),
            next_action=data["next_action"],
        )

    def files_attached(self) -> list:
        return [*self.cleaned_data["photos"], *self.cleaned_data["documents"]]


class InspectionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("open", _("Due and overdue")),
            ("overdue", _("Overdue")),
            ("due", _("Due")),
            ("completed", _("Completed")),
            ("all", _("All")),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        label=_("Loan number or customer name"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


def default_period(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return date(today.year, 1, 1), date(today.year, 12, 31)


class CompliancePeriodForm(forms.Form):
    date_from = forms.DateField(
        label=_("Due from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    date_to = forms.DateField(
        label=_("Due to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def clean(self):
        data = super().clean()
        start, end = default_period()
        data["date_from"] = data.get("date_from") or start
        data["date_to"] = data.get("date_to") or end
        if data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The period starts after it ends."))
        return data


class WarningCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2}),
    )


class WarningReviewForm(forms.Form):
    to_class = forms.ChoiceField(
        label=_("Proposed classification"),
        choices=Classification.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={**TEXTAREA, "rows": 2})
    )


class WarningInspectForm(forms.Form):
    due_on = forms.DateField(
        label=_("Inspect by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )


class InspectionRuleForm(forms.ModelForm):
    """Head office's edit of the inspection rule; ``risk.inspections.inspection_rule_update``
    checks the values again and records the change."""

    class Meta:
        model = InspectionRule
        fields = list(RULE_FIELDS)
        widgets = {
            name: forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"})
            for name in RULE_FIELDS
        }
