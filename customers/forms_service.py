"""Forms and filters of the counter service and complaints pages (the filters serve the API too)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import BusinessType, Complaint, ServiceInteraction
from customers.selectors import customers_visible
from customers.services.service import (
    MAX_MINUTES,
    TRANSITIONS,
    complaint_assignee_choices,
    shanghai_day_bounds,
    shanghai_today,
    summary_branches,
)

RATING_CHOICES = [("", _("Not rated")), *[(str(n), str(n)) for n in range(1, 6)]]


class _CustomerField(forms.ModelChoiceField):
    """A customer id from the lookup, accepted only within the user's customer scope."""

    def __init__(self, user, **kwargs):
        super().__init__(
            queryset=customers_visible(user),
            required=False,
            widget=forms.HiddenInput,
            error_messages={"invalid_choice": _("Choose a customer of your branch.")},
            **kwargs,
        )


class ServiceInteractionForm(forms.Form):
    business_type = forms.ChoiceField(
        label=_("Business type"), choices=BusinessType.choices, widget=forms.RadioSelect
    )
    wait_minutes = forms.IntegerField(label=_("Wait (minutes)"), min_value=0, max_value=MAX_MINUTES)
    handling_minutes = forms.IntegerField(
        label=_("Handling (minutes)"), min_value=0, max_value=MAX_MINUTES
    )
    rating = forms.TypedChoiceField(
        label=_("Customer rating"),
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    # The checklist starts unticked on purpose: a pre-ticked list is saved unchanged whenever
    # the teller is in a hurry, so the share of "smile / standing / wording" would only measure
    # haste. Unticked, every tick is a statement the teller chose to make.
    smile = forms.BooleanField(label=_("Smile"), required=False)
    standing = forms.BooleanField(label=_("Standing"), required=False)
    standard_wording = forms.BooleanField(label=_("Standardized wording"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = _CustomerField(user, label=_("Customer"))

    def selected_customer(self):
        """The chosen customer for re-rendering the lookup chip, if the id is in scope."""
        value = self["customer"].value()
        if not value:
            return None
        try:
            return self.fields["customer"].clean(value)
        except forms.ValidationError:
            return None


class ComplaintForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Complaint.Kind.choices,
        initial=Complaint.Kind.COMPLAINT,
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(
        label=_("Received through"),
        choices=Complaint.Channel.choices,
        initial=Complaint.Channel.COUNTER,
        widget=forms.RadioSelect,
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Complaint.Severity.choices,
        initial=Complaint.Severity.NORMAL,
        widget=forms.RadioSelect,
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=50, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("What the customer said"), widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = _CustomerField(user, label=_("Customer"))

    selected_customer = ServiceInteractionForm.selected_customer


class ComplaintTransitionForm(forms.Form):
    transition = forms.ChoiceField(choices=[(name, name) for name in TRANSITIONS])
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea)
    assignee = forms.ModelChoiceField(
        label=_("Handled by"),
        queryset=None,
        required=False,
        error_messages={
            "invalid_choice": _("Choose a member of staff who handles complaints of this branch.")
        },
    )

    def __init__(self, *args, complaint: Complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = complaint_assignee_choices(complaint)


class ServiceSummaryForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[("day", _("Day")), ("month", _("Month"))],
        required=False,
    )
    date = forms.DateField(label=_("Day"), required=False)
    month = forms.CharField(label=_("Month"), required=False, max_length=7)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = summary_branches(user)

    def clean_month(self) -> dt.date | None:
        value = self.cleaned_data.get("month")
        if not value:
            return None
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Give the month as YYYY-MM.")) from None

    def clean(self):
        data = super().clean()
        data["period"] = data.get("period") or "day"
        if data["period"] == "month":
            data["day"] = data.get("month") or data.get("date") or shanghai_today()
        else:
            data["day"] = data.get("date") or shanghai_today()
        return data


# --- Filters (pages and API) ------------------------------------------------------------------

STATE_FILTER_CHOICES = [("open", _("Open")), ("all", _("All")), *Complaint.State.choices]
ESCALATION_FILTER_CHOICES = [
    ("any", _("Escalated")),
    ("branch", _("Escalated to the branch manager")),
    ("head_office", _("Escalated to head office")),
]


class ComplaintFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=STATE_FILTER_CHOICES, method="filter_state"
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Complaint.Kind.choices)
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"),
        method="filter_overdue",
        widget=django_filters.widgets.BooleanWidget,
    )
    escalated = django_filters.ChoiceFilter(
        label=_("Escalation"), choices=ESCALATION_FILTER_CHOICES, method="filter_escalated"
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"), queryset=lambda request: summary_branches(request.user)
    )

    class Meta:
        model = Complaint
        fields = ["state", "kind", "overdue", "escalated", "branch"]

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "open":
            return queryset.filter(state__in=Complaint.OPEN_STATES)
        if value == "all":
            return queryset
        return queryset.filter(state=value)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        overdue = Q(state__in=Complaint.OPEN_STATES, due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_escalated(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "branch":
            return queryset.filter(escalation_level=1)
        if value == "head_office":
            return queryset.filter(escalation_level__gte=2)
        return queryset.filter(escalation_level__gte=1)


class ServiceInteractionFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(label=_("Day"), method="filter_date")
    teller = django_filters.NumberFilter(label=_("Teller"), field_name="teller_id")
    business_type = django_filters.ChoiceFilter(
        label=_("Business type"), choices=BusinessType.choices
    )

    class Meta:
        model = ServiceInteraction
        fields = ["date", "teller", "business_type"]

    def filter_date(self, queryset: QuerySet, name: str, value: dt.date | None) -> QuerySet:
        if value is None:
            return queryset
        start, end = shanghai_day_bounds(value)
        return queryset.filter(served_at__gte=start, served_at__lt=end)
