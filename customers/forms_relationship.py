"""Forms of the relationship pages: they check the shape of the input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coop.models import User
from coop.services import DomainError
from customers.models import (
    ContactPlan,
    CustomerCategory,
    CustomerClass,
    IndustryCategory,
    ManagingLevel,
    Segment,
    Visit,
)
from customers.segment_rules import (
    ATTRIBUTES,
    MAX_RULES,
    OPERATORS,
    format_value_text,
    parse_value_text,
    today_in_shanghai,
    validate_rules,
)

RULE_ROWS = 5

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


class SegmentForm(forms.Form):
    """A segment with a fixed number of rule rows (attribute, operator, value): no script needed."""

    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=40,
        help_text=gettext_lazy("Letters, digits and hyphens; cannot be changed later."),
        widget=forms.TextInput(attrs=_TEXT),
    )
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, widget=forms.TextInput(attrs=_TEXT)
    )
    name_en = forms.CharField(
        label=gettext_lazy("English name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs=_TEXT),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 2}),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, segment: Segment | None = None, **kwargs):
        # A segment made through the API may have more rules than the page's usual rows: show
        # them all (plus a free row) so that saving the page never drops one.
        self.row_count = RULE_ROWS
        if segment is not None:
            self.row_count = min(MAX_RULES, max(RULE_ROWS, len(segment.rules) + 1))
            initial = kwargs.setdefault("initial", {})
            initial.update(
                code=segment.code,
                name=segment.name,
                name_en=segment.name_en,
                description=segment.description,
                is_active=segment.is_active,
            )
            for index, rule in enumerate(segment.rules[:MAX_RULES]):
                initial[f"rule_{index}_attribute"] = rule.get("attribute", "")
                initial[f"rule_{index}_op"] = rule.get("op", "")
                try:
                    initial[f"rule_{index}_value"] = format_value_text(
                        rule["attribute"], rule["op"], rule["value"]
                    )
                except (KeyError, ValueError, TypeError):
                    initial[f"rule_{index}_value"] = ""
        super().__init__(*args, **kwargs)
        self.segment = segment
        if segment is not None:
            # The code names the segment in rules of later processes; it never changes.
            self.fields["code"].disabled = True
            self.fields["code"].help_text = ""
        attribute_choices = [("", "—")] + [(a.key, a.label) for a in ATTRIBUTES.values()]
        op_choices = [("", "—")] + list(OPERATORS.items())
        for index in range(self.row_count):
            self.fields[f"rule_{index}_attribute"] = forms.ChoiceField(
                label=gettext_lazy("Attribute"),
                choices=attribute_choices,
                required=False,
                widget=forms.Select(attrs={**_SELECT, "data-testid": f"rule-{index}-attribute"}),
            )
            self.fields[f"rule_{index}_op"] = forms.ChoiceField(
                label=gettext_lazy("Operator"),
                choices=op_choices,
                required=False,
                widget=forms.Select(attrs={**_SELECT, "data-testid": f"rule-{index}-op"}),
            )
            self.fields[f"rule_{index}_value"] = forms.CharField(
                label=gettext_lazy("Value"),
                max_length=500,
                required=False,
                widget=forms.TextInput(attrs={**_TEXT, "data-testid": f"rule-{index}-value"}),
            )

    def rule_rows(self):
        """(attribute, op, value) bound fields per row, for the template."""
        return [
            (self[f"rule_{i}_attribute"], self[f"rule_{i}_op"], self[f"rule_{i}_value"])
            for i in range(self.row_count)
        ]

    def clean(self):
        cleaned = super().clean()
        rules = []
        for index in range(self.row_count):
            attribute = cleaned.get(f"rule_{index}_attribute")
            op = cleaned.get(f"rule_{index}_op")
            text = cleaned.get(f"rule_{index}_value", "")
            if not attribute and not op and not text:
                continue
            if not attribute or not op:
                self.add_error(f"rule_{index}_attribute", _("Choose an attribute and an operator."))
                continue
            rule = {
                "attribute": attribute,
                "op": op,
                "value": parse_value_text(attribute, op, text),
            }
            try:
                rules.extend(validate_rules([rule]))
            except DomainError as exc:
                self.add_error(f"rule_{index}_value", exc.message)
        if not rules and not self.errors:
            self.add_error(None, _("A segment needs at least one rule."))
        cleaned["rules"] = rules
        return cleaned


class ContactPlanForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100, widget=forms.TextInput(attrs=_TEXT)
    )
    segment = forms.ModelChoiceField(
        label=gettext_lazy("Segment"),
        queryset=Segment.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    customer_class = forms.ChoiceField(
        label=gettext_lazy("Customer class"),
        choices=[("", "—"), *CustomerClass.choices],
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    interval_days = forms.IntegerField(
        label=gettext_lazy("Contact every (days)"),
        min_value=1,
        max_value=730,
        widget=forms.NumberInput(attrs=_TEXT),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, plan: ContactPlan | None = None, **kwargs):
        if plan is not None:
            kwargs.setdefault("initial", {}).update(
                name=plan.name,
                segment=plan.segment,
                customer_class=plan.customer_class,
                interval_days=plan.interval_days,
                is_active=plan.is_active,
            )
        super().__init__(*args, **kwargs)
        active = Segment.objects.filter(is_active=True)
        if plan is not None and plan.segment_id:
            active = Segment.objects.filter(is_active=True) | Segment.objects.filter(
                pk=plan.segment_id
            )
        self.fields["segment"].queryset = active.order_by("name")

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("segment")) == bool(cleaned.get("customer_class")):
            self.add_error(
                "segment",
                _("A contact plan applies to either a segment or a customer class, not both."),
            )
        return cleaned


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs={**_TEXT, **(attrs or {})}, format="%Y-%m-%d")


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=Visit.Channel.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        choices=Visit.Outcome.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
    )
    next_step = forms.CharField(
        label=gettext_lazy("Next step"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=_TEXT),
    )
    next_contact_on = forms.DateField(
        label=gettext_lazy("Next contact on"), required=False, widget=DateInput()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = today_in_shanghai()
        self.fields["visited_on"].initial = today
        self.fields["visited_on"].widget.attrs["max"] = today.isoformat()


class GradeProposeForm(forms.Form):
    new_customer_class = forms.ChoiceField(
        label=gettext_lazy("Customer class"),
        choices=CustomerClass.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    new_managing_level = forms.ChoiceField(
        label=gettext_lazy("Managing level"),
        choices=ManagingLevel.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    new_industry_category = forms.ChoiceField(
        label=gettext_lazy("Industry entry category"),
        choices=IndustryCategory.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    new_customer_category = forms.ChoiceField(
        label=gettext_lazy("Customer category"),
        choices=CustomerCategory.choices,
        widget=forms.Select(attrs=_SELECT),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={**_TEXT, "rows": 3}),
    )


class GradeDecisionForm(forms.Form):
    APPROVE, REJECT = "approve", "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, gettext_lazy("Approve")), (REJECT, gettext_lazy("Reject"))]
    )
    comment = forms.CharField(label=gettext_lazy("Comment"), max_length=2000, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.REJECT and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("Say why the proposal is rejected."))
        return cleaned


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.username}) · {obj.org_unit.name}"


class TransferForm(forms.Form):
    to_owner = ManagerChoiceField(
        label=gettext_lazy("New account manager"),
        queryset=User.objects.none(),
        widget=forms.Select(attrs=_SELECT),
    )
    to_b_manager = ManagerChoiceField(
        label=gettext_lazy("B-role manager"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=200, widget=forms.TextInput(attrs=_TEXT)
    )

    def __init__(self, *args, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if managers is not None:
            self.fields["to_owner"].queryset = managers
            self.fields["to_b_manager"].queryset = managers

    def clean(self):
        cleaned = super().clean()
        owner, b_manager = cleaned.get("to_owner"), cleaned.get("to_b_manager")
        if owner and b_manager and owner.pk == b_manager.pk:
            self.add_error(
                "to_b_manager", _("The B-role manager must be someone other than the owner.")
            )
        return cleaned
