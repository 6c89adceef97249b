"""The "done" form of a due contact (customers' contact plans, grid follow-ups): how and with
what outcome the customer was contacted today."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Visit


class ContactDoneForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=Visit.Channel.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=Visit.Outcome.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
