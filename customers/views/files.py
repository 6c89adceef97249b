"""Pages of the customer files: list, find by number, export, 360 view, create, edit, reveal."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.services import DomainError
from customers.forms import CustomerFilterForm, CustomerFindForm, CustomerForm
from customers.models import Customer, PersonalDataAccess
from customers.policy import customer_policy
from customers.profile_sections import sections_for
from customers.selectors import can_see_full_personal_data, customer_get, customers_visible
from customers.services.files import (
    DuplicateCustomerError,
    customer_create,
    customer_update,
    personal_data_reveal,
)
from customers.validators import mask_id_number, mask_mobile

PAGE_SIZE = 50
SECTION_SIZE = 10


def _filtered(request: HttpRequest, form: CustomerFilterForm) -> QuerySet[Customer]:
    return form.filter(customers_visible(request.user)).select_related(
        "branch", "owner", "b_manager"
    )


def _without_number_query(request: HttpRequest) -> HttpResponseRedirect:
    """The name box received a number: drop it from the URL and point to the find box."""
    query = request.GET.copy()
    query.pop("q", None)
    query.pop("page", None)
    messages.warning(
        request, _("To find a customer by ID number or mobile number, use the find box.")
    )
    url = reverse("customers:list")
    return redirect(f"{url}?{query.urlencode()}" if query else url)


def _list_context(
    request: HttpRequest,
    form: CustomerFilterForm,
    *,
    rows,
    page_obj=None,
    find_form: CustomerFindForm | None = None,
    found: bool = False,
) -> dict:
    return {
        "form": form,
        "find_form": find_form or CustomerFindForm(),
        # Masked here, once: the list never shows a full number, whoever looks at it.
        "rows": [
            (customer, mask_id_number(customer.id_number or ""), mask_mobile(customer.mobile))
            for customer in rows
        ],
        "page_obj": page_obj,
        "found": found,
        "query": _filter_query(request),
    }


def _filter_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET or None, user=request.user)
    if form.is_bound and "q" in form.errors:
        return _without_number_query(request)
    page = Paginator(_filtered(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/files_list.html",
        _list_context(request, form, rows=page.object_list, page_obj=page),
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_POST
def customer_find(request: HttpRequest) -> HttpResponse:
    find_form = CustomerFindForm(request.POST)
    form = CustomerFilterForm(user=request.user)
    if find_form.is_valid():
        matches = list(find_form.matches(request.user)[: PAGE_SIZE + 1])
        if len(matches) == 1:
            return redirect("customers:detail", pk=matches[0].pk)
        if matches:
            # A mobile number may be shared (family members); list them, still masked.
            return render(
                request,
                "customers/files_list.html",
                _list_context(request, form, rows=matches[:PAGE_SIZE], found=True),
            )
        messages.info(request, _("No customer with this number in your scope."))
        return redirect("customers:list")
    page = Paginator(_filtered(request, form), PAGE_SIZE).get_page(1)
    return render(
        request,
        "customers/files_list.html",
        _list_context(request, form, rows=page.object_list, page_obj=page, find_form=find_form),
        status=400,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(customers: QuerySet[Customer]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A BOM, so that Excel on the branch PCs reads the file as UTF-8 and shows Chinese correctly.
    yield "\ufeff"
    yield writer.writerow(
        [
            _("Customer number"),
            _("Name"),
            _("Customer type"),
            _("ID number / credit code"),
            _("Mobile number"),
            _("Gender"),
            _("Age"),
            _("Occupation / work type"),
            _("Workplace"),
            _("Income band"),
            _("Industry"),
            _("Customer class"),
            _("Managing level"),
            _("Industry entry category"),
            _("Customer category"),
            _("Branch"),
            _("Account manager"),
            _("B-role manager"),
        ]
    )
    for customer in customers.iterator(chunk_size=2000):
        individual = customer.is_individual
        yield writer.writerow(
            [
                customer.pk,
                customer.name,
                customer.get_kind_display(),
                mask_id_number(customer.id_number or "")
                if individual
                else customer.credit_code or "",
                mask_mobile(customer.mobile),
                customer.get_gender_display() if individual else "",
                customer.age() if individual else "",
                customer.get_occupation_display() if individual else "",
                customer.get_workplace_display() if individual else "",
                customer.get_income_band_display() if individual else "",
                "" if individual else customer.industry,
                customer.get_customer_class_display(),
                customer.get_managing_level_display(),
                customer.get_industry_category_display(),
                customer.get_customer_category_display(),
                customer.branch.name,
                customer.owner.display_name,
                customer.b_manager.display_name if customer.b_manager else "",
            ]
        )


@login_required
@permission_required(
    ["customers.view_customer", "customers.export_customers"], raise_exception=True
)
@require_GET
def customer_export(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET or None, user=request.user)
    if form.is_bound and "q" in form.errors:
        return _without_number_query(request)
    response = StreamingHttpResponse(
        _csv_rows(_filtered(request, form)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


def _detail_context(request: HttpRequest, customer: Customer, revealed: dict | None = None):
    user = request.user
    context = {
        "customer": customer,
        "policy": customer_policy(customer),
        "full_data_allowed": can_see_full_personal_data(user),
        "id_number_masked": mask_id_number(customer.id_number or ""),
        "mobile_masked": mask_mobile(customer.mobile),
        "revealed": revealed or {},
        "grade_changes": list(
            customer.grade_changes.select_related("proposed_by", "decided_by").order_by(
                "-proposed_at", "-id"
            )[:SECTION_SIZE]
        ),
        "transfers": list(
            customer.transfers.select_related(
                "from_owner", "to_owner", "from_b_manager", "to_b_manager", "transferred_by"
            ).order_by("-transferred_at", "-id")[:SECTION_SIZE]
        ),
    }
    if user.has_perm("customers.view_segment"):
        context["memberships"] = list(
            customer.memberships.filter(segment__is_active=True)
            .select_related("segment")
            .order_by("segment__name")
        )
    if user.has_perm("customers.view_visit"):
        context["visits"] = list(
            customer.visits.select_related("staff").order_by("-visited_on", "-id")[:SECTION_SIZE]
        )
    if user.has_perm("customers.view_serviceinteraction"):
        context["interactions"] = list(
            customer.service_interactions.select_related("teller", "outlet").order_by(
                "-served_at", "-id"
            )[:SECTION_SIZE]
        )
    context["app_sections"] = sections_for(user, customer, request)
    if user.has_perm("customers.view_complaint"):
        context["complaints"] = list(
            customer.complaints.select_related("assignee").order_by("-received_at", "-id")[
                :SECTION_SIZE
            ]
        )
    return context


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    return render(request, "customers/files_detail.html", _detail_context(request, customer))


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@require_POST
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one full number (htmx swaps it in; without JavaScript the 360 page comes back with
    it). The number goes in the answer body only, never in a URL."""
    customer = customer_get(user=request.user, pk=pk)
    field = request.POST.get("field", "")
    if field not in PersonalDataAccess.Field.values:
        return HttpResponse(status=400)
    try:
        value = personal_data_reveal(
            actor=request.user, customer=customer, field=field, channel="page"
        )
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    if request.htmx:
        return render(request, "customers/files_pd_full.html", {"field": field, "value": value})
    return render(
        request,
        "customers/files_detail.html",
        _detail_context(request, customer, revealed={field: value}),
    )


def _kind_from(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or Customer.Kind.INDIVIDUAL
    return kind if kind in Customer.Kind.values else Customer.Kind.INDIVIDUAL


def _apply_domain_error(form: CustomerForm, exc: DomainError) -> dict:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)
    if isinstance(exc, DuplicateCustomerError) and exc.existing is not None:
        return {"duplicate": exc.existing}
    return {}


@login_required
@permission_required("customers.add_customer", raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_create_view(request: HttpRequest) -> HttpResponse:
    kind = _kind_from(request)
    form = CustomerForm(request.POST or None, user=request.user, kind=kind)
    extra: dict = {}
    if request.method == "POST" and form.is_valid():
        try:
            customer = customer_create(actor=request.user, data=form.service_data())
        except DomainError as exc:
            extra = _apply_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s is filed.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/files_form.html",
        {"form": form, "kind": kind, "customer": None, **extra},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@permission_required(["customers.view_customer", "customers.change_customer"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    form = CustomerForm(
        request.POST or None, user=request.user, kind=customer.kind, customer=customer
    )
    extra: dict = {}
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(actor=request.user, customer=customer, data=form.service_data())
        except DomainError as exc:
            extra = _apply_domain_error(form, exc)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/files_form.html",
        {"form": form, "kind": customer.kind, "customer": customer, **extra},
        status=400 if form.is_bound and form.errors else 200,
    )


urlpatterns = [
    path("", customer_list, name="list"),
    path("new/", customer_create_view, name="create"),
    path("find/", customer_find, name="find"),
    path("export.csv", customer_export, name="export"),
    path("<int:pk>/", customer_detail, name="detail"),
    path("<int:pk>/edit/", customer_edit, name="edit"),
    path("<int:pk>/reveal/", customer_reveal, name="reveal"),
]
