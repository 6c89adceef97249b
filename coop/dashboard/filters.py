"""The dashboard's filters: period, branch, grid and product, checked against the user's scope.

A branch manager's dashboard is their branch: the filters can narrow it (a grid, a product) but
never widen it. A branch or grid outside the user's scope answers 404, exactly like any other
out-of-scope object, so a crafted URL learns nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.models import OrgUnit
from coop.scoping import scope_root, visible_org_unit_ids
from grid.models import Grid, Household, HouseholdMember
from grid.selectors import grids_visible
from loans.models import Product

# Periods longer than this are refused: the approval timing and the drill-down lists stay
# bounded, and a year on year comparison is two requests.
MAX_PERIOD_DAYS = 366


class FilterError(ValueError):
    """The filter values do not make sense (HTTP 400); ``errors`` by field."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid dashboard filters")
        self.errors = errors


def bank_today() -> dt.date:
    return timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()


class FilterForm(forms.Form):
    """Shape of the query string; scope is checked by ``parse_filters``."""

    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    branch = forms.IntegerField(label=_("Branch"), required=False, min_value=1)
    grid = forms.IntegerField(label=_("Grid"), required=False, min_value=1)
    product = forms.IntegerField(label=_("Product"), required=False, min_value=1)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                self.add_error("date_to", _("The end of the period is before its start."))
            elif (end - start).days >= MAX_PERIOD_DAYS:
                self.add_error("date_to", _("Choose a period of at most one year."))
        return data


@dataclass(frozen=True)
class DashboardFilters:
    date_from: dt.date
    date_to: dt.date
    # The branch the user chose (None: everything the user sees).
    branch: OrgUnit | None = None
    grid: Grid | None = None
    product: Product | None = None
    # Ids of the chosen branch and its outlets (empty when no branch was chosen).
    branch_unit_ids: tuple[int, ...] = field(default=())

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=_tz())

    @property
    def end_at(self) -> dt.datetime:
        """The first instant after the period (the period is [start_at, end_at))."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=_tz())

    def params(self) -> dict[str, str]:
        values = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.branch:
            values["branch"] = str(self.branch.pk)
        if self.grid:
            values["grid"] = str(self.grid.pk)
        if self.product:
            values["product"] = str(self.product.pk)
        return values

    def querystring(self, **extra) -> str:
        return urlencode({**self.params(), **{k: v for k, v in extra.items() if v != ""}})

    # --- filters as Q objects on the models the sections read ---------------------------------

    def branch_q(self, lookup: str) -> Q:
        if not self.branch:
            return Q()
        return Q(**{f"{lookup}__in": self.branch_unit_ids})

    def grid_customers_q(self, prefix: str = "") -> Q:
        """Customers heading or filed as members of a household in the chosen grid."""
        if not self.grid:
            return Q()
        heads = (
            Household.objects.filter(village__grid=self.grid, head__isnull=False)
            .order_by()
            .values("head_id")
        )
        members = (
            HouseholdMember.objects.filter(
                household__village__grid=self.grid, customer__isnull=False
            )
            .order_by()
            .values("customer_id")
        )
        # One array of ids (``coop.lookups``), where an OR of two sub-queries would test every
        # row of the outer table.
        return Q(**{f"{prefix}pk__in_array": heads.union(members, all=True)})

    def product_q(self, lookup: str) -> Q:
        if not self.product:
            return Q()
        return Q(**{lookup: self.product.pk})


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """This month so far: management's rhythm is monthly supervision (seed 004)."""
    today = today or bank_today()
    return today.replace(day=1), today


def parse_filters(user, params) -> DashboardFilters:
    """Filters from a query string. Raises FilterError (400) on bad shapes and Http404 for a
    branch, grid or product that does not exist or lies outside the user's scope."""
    form = FilterForm(params)
    if not form.is_valid():
        raise FilterError({k: [str(m) for m in v] for k, v in form.errors.items()})
    data = form.cleaned_data
    start, end = default_period()
    date_from = data.get("date_from") or (
        data["date_to"].replace(day=1) if data.get("date_to") else start
    )
    date_to = data.get("date_to") or max(end, date_from)
    if (date_to - date_from).days >= MAX_PERIOD_DAYS:
        raise FilterError({"date_to": [str(_("Choose a period of at most one year."))]})

    visible = set(visible_org_unit_ids(user))
    branch = None
    branch_ids: tuple[int, ...] = ()
    if data.get("branch"):
        branch = OrgUnit.objects.filter(
            pk=data["branch"], kind=OrgUnit.Kind.BRANCH, pk__in=visible
        ).first()
        if branch is None:
            raise Http404
    elif (root := scope_root(user)) is not None and root.kind == OrgUnit.Kind.BRANCH:
        # A branch-level user's dashboard is their branch even without a filter.
        branch = root
    if branch is not None:
        branch_ids = tuple(
            OrgUnit.objects.filter(path__startswith=branch.path).values_list("pk", flat=True)
        )

    grid = None
    if data.get("grid"):
        grids = grids_visible(user).select_related("branch")
        if branch is not None:
            grids = grids.filter(branch_id__in=branch_ids)
        grid = grids.filter(pk=data["grid"]).first()
        if grid is None:
            raise Http404

    product = None
    if data.get("product"):
        product = Product.objects.filter(pk=data["product"]).first()
        if product is None:
            raise Http404
    return DashboardFilters(
        date_from=date_from,
        date_to=date_to,
        branch=branch,
        grid=grid,
        product=product,
        branch_unit_ids=branch_ids,
    )


def filter_choices(user, filters: DashboardFilters) -> dict:
    """Options for the filter bar: branches (head office only), grids and products. Three
    queries at most."""
    root = scope_root(user)
    branches = []
    if root is not None and root.kind == OrgUnit.Kind.HEAD_OFFICE:
        branches = list(
            OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, is_active=True)
            .order_by("code")
            .values_list("pk", "name")
        )
    grids = grids_visible(user).filter(is_active=True)
    if filters.branch is not None:
        grids = grids.filter(branch_id__in=filters.branch_unit_ids)
    return {
        "branches": branches,
        "grids": list(grids.order_by("code").values_list("pk", "name")),
        "products": list(Product.objects.order_by("sort_order", "code").values_list("pk", "name")),
    }
