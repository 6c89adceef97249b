"""Pages of the counter service and complaints area: validate, fetch in scope, call one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.scoping import sees_whole_bank
from coop.services import DomainError
from customers.forms_service import (
    ComplaintFilter,
    ComplaintForm,
    ComplaintTransitionForm,
    ServiceInteractionForm,
    ServiceSummaryForm,
)
from customers.models import BusinessType, Complaint
from customers.selectors import customer_get
from customers.services.service import (
    ESCALATION_LABELS,
    complaint_actions_for,
    complaint_assignee_choices,
    complaint_due_days,
    complaint_get,
    complaint_is_overdue,
    complaint_receive,
    complaint_trail,
    complaint_transition,
    complaints_visible,
    customer_lookup_matches,
    service_interaction_record,
    service_interactions_of_teller_today,
    service_summary,
)
from customers.validators import mask_id_number, mask_mobile

PAGE_SIZE = 50

TRAIL_LABELS = {
    "complaint.receive": gettext_lazy("Received"),
    "complaint.assign": gettext_lazy("Assigned"),
    "complaint.reassign": gettext_lazy("Reassigned"),
    "complaint.respond": gettext_lazy("Answered the customer"),
    "complaint.resolve": gettext_lazy("Resolved"),
    "complaint.close": gettext_lazy("Closed"),
    "complaint.reopen": gettext_lazy("Reopened"),
    "complaint.escalate": gettext_lazy("Escalated (overdue)"),
}

TRANSITION_DONE = {
    "assign": gettext_lazy("The complaint is assigned."),
    "reassign": gettext_lazy("The complaint is reassigned."),
    "respond": gettext_lazy("The answer to the customer is recorded."),
    "resolve": gettext_lazy("The complaint is resolved."),
    "close": gettext_lazy("The complaint is closed."),
    "reopen": gettext_lazy("The complaint is reopened."),
}


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- Counter service --------------------------------------------------------------------------


@login_required
@permission_required("customers.add_serviceinteraction", raise_exception=True)
@require_http_methods(["GET", "POST"])
def counter_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ServiceInteractionForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                interaction = service_interaction_record(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Saved: %(type)s, waited %(wait)s min, handled in %(handling)s min.")
                    % {
                        "type": interaction.get_business_type_display(),
                        "wait": interaction.wait_minutes,
                        "handling": interaction.handling_minutes,
                    },
                )
                # Back to an empty form (POST/redirect/GET), ready for the next customer.
                return redirect("customers:counter_new")
    else:
        form = ServiceInteractionForm(user=request.user)
    today = Paginator(service_interactions_of_teller_today(teller=request.user), PAGE_SIZE)
    return render(
        request,
        "customers/service_counter.html",
        {
            "form": form,
            "business_types": list(enumerate(BusinessType.choices, start=1)),
            "selected_customer": form.selected_customer(),
            "today": today.get_page(request.GET.get("page")),
        },
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_POST
def customer_lookup(request: HttpRequest) -> HttpResponse:
    """htmx partial: suggestions for the counter's and the complaint form's customer field.

    POST only, so that an ID or mobile number typed into the box never lands in a URL or an
    access log.
    """
    customers = customer_lookup_matches(user=request.user, query=request.POST.get("q", ""))
    rows = [
        {
            "customer": customer,
            "identity": mask_id_number(customer.id_number)
            if customer.id_number
            else (customer.credit_code or ""),
            "mobile": mask_mobile(customer.mobile) if customer.mobile else "",
        }
        for customer in customers
    ]
    return render(
        request,
        "customers/service_customer_lookup.html",
        {"rows": rows, "query": request.POST.get("q", "").strip()},
    )


def _summary_row(row: dict) -> dict:
    def pct(share):
        return None if share is None else round(share * 100)

    return {
        **row,
        "smile_pct": pct(row["smile_share"]),
        "standing_pct": pct(row["standing_share"]),
        "wording_pct": pct(row["wording_share"]),
        "rating_counts": [row["ratings"][score] for score in range(1, 6)],
        "type_counts": [
            (value, label, row["business_types"][value]) for value, label in BusinessType.choices
        ],
    }


@login_required
@permission_required("customers.view_service_summary", raise_exception=True)
@require_GET
def service_summary_view(request: HttpRequest) -> HttpResponse:
    form = ServiceSummaryForm(request.GET, user=request.user)
    summary = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            summary = service_summary(
                user=request.user, period=data["period"], day=data["day"], branch=data["branch"]
            )
        except DomainError as exc:
            _form_error(form, exc)
    if summary is not None:
        summary = {
            **summary,
            "total": _summary_row(summary["total"]),
            "tellers": [_summary_row(row) for row in summary["tellers"]],
            "outlets": [_summary_row(row) for row in summary["outlets"]],
        }
    return render(
        request,
        "customers/service_summary.html",
        {
            "form": form,
            "summary": summary,
            "business_types": BusinessType.choices,
            "scores": range(1, 6),
            "show_branch_filter": sees_whole_bank(request.user),
        },
        status=200 if summary is not None else 400,
    )


# --- Complaints -------------------------------------------------------------------------------


@login_required
@permission_required("customers.view_complaint", raise_exception=True)
@require_GET
def complaints(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("state", "open")
    now = timezone.now()
    queryset = (
        complaints_visible(request.user)
        .select_related("branch", "customer", "assignee")
        .annotate(
            is_overdue=ExpressionWrapper(
                Q(state__in=Complaint.OPEN_STATES, due_at__lt=now), output_field=BooleanField()
            )
        )
    )
    filterset = ComplaintFilter(data, queryset=queryset, request=request)
    if data.get("state") == "open":
        # The queue: escalated cases first, then the nearest deadline.
        ordered = filterset.qs.order_by("-escalation_level", "due_at", "-id")
    else:
        ordered = filterset.qs.order_by("-received_at", "-id")
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for complaint in page.object_list:
        complaint.escalation_label = ESCALATION_LABELS.get(complaint.escalation_level, "")
    query = data.copy()
    query.pop("page", None)
    return render(
        request,
        "customers/service_complaints.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "query": query.urlencode(),
            "show_branch_filter": sees_whole_bank(request.user),
        },
    )


@login_required
@permission_required("customers.add_complaint", raise_exception=True)
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ComplaintForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                complaint = complaint_receive(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Received. The deadline is %(due)s.")
                    % {"due": timezone.localtime(complaint.due_at).strftime("%Y-%m-%d")},
                )
                return redirect("customers:complaint_detail", pk=complaint.pk)
    else:
        initial = {}
        if request.GET.get("customer"):
            # Out of scope answers 404, like every other way of reaching a customer.
            initial["customer"] = customer_get(user=request.user, pk=request.GET["customer"]).pk
        form = ComplaintForm(user=request.user, initial=initial)
    return render(
        request,
        "customers/service_complaint_form.html",
        {
            "form": form,
            "selected_customer": form.selected_customer(),
            "due_days": complaint_due_days(),
        },
    )


def _detail(request, complaint: Complaint, form=None, status: int = 200) -> HttpResponse:
    actions = complaint_actions_for(request.user, complaint)
    trail = [
        {"event": event, "label": TRAIL_LABELS.get(event.action, event.action)}
        for event in complaint_trail(complaint)
    ]
    needs_assignee = "assign" in actions or "reassign" in actions
    return render(
        request,
        "customers/service_complaint_detail.html",
        {
            "complaint": complaint,
            "actions": actions,
            "trail": trail,
            "is_overdue": complaint_is_overdue(complaint),
            "escalation_label": ESCALATION_LABELS.get(complaint.escalation_level),
            "assignees": list(complaint_assignee_choices(complaint)) if needs_assignee else [],
            "form": form,
        },
        status=status,
    )


@login_required
@permission_required("customers.view_complaint", raise_exception=True)
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, complaint_get(user=request.user, pk=pk))


@login_required
@permission_required("customers.view_complaint", raise_exception=True)
@require_POST
def complaint_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = complaint_get(user=request.user, pk=pk)
    form = ComplaintTransitionForm(request.POST, complaint=complaint)
    if not form.is_valid():
        return _detail(request, complaint, form=form, status=400)
    name = form.cleaned_data["transition"]
    try:
        complaint_transition(
            actor=request.user,
            complaint=complaint,
            transition=name,
            text=form.cleaned_data["text"],
            assignee=form.cleaned_data["assignee"],
        )
    except DomainError as exc:
        _form_error(form, exc)
        # Show the state the complaint really is in now, not the one this page was built on.
        fresh = complaint_get(user=request.user, pk=pk)
        return _detail(request, fresh, form=form, status=exc.status_code)
    messages.success(request, TRANSITION_DONE[name])
    return redirect("customers:complaint_detail", pk=complaint.pk)


urlpatterns = [
    path("counter/", counter_new, name="counter_new"),
    path("counter/summary/", service_summary_view, name="service_summary"),
    path("counter/lookup/", customer_lookup, name="customer_lookup"),
    path("complaints/", complaints, name="complaints"),
    path("complaints/new/", complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
    path(
        "complaints/<int:pk>/transition/",
        complaint_transition_view,
        name="complaint_transition",
    ),
]
