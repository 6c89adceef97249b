"""Forms of the grid pages. They shape input for the services; the rules live in the services,
so a form only narrows choices to what the user may pick and checks types."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.models import OrgUnit, User
from coop.roles import Role
from coop.scoping import visible_org_units
from coop.services import DomainError
from customers.models import CreditRating, Customer, Occupation
from customers.selectors import customers_visible
from grid.models import (
    CampaignHousehold,
    Grid,
    GridOfficer,
    Household,
    HouseholdMember,
    IncomeSource,
    Village,
    VillageCreditCampaign,
)
from grid.selectors import villages_visible
from loans.models import Product


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal next to its field, or above the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields without per-field markup."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.org_unit.name})"


class CustomerChoiceField(forms.ModelChoiceField):
    # The name and number only: an ID or mobile number never goes into a select's options.
    def label_from_instance(self, obj: Customer) -> str:
        return f"{obj.name} · {obj.pk}"


def _account_managers(branch_ids) -> forms.ModelChoiceField:
    return User.objects.filter(
        is_active=True, groups__name=Role.ACCOUNT_MANAGER, org_unit_id__in=branch_ids
    ).order_by("org_unit__path", "name", "username")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


# --- structure --------------------------------------------------------------------------------


class GridForm(StyledForm):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=OrgUnit.objects.none())
    code = forms.CharField(label=_("Code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=100)
    account_manager = StaffChoiceField(label=_("Account manager"), queryset=User.objects.none())
    area = forms.CharField(label=_("Area covered"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = visible_org_units(user)
        self.fields["branch"].queryset = units.filter(kind=OrgUnit.Kind.BRANCH)
        self.fields["account_manager"].queryset = _account_managers(units.values("pk"))


class GridEditForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    account_manager = StaffChoiceField(label=_("Account manager"), queryset=User.objects.none())
    area = forms.CharField(label=_("Area covered"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, grid: Grid, **kwargs):
        super().__init__(*args, **kwargs)
        branch_units = OrgUnit.objects.filter(path__startswith=grid.branch.path)
        self.fields["account_manager"].queryset = _account_managers(branch_units.values("pk"))


class OfficerForm(StyledForm):
    role = forms.ChoiceField(label=_("Role"), choices=GridOfficer.Role.choices)
    user = StaffChoiceField(
        label=_("Staff user"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Leave empty for a village cadre or liaison without a login."),
    )
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    mobile = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    duty = forms.CharField(label=_("Duty"), max_length=200, required=False)

    def __init__(self, *args, grid: Grid, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            is_active=True, org_unit__path__startswith=grid.branch.path
        ).order_by("name", "username")

    def clean(self):
        data = super().clean()
        if not data.get("user") and not (data.get("name") or "").strip():
            self.add_error("name", _("Give the name, or choose a staff user."))
        return data


class VillageForm(StyledForm):
    town = forms.CharField(label=_("Town"), max_length=50)
    name = forms.CharField(label=_("Village"), max_length=50)


# --- households -------------------------------------------------------------------------------


class HouseholdForm(StyledForm):
    head_name = forms.CharField(label=_("Head of household"), max_length=50)
    head = CustomerChoiceField(
        label=_("Head filed as customer"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("Customers of yours in this branch without a household yet."),
    )
    village_group = forms.CharField(label=_("Village group"), max_length=20, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    income_sources = forms.MultipleChoiceField(
        label=_("Income sources"),
        choices=IncomeSource.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    annual_income = forms.DecimalField(
        label=_("Annual income (yuan)"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    assets = forms.CharField(
        label=_("Assets"),
        max_length=300,
        required=False,
        help_text=_("House, land (mu), livestock, machinery, vehicles."),
    )
    asset_value = forms.DecimalField(
        label=_("Estimated asset value (yuan)"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        required=False,
    )
    labour_count = forms.IntegerField(
        label=_("Labour count"), min_value=0, max_value=50, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, user, village: Village, household: Household | None = None, **kw):
        super().__init__(*args, **kw)
        taken_heads = Household.objects.filter(head__isnull=False).values("head_id")
        members = HouseholdMember.objects.filter(customer__isnull=False)
        if household is not None:
            taken_heads = taken_heads.exclude(pk=household.pk)
            members = members.exclude(household=household, relation=HouseholdMember.Relation.HEAD)
        self.fields["head"].queryset = (
            customers_visible(user)
            .filter(kind=Customer.Kind.INDIVIDUAL, branch_id=village.grid.branch_id)
            .exclude(pk__in=taken_heads)
            .exclude(pk__in=members.values("customer_id"))
            .order_by("name", "pk")
        )


class MemberForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=50)
    relation = forms.ChoiceField(label=_("Relation"), choices=())
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", "—"), *Customer.Gender.choices], required=False
    )
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900, max_value=2100)
    occupation = forms.ChoiceField(
        label=_("Occupation"), choices=[("", "—"), *Occupation.choices], required=False
    )
    is_migrant = forms.BooleanField(label=_("Working away from home"), required=False)
    works_in = forms.CharField(label=_("Where they work"), max_length=100, required=False)
    customer = CustomerChoiceField(
        label=_("Filed as customer"), queryset=Customer.objects.none(), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user, household: Household, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        is_head = member is not None and member.relation == HouseholdMember.Relation.HEAD
        self.fields["relation"].choices = [
            choice
            for choice in HouseholdMember.Relation.choices
            if is_head or choice[0] != HouseholdMember.Relation.HEAD
        ]
        if is_head:
            # The head's customer link is set on the household itself.
            del self.fields["customer"]
            return
        taken = HouseholdMember.objects.filter(customer__isnull=False)
        if member is not None:
            taken = taken.exclude(pk=member.pk)
        self.fields["customer"].queryset = (
            customers_visible(user)
            .filter(kind=Customer.Kind.INDIVIDUAL, branch_id=household.village.grid.branch_id)
            .exclude(pk__in=taken.values("customer_id"))
            .exclude(pk__in=Household.objects.filter(head__isnull=False).values("head_id"))
            .order_by("name", "pk")
        )

    def clean(self):
        data = super().clean()
        if data.get("is_migrant") and not (data.get("works_in") or "").strip():
            self.add_error("works_in", _("Say where a member working away works."))
        return data


class CardForm(StyledForm):
    issued_on = forms.DateField(label=_("Card issued on"), widget=DateInput())


class BlacklistForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class LiftForm(StyledForm):
    reason = forms.CharField(label=_("Reason for lifting"), max_length=1000)


class FilingRequirementForm(StyledForm):
    required = forms.BooleanField(label=_("Required"), required=False)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=10)


# --- campaigns --------------------------------------------------------------------------------


class CampaignForm(StyledForm):
    village = forms.ModelChoiceField(label=_("Village"), queryset=Village.objects.none())
    name = forms.CharField(label=_("Name"), max_length=100)
    project_manager = StaffChoiceField(label=_("Project manager"), queryset=User.objects.none())
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput())
    ends_on = forms.DateField(label=_("Planned end"), widget=DateInput())
    tolerance_percent = forms.DecimalField(
        label=_("Closeness tolerance (% of the median)"),
        initial=Decimal("20"),
        min_value=0,
        max_value=100,
        max_digits=4,
        decimal_places=1,
    )
    credit_months = forms.IntegerField(
        label=_("Credit lines valid for (months)"), initial=24, min_value=1, max_value=60
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        villages = villages_visible(user).select_related("grid")
        self.fields["village"].queryset = villages.order_by("town", "name")
        self.fields["project_manager"].queryset = (
            User.objects.filter(
                is_active=True,
                groups__name__in=[Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER],
                org_unit__in=visible_org_units(user),
            )
            .distinct()
            .order_by("name", "username")
        )
        self.fields["product"].queryset = Product.objects.filter(
            is_active=True,
            security=Product.Security.NONE,
            customer_kind__in=[Product.CustomerKind.INDIVIDUAL, Product.CustomerKind.ANY],
        ).order_by("sort_order", "code")
        if not self.is_bound:
            self.fields["starts_on"].initial = timezone.localdate()
            self.fields["project_manager"].initial = user.pk

    def clean(self):
        data = super().clean()
        if data.get("tolerance_percent") is not None:
            data["tolerance"] = (data["tolerance_percent"] / 100).quantize(Decimal("0.001"))
        return data


class CampaignEditForm(CampaignForm):
    """The campaign's terms, village apart. Once crediting has started the terms the
    evaluations and the signed lines depend on are shown but cannot change."""

    def __init__(self, *args, campaign: VillageCreditCampaign, user, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": campaign.name,
                "project_manager": campaign.project_manager_id,
                "product": campaign.product_id,
                "starts_on": campaign.starts_on,
                "ends_on": campaign.ends_on,
                "tolerance_percent": (campaign.tolerance * 100).quantize(Decimal("0.1")),
                "credit_months": campaign.credit_months,
            },
        )
        super().__init__(*args, user=user, **kwargs)
        del self.fields["village"]
        # The current product stays selectable even if it is no longer offered for new ones.
        self.fields["product"].queryset = (
            self.fields["product"].queryset | Product.objects.filter(pk=campaign.product_id)
        ).distinct()
        if campaign.phase != VillageCreditCampaign.Phase.PREPARATION:
            for name in ("product", "starts_on", "tolerance_percent", "credit_months"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once crediting has started.")

    def terms(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "project_manager": data["project_manager"],
            "product": data["product"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            "tolerance": data["tolerance"],
            "credit_months": data["credit_months"],
        }


class EvaluatorsForm(StyledForm):
    first = StaffChoiceField(label=_("Evaluator 1"), queryset=User.objects.none())
    second = StaffChoiceField(label=_("Evaluator 2"), queryset=User.objects.none())
    third = StaffChoiceField(label=_("Evaluator 3"), queryset=User.objects.none())

    def __init__(self, *args, campaign: VillageCreditCampaign, **kwargs):
        super().__init__(*args, **kwargs)
        branch = campaign.village.grid.branch
        staff = (
            User.objects.filter(
                is_active=True,
                org_unit__path__startswith=branch.path,
                groups__permissions__codename="evaluate_household",
            )
            .distinct()
            .order_by("name", "username")
        )
        for name in ("first", "second", "third"):
            self.fields[name].queryset = staff


class ExcludeForm(StyledForm):
    note = forms.CharField(label=_("Reason (staff only)"), max_length=200)


class EvaluationForm(StyledForm):
    rating = forms.ChoiceField(label=_("Credit rating"), choices=CreditRating.choices)
    suggested_limit = forms.DecimalField(
        label=_("Suggested limit (yuan)"), max_digits=16, decimal_places=2, min_value=0
    )
    comment = forms.CharField(label=_("Comment"), max_length=200, required=False)


class DecisionForm(StyledForm):
    limit = forms.DecimalField(
        label=_("Limit (yuan, 0 = no credit)"), max_digits=16, decimal_places=2, min_value=0
    )
    rating = forms.ChoiceField(
        label=_("Credit rating"), choices=[("", "—"), *CreditRating.choices], required=False
    )
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class SignForm(StyledForm):
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=CampaignHousehold.Channel.choices,
        initial=CampaignHousehold.Channel.DOOR_TO_DOOR,
    )


class BatchSignForm(SignForm):
    entries = forms.ModelMultipleChoiceField(
        label=_("Households"), queryset=CampaignHousehold.objects.none()
    )

    def __init__(self, *args, campaign: VillageCreditCampaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entries"].queryset = campaign.entries.filter(
            excluded_reason="", pre_credited_at__isnull=False
        )


class RefuseForm(StyledForm):
    reason = forms.CharField(label=_("Reason for refusal"), max_length=200)


class AwayForm(StyledForm):
    note = forms.CharField(label=_("Where they are"), max_length=200)
    follow_up_on = forms.DateField(label=_("Follow up on"), widget=DateInput())


class PlanDayForm(StyledForm):
    day = forms.DateField(label=_("Day"), widget=DateInput())
    task = forms.CharField(label=_("Task"), max_length=200, required=False)
    planned_evaluations = forms.IntegerField(
        label=_("Households to evaluate"), min_value=0, max_value=10_000, initial=0
    )
    planned_signings = forms.IntegerField(
        label=_("Households to sign"), min_value=0, max_value=10_000, initial=0
    )


class PeriodForm(StyledForm):
    period = forms.ChoiceField(
        label=_("Period"),
        choices=[("day", _("Day")), ("month", _("Month")), ("quarter", _("Quarter"))],
        initial="month",
        required=False,
    )
    on = forms.DateField(label=_("Date"), widget=DateInput(), required=False)
