"""Pages for segments and contact plans, due contacts and visits, grading and ownership.

Thin: check the permission (403), fetch through a scoped selector (404 out of scope), validate
with a form, call one service, and turn a ``DomainError`` into a form or page message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coop.services import DomainError
from customers import selectors_relationship as selectors
from customers.forms_due_contacts import ContactDoneForm
from customers.forms_relationship import (
    ContactPlanForm,
    GradeDecisionForm,
    GradeProposeForm,
    SegmentForm,
    TransferForm,
    VisitForm,
)
from customers.models import GradeChange
from customers.segment_rules import attribute_reference, describe_rule, today_in_shanghai
from customers.selectors import customer_get
from customers.services import relationship as services
from customers.services.due_contacts import due_contact_complete
from customers.validators import mask_mobile

PAGE_SIZE = 50


def _page(request: HttpRequest, object_list, param: str = "page"):
    return Paginator(object_list, PAGE_SIZE).get_page(request.GET.get(param))


def _form_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- segments and contact plans ----------------------------------------------------------------


@login_required
@permission_required("customers.view_segment", raise_exception=True)
def segment_list(request: HttpRequest) -> HttpResponse:
    segments = _page(request, selectors.segments_list(request.user))
    for segment in segments:
        segment.rule_texts = [describe_rule(rule) for rule in segment.rules]
    return render(
        request,
        "customers/relationship_segments.html",
        {
            "segments": segments,
            "plans": _page(request, selectors.contact_plans_list(), param="plans_page"),
            "can_manage": request.user.has_perm("customers.manage_segments"),
        },
    )


def _segment_form_page(request, form, segment=None) -> HttpResponse:
    return render(
        request,
        "customers/relationship_segment_form.html",
        {"form": form, "segment": segment, "reference": attribute_reference()},
    )


@login_required
@permission_required("customers.manage_segments", raise_exception=True)
def segment_new(request: HttpRequest) -> HttpResponse:
    form = SegmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            segment = services.segment_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                name_en=data["name_en"],
                description=data["description"],
                rules=data["rules"],
                is_active=data["is_active"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                _("Segment %(name)s created with %(count)s members.")
                % {"name": segment.name, "count": segment.member_count},
            )
            return redirect("customers:segment_detail", segment_id=segment.pk)
    return _segment_form_page(request, form)


@login_required
@permission_required("customers.manage_segments", raise_exception=True)
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.segment_get(pk=segment_id)
    form = SegmentForm(request.POST or None, segment=segment)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            segment = services.segment_update(
                actor=request.user,
                segment=segment,
                name=data["name"],
                name_en=data["name_en"],
                description=data["description"],
                rules=data["rules"],
                is_active=data["is_active"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Segment %(name)s saved.") % {"name": segment.name})
            return redirect("customers:segment_detail", segment_id=segment.pk)
    return _segment_form_page(request, form, segment)


@login_required
@permission_required("customers.view_segment", raise_exception=True)
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.segment_get(pk=segment_id)
    members = _page(request, selectors.segment_members(request.user, segment))
    for customer in members:
        customer.mobile_masked = mask_mobile(customer.mobile)
    return render(
        request,
        "customers/relationship_segment_detail.html",
        {
            "segment": segment,
            "rule_texts": [describe_rule(rule) for rule in segment.rules],
            "members": members,
            "can_manage": request.user.has_perm("customers.manage_segments"),
        },
    )


@login_required
@permission_required("customers.manage_segments", raise_exception=True)
@require_POST
def segment_recompute(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.segment_get(pk=segment_id)
    try:
        count = services.segment_recompute(segment=segment, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Segment %(name)s recomputed: %(count)s members.")
            % {"name": segment.name, "count": count},
        )
    return redirect("customers:segment_detail", segment_id=segment.pk)


@login_required
@permission_required("customers.manage_segments", raise_exception=True)
def contact_plan_new(request: HttpRequest) -> HttpResponse:
    form = ContactPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.contact_plan_create(
                actor=request.user,
                name=data["name"],
                segment=data["segment"],
                customer_class=data["customer_class"],
                interval_days=data["interval_days"],
                is_active=data["is_active"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Contact plan %(name)s saved.") % {"name": plan.name})
            return redirect("customers:segments")
    return render(request, "customers/relationship_contact_plan_form.html", {"form": form})


@login_required
@permission_required("customers.manage_segments", raise_exception=True)
def contact_plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = selectors.contact_plan_get(pk=plan_id)
    if request.method == "POST" and "deactivate" in request.POST:
        # The list's one-click "deactivate" button: nothing else changes.
        services.contact_plan_update(actor=request.user, plan=plan, is_active=False)
        messages.success(request, _("Contact plan %(name)s deactivated.") % {"name": plan.name})
        return redirect("customers:segments")
    form = ContactPlanForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.contact_plan_update(
                actor=request.user,
                plan=plan,
                name=data["name"],
                segment=data["segment"],
                customer_class=data["customer_class"],
                interval_days=data["interval_days"],
                is_active=data["is_active"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Contact plan %(name)s saved.") % {"name": plan.name})
            return redirect("customers:segments")
    return render(
        request, "customers/relationship_contact_plan_form.html", {"form": form, "plan": plan}
    )


# --- due contacts and visits -------------------------------------------------------------------


@login_required
@permission_required("customers.add_visit", raise_exception=True)
def due_contacts(request: HttpRequest) -> HttpResponse:
    today = today_in_shanghai()
    rows = _page(request, selectors.due_contacts_for(request.user, on=today))
    for row in rows:
        # Lists always mask: a full number is shown (and logged) only on the customer's page.
        row.customer.mobile_masked = mask_mobile(row.customer.mobile)
    return render(
        request,
        "customers/relationship_due_contacts.html",
        {
            "rows": rows,
            "today": today,
            "here": request.get_full_path(),
            "done_form": ContactDoneForm(),
        },
    )


@login_required
@permission_required("customers.add_visit", raise_exception=True)
@require_POST
def due_contact_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Close an open due contact of one's own customer with today's contact."""
    due = selectors.due_contact_get(user=request.user, pk=pk)
    target = _safe_next(request, reverse("customers:due_contacts"))
    form = ContactDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the channel and the outcome of the contact."))
        return redirect(target)
    try:
        due_contact_complete(actor=request.user, due_contact=due, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Contact with %(name)s recorded.") % {"name": due.customer.name}
        )
    return redirect(target)


@login_required
@permission_required("customers.add_visit", raise_exception=True)
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_record(
                actor=request.user,
                customer=customer,
                visited_on=data["visited_on"],
                channel=data["channel"],
                outcome=data["outcome"],
                notes=data["notes"],
                next_step=data["next_step"],
                next_contact_on=data["next_contact_on"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Visit to %(name)s recorded.") % {"name": customer.name})
            return redirect(_safe_next(request, reverse("customers:visits")))
    recent = selectors.visits_for_customer(request.user, customer)[:5]
    return render(
        request,
        "customers/relationship_visit_form.html",
        {
            "customer": customer,
            "mobile_masked": mask_mobile(customer.mobile),
            "form": form,
            "recent": recent,
            "next": _safe_next(request, ""),
        },
    )


@login_required
@permission_required("customers.view_visit", raise_exception=True)
def visit_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    visits = selectors.visits_visible(request.user)
    if not show_all:
        visits = visits.filter(staff=request.user)
    return render(
        request,
        "customers/relationship_visits.html",
        {"visits": _page(request, visits), "show_all": show_all},
    )


# --- grading -----------------------------------------------------------------------------------


@login_required
@permission_required("customers.propose_grade", raise_exception=True)
def grade_propose(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    initial = {
        "new_customer_class": customer.customer_class,
        "new_managing_level": customer.managing_level,
        "new_industry_category": customer.industry_category,
        "new_customer_category": customer.customer_category,
    }
    form = GradeProposeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.grade_change_propose(
                actor=request.user, customer=customer, **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Grade change proposed; it now awaits approval."))
            return redirect("customers:grade_propose", pk=customer.pk)
    history = list(selectors.grade_changes_for_customer(request.user, customer)[:20])
    open_change = next((c for c in history if c.status == GradeChange.Status.PROPOSED), None)
    return render(
        request,
        "customers/relationship_grade_propose.html",
        {"customer": customer, "form": form, "history": history, "open_change": open_change},
    )


@login_required
@permission_required("customers.approve_grade", raise_exception=True)
def grade_changes(request: HttpRequest) -> HttpResponse:
    queue = _page(request, selectors.grade_queue(request.user))
    for change in queue:
        refusal = services.grade_decision_refusal(actor=request.user, change=change)
        change.refusal = refusal.message if refusal else ""
    return render(
        request,
        "customers/relationship_grade_changes.html",
        {"queue": queue, "decided": selectors.grade_recent_decisions(request.user)},
    )


@login_required
@permission_required("customers.approve_grade", raise_exception=True)
@require_POST
def grade_decide(request: HttpRequest, change_id: int) -> HttpResponse:
    change = selectors.grade_change_get(user=request.user, pk=change_id)
    form = GradeDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("customers:grade_changes")
    decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
    try:
        if decision == GradeDecisionForm.APPROVE:
            services.grade_change_approve(actor=request.user, change=change, comment=comment)
            messages.success(
                request, _("Grade change for %(name)s approved.") % {"name": change.customer.name}
            )
        else:
            services.grade_change_reject(actor=request.user, change=change, comment=comment)
            messages.success(
                request, _("Grade change for %(name)s rejected.") % {"name": change.customer.name}
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("customers:grade_changes")


# --- ownership ---------------------------------------------------------------------------------


@login_required
@permission_required("customers.transfer_customer", raise_exception=True)
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    form = TransferForm(
        request.POST or None,
        managers=selectors.account_managers_for(customer),
        initial={"to_owner": customer.owner_id, "to_b_manager": customer.b_manager_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.customer_transfer(
                actor=request.user,
                customer=customer,
                to_owner=data["to_owner"],
                to_b_manager=data["to_b_manager"],
                reason=data["reason"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Customer %(name)s transferred.") % {"name": customer.name})
            return redirect("customers:transfer", pk=customer.pk)
    return render(
        request,
        "customers/relationship_transfer.html",
        {
            "customer": customer,
            "form": form,
            "history": selectors.transfers_for_customer(customer)[:20],
        },
    )


urlpatterns = [
    path("segments/", segment_list, name="segments"),
    path("segments/new/", segment_new, name="segment_new"),
    path("segments/<int:segment_id>/", segment_detail, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/recompute/", segment_recompute, name="segment_recompute"),
    path("segments/plans/new/", contact_plan_new, name="contact_plan_new"),
    path("segments/plans/<int:plan_id>/edit/", contact_plan_edit, name="contact_plan_edit"),
    path("contacts/due/", due_contacts, name="due_contacts"),
    path("contacts/due/<int:pk>/done/", due_contact_done, name="due_contact_done"),
    path("<int:pk>/visits/new/", visit_new, name="visit_new"),
    path("visits/", visit_list, name="visits"),
    path("<int:pk>/grade/propose/", grade_propose, name="grade_propose"),
    path("grades/", grade_changes, name="grade_changes"),
    path("grades/<int:change_id>/decide/", grade_decide, name="grade_decide"),
    path("<int:pk>/transfer/", transfer, name="transfer"),
]
