"""Pages of post-loan inspections and early warnings, mounted under /risk/: the account
manager's list and the inspection form (tablet), inspection detail with its escalations and
photos, the compliance view, and the risk officer's early warnings. Thin: validate, fetch
through a scoped selector (out of scope is 404), call one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.services import DomainError
from risk import inspections as services
from risk.inspection_forms import (
    CompliancePeriodForm,
    InspectionCompleteForm,
    InspectionFilterForm,
    InspectionRuleForm,
    WarningCommentForm,
    WarningInspectForm,
    WarningReviewForm,
    default_period,
)
from risk.inspection_selectors import (
    inspection_attachment_get,
    inspection_attachments,
    inspection_compliance,
    inspection_get,
    inspection_list,
    inspection_notices,
    inspection_warning,
    warning_get,
    warning_list,
)
from risk.models import EarlyWarningStatus
from risk.views import _page, _query_without_page


@login_required
@permission_required("risk.view_inspection", raise_exception=True)
@require_GET
def inspections(request: HttpRequest) -> HttpResponse:
    form = InspectionFilterForm(request.GET or None)
    status, query = "open", ""
    if form.is_valid():
        status = form.cleaned_data["status"] or "open"
        query = form.cleaned_data["q"].strip()
    page = _page(request, inspection_list(user=request.user, status=status, query=query))
    return render(
        request,
        "risk/inspection_list.html",
        {
            "form": form,
            "page_obj": page,
            "inspections": page.object_list,
            "query": _query_without_page(request),
            "status": status,
        },
    )


def _detail_context(request: HttpRequest, inspection) -> dict:
    return {
        "inspection": inspection,
        "notices": inspection_notices(inspection),
        "attachments": inspection_attachments(inspection),
        "warning": inspection_warning(inspection),
        "may_complete": inspection.is_open and request.user.has_perm("risk.complete_inspection"),
    }


@login_required
@permission_required("risk.view_inspection", raise_exception=True)
@require_GET
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = inspection_get(user=request.user, pk=pk)
    return render(request, "risk/inspection_detail.html", _detail_context(request, inspection))


@login_required
@permission_required("risk.complete_inspection", raise_exception=True)
@require_http_methods(["GET", "POST"])
def inspection_complete(request: HttpRequest, pk: int) -> HttpResponse:
    inspection = inspection_get(user=request.user, pk=pk)
    if not inspection.is_open:
        messages.info(
            request,
            _("This inspection is already %(status)s.")
            % {"status": inspection.get_status_display()},
        )
        return redirect("risk:inspection", pk=inspection.pk)
    form = InspectionCompleteForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.inspection_complete(
                actor=request.user,
                inspection=inspection,
                findings=form.findings(),
                attachments=form.files_attached(),
                inspected_on=form.cleaned_data["inspected_on"],
            )
        except DomainError as exc:
            field = exc.field if exc.field in form.fields else None
            if exc.field == "attachments":
                field = "photos"
            form.add_error(field, exc.message)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("Inspection completed."))
            return redirect("risk:inspection", pk=inspection.pk)
    return render(
        request,
        "risk/inspection_form.html",
        {"inspection": inspection, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@permission_required("risk.view_inspection", raise_exception=True)
@require_GET
def inspection_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    attachment = inspection_attachment_get(user=request.user, inspection_pk=pk, pk=attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=0"
    return response


@login_required
@permission_required("risk.view_inspection_compliance", raise_exception=True)
@require_GET
def compliance(request: HttpRequest) -> HttpResponse:
    form = CompliancePeriodForm(request.GET or None)
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    else:
        start, end = default_period()
    figures = inspection_compliance(user=request.user, date_from=start, date_to=end)
    return render(
        request,
        "risk/inspection_compliance.html",
        {"form": form, "figures": figures},
        status=400 if form.is_bound and form.errors else 200,
    )


# --- early warnings -----------------------------------------------------------------------------


@login_required
@permission_required("risk.view_earlywarning", raise_exception=True)
@require_GET
def warnings(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "active"
    if status not in ("active", "all", *EarlyWarningStatus.values):
        status = "active"
    page = _page(request, warning_list(user=request.user, status=status))
    return render(
        request,
        "risk/inspection_warning_list.html",
        {
            "page_obj": page,
            "warnings": page.object_list,
            "status": status,
            "query": _query_without_page(request),
            "statuses": [
                ("active", _("Open and acknowledged")),
                *EarlyWarningStatus.choices,
                ("all", _("All")),
            ],
        },
    )


def _warning_context(request: HttpRequest, warning, **forms) -> dict:
    return {
        "warning": warning,
        "may_handle": request.user.has_perm("risk.handle_earlywarning") and not warning.is_closed,
        "comment_form": forms.get("comment_form") or WarningCommentForm(),
        "review_form": forms.get("review_form") or WarningReviewForm(),
        "inspect_form": forms.get("inspect_form") or WarningInspectForm(),
    }


@login_required
@permission_required("risk.view_earlywarning", raise_exception=True)
@require_GET
def warning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    warning = warning_get(user=request.user, pk=pk)
    return render(
        request, "risk/inspection_warning_detail.html", _warning_context(request, warning)
    )


@login_required
@permission_required("risk.handle_earlywarning", raise_exception=True)
@require_POST
def warning_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    warning = warning_get(user=request.user, pk=pk)
    forms: dict = {}
    try:
        if action in ("acknowledge", "close"):
            form = forms["comment_form"] = WarningCommentForm(request.POST)
            if form.is_valid():
                service = (
                    services.early_warning_acknowledge
                    if action == "acknowledge"
                    else services.early_warning_close
                )
                service(actor=request.user, warning=warning, comment=form.cleaned_data["comment"])
        elif action == "review":
            form = forms["review_form"] = WarningReviewForm(request.POST)
            if form.is_valid():
                services.early_warning_review(
                    actor=request.user,
                    warning=warning,
                    to_class=form.cleaned_data["to_class"],
                    reason=form.cleaned_data["reason"],
                )
        elif action == "inspect":
            form = forms["inspect_form"] = WarningInspectForm(request.POST)
            if form.is_valid():
                services.early_warning_order_inspection(
                    actor=request.user, warning=warning, due_on=form.cleaned_data["due_on"]
                )
        else:
            raise Http404
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if form.errors:
        context = _warning_context(request, warning, **forms)
        return render(request, "risk/inspection_warning_detail.html", context, status=400)
    messages.success(request, _("Saved."))
    return redirect("risk:warning", pk=warning.pk)


@login_required
@permission_required("risk.manage_routing", raise_exception=True)
@require_POST
def inspection_rule_edit(request: HttpRequest) -> HttpResponse:
    """Head office saves the inspection rule from the rules page."""
    from coop.scoping import sees_whole_bank

    if not sees_whole_bank(request.user):
        raise PermissionDenied
    form = InspectionRuleForm(request.POST, instance=services.inspection_rule())
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("risk:rules")
    try:
        services.inspection_rule_update(
            actor=request.user, **{name: form.cleaned_data[name] for name in form.Meta.fields}
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Inspection rule saved."))
    return redirect("risk:rules")


urlpatterns = [
    path("rules/inspections/", inspection_rule_edit, name="inspection_rule_edit"),
    path("inspections/", inspections, name="inspections"),
    path("inspections/compliance/", compliance, name="inspection_compliance"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection"),
    path("inspections/<int:pk>/complete/", inspection_complete, name="inspection_complete"),
    path(
        "inspections/<int:pk>/attachments/<int:attachment_pk>/",
        inspection_attachment,
        name="inspection_attachment",
    ),
    path("warnings/", warnings, name="warnings"),
    path("warnings/<int:pk>/", warning_detail, name="warning"),
    path(
        "warnings/<int:pk>/<str:action>/",
        warning_action,
        name="warning_action",
    ),
]
