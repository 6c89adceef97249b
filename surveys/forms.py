from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from coop.models import OrgUnit, User
from coop.scoping import visible_org_units
from surveys.models import (
    AnonymityLevel,
    Campaign,
    CustomerType,
    ImprovementItem,
    LoanStage,
    ProcessFeedback,
    RespondentRole,
)
from surveys.selectors import frameworks_visible


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and touch-sized inputs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
                widget.attrs.setdefault("class", "form-select sv-touch")
            else:
                widget.attrs.setdefault("class", "form-control sv-touch")


class CampaignForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    framework = forms.ModelChoiceField(label=_("Framework"), queryset=None)
    period = forms.ChoiceField(label=_("Period"), choices=Campaign.Period.choices)
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    target_branches = forms.ModelMultipleChoiceField(
        label=_("Branches (none: all)"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    target_grids = forms.ModelMultipleChoiceField(
        label=_("Grids (none: all)"), queryset=None, required=False
    )
    loan_stages = forms.MultipleChoiceField(
        label=_("Loan stages (none: all)"),
        choices=LoanStage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    customer_types = forms.MultipleChoiceField(
        label=_("Customer types (none: all)"),
        choices=CustomerType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    respondent_roles = forms.MultipleChoiceField(
        label=_("Who answers for a corporate"),
        choices=[c for c in RespondentRole.choices if c[0] != RespondentRole.INDIVIDUAL],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exclude_straight_lining = forms.BooleanField(
        label=_("Exclude straight-lining responses"), required=False, initial=True
    )
    anonymity = forms.ChoiceField(
        label=_("Respondent visible to"),
        choices=AnonymityLevel.choices,
        initial=AnonymityLevel.HEAD_OFFICE,
    )
    reminder_after_days = forms.IntegerField(
        label=_("Remind after (days)"), min_value=1, max_value=90, initial=7
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from grid.selectors import grids_visible

        self.fields["framework"].queryset = frameworks_visible(user).order_by("code", "-version")
        self.fields["target_branches"].queryset = visible_org_units(user).filter(
            kind=OrgUnit.Kind.BRANCH
        )
        self.fields["target_grids"].queryset = grids_visible(user).filter(is_active=True)


class ImportForm(StyledForm):
    file = forms.FileField(label=_("CSV or XLSX file"))


class FrameworkForm(StyledForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The code of an existing framework makes its next version."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    file = forms.FileField(
        label=_("Indicators (CSV or XLSX)"),
        help_text=_(
            "Columns code, name, name_en and parent: a first-level indicator has no parent, a "
            "second-level one names its first-level indicator's code."
        ),
    )


class ImprovementForm(StyledForm):
    title = forms.CharField(label=_("Problem"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    level = forms.ChoiceField(label=_("Level"), choices=ImprovementItem.Level.choices)
    finding = forms.CharField(
        label=_("Finding"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    plan = forms.CharField(label=_("Plan"), widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, org_unit__in=visible_org_units(user)
        ).order_by("org_unit__path", "username")


class AdvanceForm(StyledForm):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("start", "check", "act", "replan", "close")]
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class FeedbackForm(StyledForm):
    process = forms.CharField(label=_("Process"), max_length=100)
    source = forms.ChoiceField(label=_("Source"), choices=ProcessFeedback.Source.choices)
    text = forms.CharField(label=_("Feedback"), widget=forms.Textarea(attrs={"rows": 3}))


class FeedbackAnswerForm(StyledForm):
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}))
