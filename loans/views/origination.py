"""Pages for loan origination: the product catalogue and loan applications.

Thin views: a form checks the shape of the input, a scoped selector fetches (404 out of scope),
one service writes. Business errors come back as ``DomainError`` and are shown on the form.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from coop.models import AuditEvent
from coop.services import DomainError
from customers.models import CreditRating
from customers.selectors import customer_get
from customers.validators import mask_id_number
from loans.forms_origination import (
    ApplicationForm,
    CollateralFormSet,
    CustomerSearchForm,
    GuarantorFormSet,
    ProductForm,
    SchedulePreviewForm,
    attach_errors,
    collaterals_from,
    guarantors_from,
    percent_to_rate,
    rate_to_percent,
    tier_formset,
    tiers_from,
)
from loans.models import LoanApplication, Product, RepaymentMethod
from loans.schedules import ScheduleError, generate_schedule, schedule_totals
from loans.selectors_origination import (
    amount_range_for,
    application_get,
    application_list,
    customer_exposure,
    customers_for_application,
    eligible_products,
    format_rate,
    product_get,
    product_is_eligible,
    products_visible,
)
from loans.services.origination import (
    COLLATERAL_SECURITIES,
    GUARANTOR_SECURITIES,
    application_errors,
    loan_application_create,
    loan_application_submit,
    loan_application_update,
    loan_application_withdraw,
    product_create,
    product_update,
)

PAGE_SIZE = 50

AUDIT_LABELS = {
    "loan_application.create": gettext_lazy("Created"),
    "loan_application.update": gettext_lazy("Changed"),
    "loan_application.submit": gettext_lazy("Submitted"),
    "loan_application.approve": gettext_lazy("Approved"),
    "loan_application.reject": gettext_lazy("Rejected"),
    "loan_application.withdraw": gettext_lazy("Withdrawn"),
}


def _decorate_product(product: Product) -> Product:
    # Rates are fractions in the database and percentages on the page.
    product.rate_range_display = (
        f"{format_rate(product.min_rate)} – {format_rate(product.max_rate)}"
    )
    product.method_labels = [str(RepaymentMethod(m).label) for m in product.repayment_methods]
    product.rating_labels = [str(CreditRating(r).label) for r in product.eligible_ratings]
    return product


def _needs_guarantors(product: Product) -> bool:
    return product.security in GUARANTOR_SECURITIES


def _needs_collateral(product: Product) -> bool:
    return product.security in COLLATERAL_SECURITIES or product.kind in (
        Product.Kind.MORTGAGE,
        Product.Kind.PLEDGE,
    )


# --- products -----------------------------------------------------------------------------------


@login_required
@permission_required("loans.view_product", raise_exception=True)
def products(request: HttpRequest) -> HttpResponse:
    # Tiers come prefetched, in the model's order (by maximum amount).
    queryset = products_visible(request.user)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for product in page.object_list:
        _decorate_product(product)
    return render(
        request,
        "loans/origination_products.html",
        {"page": page, "can_manage": request.user.has_perm("loans.manage_products")},
    )


def _product_form_page(request, *, product: Product | None) -> HttpResponse:
    editing = product is not None
    if request.method == "POST":
        # A disabled field (the code, when editing) takes its value from ``initial``.
        form = ProductForm(
            request.POST,
            initial=ProductForm.initial_for(product) if editing else None,
            editing=editing,
        )
        tiers = tier_formset(data=request.POST, product=product)
        if form.is_valid() and tiers.is_valid():
            try:
                if editing:
                    data = form.service_data()
                    data.pop("code", None)
                    product_update(
                        actor=request.user, product=product, data=data, tiers=tiers_from(tiers)
                    )
                    messages.success(request, _("The product was saved."))
                else:
                    product = product_create(
                        actor=request.user, data=form.service_data(), tiers=tiers_from(tiers)
                    )
                    messages.success(request, _("The product was created."))
                return redirect("loans:products")
            except DomainError as exc:
                attach_errors(
                    form, [exc], field_map=ProductForm.FIELD_MAP, formsets={"tiers": tiers}
                )
    else:
        form = ProductForm(
            initial=ProductForm.initial_for(product) if editing else None, editing=editing
        )
        tiers = tier_formset(product=product)
    return render(
        request,
        "loans/origination_product_form.html",
        {"form": form, "tiers": tiers, "product": product},
    )


@login_required
@permission_required("loans.manage_products", raise_exception=True)
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest) -> HttpResponse:
    return _product_form_page(request, product=None)


@login_required
@permission_required("loans.manage_products", raise_exception=True)
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _product_form_page(request, product=product_get(user=request.user, pk=pk))


# --- applications: list -------------------------------------------------------------------------


@login_required
@permission_required("loans.view_loanapplication", raise_exception=True)
def applications(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in LoanApplication.State.values:
        state = ""
    product_id = request.GET.get("product", "")
    product_id = int(product_id) if product_id.isdigit() else None
    query = request.GET.get("q", "").strip()[:50]
    queryset = application_list(user=request.user, state=state, product_id=product_id, query=query)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "loans/origination_applications.html",
        {
            "page": page,
            "state": state,
            "product_id": product_id,
            "q": query,
            "states": LoanApplication.State.choices,
            "products": Product.objects.order_by("sort_order", "code").only("id", "name"),
            "can_add": request.user.has_perm("loans.add_loanapplication"),
        },
    )


# --- applications: new --------------------------------------------------------------------------


def _security_formsets(request, product: Product, application: LoanApplication | None = None):
    """The guarantor / collateral formsets the product asks for (None where it asks none)."""
    data = request.POST if request.method == "POST" else None
    guarantors = collaterals = None
    if _needs_guarantors(product):
        initial = (
            [
                {"name": g.name, "is_company": g.is_company, "relationship": g.relationship}
                for g in application.guarantors.all()
            ]
            if application
            else None
        )
        guarantors = GuarantorFormSet(data=data, initial=initial, prefix="guarantors")
    if _needs_collateral(product):
        initial = (
            [
                {"description": c.description, "appraised_value": c.appraised_value}
                for c in application.collaterals.all()
            ]
            if application
            else None
        )
        collaterals = CollateralFormSet(data=data, initial=initial, prefix="collaterals")
    return guarantors, collaterals


def _validate_application(form, guarantors, collaterals, *, customer, product) -> bool:
    """Shape first, then every business rule at once, shown where it belongs — also on the
    fields that passed when another did not, so one round trip shows every problem."""
    form_ok = form.is_valid()
    guarantors_ok = guarantors is None or guarantors.is_valid()
    collaterals_ok = collaterals is None or collaterals.is_valid()
    errors = application_errors(
        customer=customer,
        product=product,
        guarantors=guarantors_from(guarantors) if guarantors is not None and guarantors_ok else [],
        collaterals=collaterals_from(collaterals)
        if collaterals is not None and collaterals_ok
        else [],
        **form.terms(),
    )
    shape_failed = set(form.errors)
    if not guarantors_ok:
        shape_failed.add("guarantors")
    if not collaterals_ok:
        shape_failed.add("collaterals")
    field_map = ApplicationForm.FIELD_MAP
    errors = [e for e in errors if field_map.get(e.field, e.field) not in shape_failed]
    _attach(form, errors, guarantors, collaterals)
    return form_ok and guarantors_ok and collaterals_ok and not errors


def _attach(form, errors, guarantors, collaterals) -> None:
    formsets = {}
    if guarantors is not None:
        formsets["guarantors"] = guarantors
    if collaterals is not None:
        formsets["collaterals"] = collaterals
    attach_errors(form, errors, field_map=ApplicationForm.FIELD_MAP, formsets=formsets)


def _limits_context(product: Product, customer) -> dict:
    limits = amount_range_for(product, customer)
    return {
        "limit_min": limits.min_amount,
        "limit_max": limits.max_amount,
        "limit_tier": limits.tier,
    }


@login_required
@permission_required("loans.add_loanapplication", raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    customer_id = request.GET.get("customer", "")
    if not customer_id:
        # Step 1: choose one of your customers.
        search = CustomerSearchForm(request.GET or None)
        query = search.cleaned_data["q"].strip() if search.is_valid() else ""
        customers = customers_for_application(user=request.user, query=query)
        for customer in customers:
            customer.id_number_masked = mask_id_number(customer.id_number or "")
        return render(
            request,
            "loans/origination_application_new.html",
            {"step": 1, "search": search, "customers": customers, "q": query},
        )
    customer = customer_get(user=request.user, pk=customer_id)
    exposure = customer_exposure(customer)
    product_id = request.GET.get("product", "")
    if not product_id:
        # Step 2: the products this customer may apply for, with what they may borrow.
        options = [
            (_decorate_product(product), low, high)
            for product, low, high in eligible_products(customer)
        ]
        return render(
            request,
            "loans/origination_application_new.html",
            {"step": 2, "customer": customer, "options": options, "exposure": exposure},
        )
    # Step 3: the terms.
    try:
        product = Product.objects.prefetch_related("tiers").get(pk=int(product_id))
    except (Product.DoesNotExist, ValueError):
        raise Http404 from None
    if not product_is_eligible(product, customer):
        messages.error(
            request, _("%(product)s is not offered to this customer.") % {"product": product.name}
        )
        return redirect(
            f"{reverse('loans:application_new')}?{urlencode({'customer': customer.pk})}"
        )
    guarantors, collaterals = _security_formsets(request, product)
    if request.method == "POST":
        form = ApplicationForm(request.POST, product=product)
        if _validate_application(form, guarantors, collaterals, customer=customer, product=product):
            try:
                application = loan_application_create(
                    actor=request.user,
                    customer=customer,
                    product=product,
                    guarantors=guarantors_from(guarantors) if guarantors is not None else [],
                    collaterals=collaterals_from(collaterals) if collaterals is not None else [],
                    **form.terms(),
                )
            except DomainError as exc:
                _attach(form, [exc], guarantors, collaterals)
            else:
                messages.success(
                    request,
                    _("Application %(number)s was saved as a draft.")
                    % {"number": application.number},
                )
                return redirect("loans:application_detail", pk=application.pk)
    else:
        form = ApplicationForm(
            product=product,
            initial={
                "term_months": min(max(12, product.min_term_months), product.max_term_months),
                "annual_rate_percent": rate_to_percent(product.min_rate),
                "repayment_method": product.repayment_methods[0],
            },
        )
    return render(
        request,
        "loans/origination_application_new.html",
        {
            "step": 3,
            "customer": customer,
            "product": _decorate_product(product),
            "form": form,
            "guarantors": guarantors,
            "collaterals": collaterals,
            "exposure": exposure,
            **_limits_context(product, customer),
        },
    )


# --- applications: one ---------------------------------------------------------------------------


def _audit_trail(application: LoanApplication) -> list[AuditEvent]:
    events = list(
        AuditEvent.objects.filter(
            object_type=LoanApplication._meta.label_lower, object_id=str(application.pk)
        )
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
    for event in events:
        event.label = AUDIT_LABELS.get(event.action, event.action)
    return events


def _preview_query(application: LoanApplication) -> str:
    return urlencode(
        {
            "amount": application.amount,
            "term_months": application.term_months,
            "annual_rate_percent": rate_to_percent(application.annual_rate),
            "repayment_method": application.repayment_method,
        }
    )


@login_required
@permission_required("loans.view_loanapplication", raise_exception=True)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get(user=request.user, pk=pk)
    can_change = request.user.has_perm("loans.change_loanapplication")
    is_draft = application.state == LoanApplication.State.DRAFT
    has_case = hasattr(application, "approval_case")
    return render(
        request,
        "loans/origination_application_detail.html",
        {
            "application": application,
            "product": _decorate_product(application.product),
            "rate_display": format_rate(application.annual_rate),
            "exposure": customer_exposure(application.customer),
            "events": _audit_trail(application),
            "preview_query": _preview_query(application),
            "can_edit": can_change and is_draft,
            "can_submit": can_change and is_draft,
            # A submitted application is withdrawn from its approval case, which this page links.
            "has_case": has_case,
            "can_withdraw": can_change
            and application.state in (LoanApplication.State.DRAFT, LoanApplication.State.SUBMITTED)
            and not has_case,
            **_limits_context(application.product, application.customer),
        },
    )


@login_required
@permission_required("loans.change_loanapplication", raise_exception=True)
@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get(user=request.user, pk=pk)
    if application.state != LoanApplication.State.DRAFT:
        messages.error(request, _("Only a draft application can be changed."))
        return redirect("loans:application_detail", pk=application.pk)
    product, customer = application.product, application.customer
    guarantors, collaterals = _security_formsets(request, product, application)
    if request.method == "POST":
        form = ApplicationForm(request.POST, product=product)
        if _validate_application(form, guarantors, collaterals, customer=customer, product=product):
            try:
                loan_application_update(
                    actor=request.user,
                    application=application,
                    guarantors=guarantors_from(guarantors) if guarantors is not None else None,
                    collaterals=collaterals_from(collaterals) if collaterals is not None else None,
                    **form.terms(),
                )
            except DomainError as exc:
                _attach(form, [exc], guarantors, collaterals)
            else:
                messages.success(request, _("The application was saved."))
                return redirect("loans:application_detail", pk=application.pk)
    else:
        form = ApplicationForm(initial=ApplicationForm.initial_for(application), product=product)
    return render(
        request,
        "loans/origination_application_new.html",
        {
            "step": 3,
            "application": application,
            "customer": customer,
            "product": _decorate_product(product),
            "form": form,
            "guarantors": guarantors,
            "collaterals": collaterals,
            "exposure": customer_exposure(customer),
            **_limits_context(product, customer),
        },
    )


@login_required
@permission_required("loans.change_loanapplication", raise_exception=True)
@require_POST
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get(user=request.user, pk=pk)
    try:
        loan_application_submit(application=application, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Application %(number)s was submitted for approval.")
            % {"number": application.number},
        )
    return redirect("loans:application_detail", pk=application.pk)


@login_required
@permission_required("loans.change_loanapplication", raise_exception=True)
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get(user=request.user, pk=pk)
    comment = request.POST.get("comment", "")[:1000]
    try:
        loan_application_withdraw(application=application, actor=request.user, comment=comment)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Application %(number)s was withdrawn.") % {"number": application.number},
        )
    return redirect("loans:application_detail", pk=application.pk)


# --- schedule preview (htmx partial) ------------------------------------------------------------


@login_required
@permission_required("loans.view_loanapplication", raise_exception=True)
@require_http_methods(["GET", "POST"])
def schedule_preview(request: HttpRequest) -> HttpResponse:
    form = SchedulePreviewForm(request.POST if request.method == "POST" else request.GET)
    context: dict = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            rows = generate_schedule(
                amount=data["amount"],
                annual_rate=percent_to_rate(data["annual_rate_percent"]),
                term_months=data["term_months"],
                method=data["repayment_method"],
                start_date=data["start_date"] or timezone.localdate(),
                day_count=data["day_count"] or "30/360",
            )
        except ScheduleError:
            context["error"] = _(
                "No schedule for these terms: the amount is too small for the term."
            )
        else:
            context["rows"] = rows
            context["totals"] = schedule_totals(rows)
    else:
        context["error"] = _(
            "Enter the amount, term, annual rate and repayment method to see the schedule."
        )
    # htmx swaps only 2xx answers; the message is part of the partial.
    return render(request, "loans/origination_schedule_preview.html", context)


urlpatterns = [
    path("products/", products, name="products"),
    path("products/new/", product_new, name="product_new"),
    path("products/<int:pk>/edit/", product_edit, name="product_edit"),
    path("applications/", applications, name="applications"),
    path("applications/new/", application_new, name="application_new"),
    path("applications/<int:pk>/", application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", application_submit, name="application_submit"),
    path("applications/<int:pk>/withdraw/", application_withdraw, name="application_withdraw"),
    path("schedule-preview/", schedule_preview, name="schedule_preview"),
]
