"""Pages of household files: create, view, edit, members, card, blacklist."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.services import DomainError
from customers.selectors import customers_visible
from grid.forms import BlacklistForm, CardForm, HouseholdForm, MemberForm, add_domain_error
from grid.models import HouseholdMember
from grid.selectors import household_get, member_get, village_get
from grid.services.households import (
    household_card_record,
    household_create,
    household_member_add,
    household_member_remove,
    household_member_update,
    household_update,
    missing_items,
)
from grid.services.structure import blacklist_add
from grid.views.common import refused


def _household_fields(data: dict) -> dict:
    return {
        **data,
        "income_sources": list(data.get("income_sources") or []),
    }


@login_required
@permission_required("grid.add_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_new(request: HttpRequest, pk: int) -> HttpResponse:
    village = village_get(user=request.user, pk=pk)
    form = HouseholdForm(
        request.POST if request.method == "POST" else None, user=request.user, village=village
    )
    if request.method == "POST" and form.is_valid():
        try:
            household = household_create(
                actor=request.user, village=village, **_household_fields(form.cleaned_data)
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Household filed. Add the family members next."))
            return redirect("grid:household", pk=household.pk)
    return render(
        request,
        "grid/household_form.html",
        {"form": form, "village": village, "household": None},
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.view_household", raise_exception=True)
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = household_get(user=request.user, pk=pk)
    members = list(household.members.select_related("customer").order_by("pk"))
    entries = household.campaign_entries.select_related("campaign", "credit_line").order_by(
        "-campaign__starts_on", "-pk"
    )[:10]
    can_change = request.user.has_perm("grid.change_household")
    head_visible = (
        household.head_id is not None
        and customers_visible(request.user).filter(pk=household.head_id).exists()
    )
    return render(
        request,
        "grid/household_detail.html",
        {
            "household": household,
            "village": household.village,
            "members": members,
            "missing": missing_items(household, members),
            "entries": entries,
            "member_form": MemberForm(user=request.user, household=household)
            if can_change
            else None,
            "card_form": CardForm(initial={"issued_on": household.card_issued_on}),
            "blacklist_form": BlacklistForm(),
            "can_change": can_change,
            "can_blacklist": request.user.has_perm("grid.add_blacklistentry"),
            "head_visible": head_visible,
        },
    )


@login_required
@permission_required("grid.change_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = household_get(user=request.user, pk=pk)
    initial = {
        "head_name": household.head_name,
        "head": household.head_id,
        "village_group": household.village_group,
        "address": household.address,
        "income_sources": household.income_sources,
        "annual_income": household.annual_income,
        "assets": household.assets,
        "asset_value": household.asset_value,
        "labour_count": household.labour_count,
        "notes": household.notes,
    }
    form = HouseholdForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        user=request.user,
        village=household.village,
        household=household,
    )
    if request.method == "POST" and form.is_valid():
        data = _household_fields(form.cleaned_data)
        if household.head_id and data.get("head") is None:
            # The select lists only what the editor may pick; a head filed by someone else
            # stays linked rather than being dropped by an incomplete list.
            data.pop("head")
        try:
            household_update(actor=request.user, household=household, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Household saved."))
            return redirect("grid:household", pk=household.pk)
    return render(
        request,
        "grid/household_form.html",
        {"form": form, "village": household.village, "household": household},
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.change_household", raise_exception=True)
@require_POST
def member_new(request: HttpRequest, pk: int) -> HttpResponse:
    household = household_get(user=request.user, pk=pk)
    form = MemberForm(request.POST, user=request.user, household=household)
    if form.is_valid():
        try:
            household_member_add(actor=request.user, household=household, **form.cleaned_data)
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Member added."))
            return redirect("grid:household", pk=household.pk)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {errors[0]}" if label else errors[0])
    return redirect(reverse("grid:household", args=[household.pk]) + "#members")


@login_required
@permission_required("grid.change_household", raise_exception=True)
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = member_get(user=request.user, pk=pk)
    household = household_get(user=request.user, pk=member.household_id)
    initial = {
        "name": member.name,
        "relation": member.relation,
        "gender": member.gender,
        "birth_year": member.birth_year,
        "occupation": member.occupation,
        "is_migrant": member.is_migrant,
        "works_in": member.works_in,
        "customer": member.customer_id,
        "note": member.note,
    }
    form = MemberForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        user=request.user,
        household=household,
        member=member,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if member.relation == HouseholdMember.Relation.HEAD:
            data.pop("customer", None)
        try:
            household_member_update(actor=request.user, member=member, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Member saved."))
            return redirect(reverse("grid:household", args=[household.pk]) + "#members")
    return render(
        request,
        "grid/form_page.html",
        {
            "form": form,
            "title": _("Family member: %(name)s") % {"name": member.name},
            "cancel": reverse("grid:household", args=[household.pk]),
        },
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("grid.change_household", raise_exception=True)
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = member_get(user=request.user, pk=pk)
    try:
        household_member_remove(actor=request.user, member=member)
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("Member removed."))
    return redirect(reverse("grid:household", args=[member.household_id]) + "#members")


@login_required
@permission_required("grid.change_household", raise_exception=True)
@require_POST
def household_card(request: HttpRequest, pk: int) -> HttpResponse:
    household = household_get(user=request.user, pk=pk)
    form = CardForm(request.POST)
    if form.is_valid():
        try:
            household_card_record(
                actor=request.user, household=household, issued_on=form.cleaned_data["issued_on"]
            )
        except DomainError as exc:
            refused(request, exc)
        else:
            messages.success(request, _("Card recorded."))
    else:
        messages.error(request, _("Give the date the card was issued."))
    return redirect("grid:household", pk=household.pk)


@login_required
@permission_required("grid.add_blacklistentry", raise_exception=True)
@require_POST
def household_blacklist(request: HttpRequest, pk: int) -> HttpResponse:
    """Blacklist the head (as a customer) or, for a head without a file, the household."""
    household = household_get(user=request.user, pk=pk)
    form = BlacklistForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason."))
        return redirect("grid:household", pk=household.pk)
    try:
        blacklist_add(
            actor=request.user,
            reason=form.cleaned_data["reason"],
            customer=household.head,
            household=None if household.head_id else household,
        )
    except DomainError as exc:
        refused(request, exc)
    else:
        messages.success(request, _("Added to the blacklist."))
    return redirect("grid:household", pk=household.pk)


urlpatterns = [
    path("villages/<int:pk>/households/new/", household_new, name="household_new"),
    path("households/<int:pk>/", household_detail, name="household"),
    path("households/<int:pk>/edit/", household_edit, name="household_edit"),
    path("households/<int:pk>/members/new/", member_new, name="member_new"),
    path("members/<int:pk>/edit/", member_edit, name="member_edit"),
    path("members/<int:pk>/remove/", member_remove, name="member_remove"),
    path("households/<int:pk>/card/", household_card, name="household_card"),
    path("households/<int:pk>/blacklist/", household_blacklist, name="household_blacklist"),
]
