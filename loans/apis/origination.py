"""REST endpoints for loan origination under /api/v1/: products, loan applications, and the
repayment schedule preview.

Thin views: a serializer checks the input, a scoped selector fetches (404 out of scope), one
service writes; ``coop.api.exception_handler`` turns DomainError into 400 and ConflictError into
409 in one place.
"""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from customers.selectors import customer_get
from loans.models import LoanApplication
from loans.schedules import schedule_totals
from loans.selectors_origination import (
    application_get,
    application_list,
    eligible_products,
    product_get,
    products_visible,
)
from loans.serializers_origination import (
    EligibleProductSerializer,
    LoanApplicationCreateSerializer,
    LoanApplicationSerializer,
    LoanApplicationUpdateSerializer,
    ProductInputSerializer,
    ProductSerializer,
    SchedulePreviewInputSerializer,
    SchedulePreviewSerializer,
)
from loans.services.origination import (
    loan_application_create,
    loan_application_submit,
    loan_application_update,
    product_create,
    product_update,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; the body names the field."),
    403: OpenApiResponse(ErrorSerializer, description="Missing permission."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or out of the user's scope."),
    409: OpenApiResponse(
        ErrorSerializer, description="Not possible in the object's current state."
    ),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class MethodPermission(BasePermission):
    """The permission the view names for the request's method in ``required_perms``."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        perm = view.required_perms.get(method)
        return perm is not None and request.user.has_perm(perm)


PERMISSIONS = [IsAuthenticated, MethodPermission]


# --- products -----------------------------------------------------------------------------------


class ProductListApi(generics.ListAPIView):
    permission_classes = PERMISSIONS
    required_perms = {"GET": "loans.view_product", "POST": "loans.manage_products"}
    serializer_class = ProductSerializer

    def get_queryset(self):
        return products_visible(self.request.user).order_by("sort_order", "code")

    @extend_schema(
        operation_id="products_list",
        summary="The product catalogue (inactive products only for catalogue editors).",
        responses={200: ProductSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="products_create",
        summary="Create a product with its tiers.",
        request=ProductInputSerializer,
        responses={201: ProductSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tiers = data.pop("tiers", [])
        product = product_create(actor=request.user, data=data, tiers=tiers)
        product = product_get(user=request.user, pk=product.pk)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    permission_classes = PERMISSIONS
    required_perms = {
        "GET": "loans.view_product",
        "PUT": "loans.manage_products",
        "PATCH": "loans.manage_products",
    }

    @extend_schema(
        operation_id="products_retrieve",
        responses={200: ProductSerializer, **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ProductSerializer(product_get(user=request.user, pk=pk)).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        product = product_get(user=request.user, pk=pk)
        serializer = ProductInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("code", None)
        tiers = data.pop("tiers", None)
        product_update(actor=request.user, product=product, data=data, tiers=tiers)
        return Response(ProductSerializer(product_get(user=request.user, pk=pk)).data)

    @extend_schema(
        operation_id="products_update",
        summary="Replace a product's settings (the code stays); tiers given replace all tiers.",
        request=ProductInputSerializer,
        responses={200: ProductSerializer, **errors(400, 403, 404)},
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="products_partial_update",
        summary="Change some of a product's settings.",
        request=ProductInputSerializer,
        responses={200: ProductSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)


class EligibleProductsApi(APIView):
    permission_classes = PERMISSIONS
    required_perms = {"GET": "loans.view_product"}

    @extend_schema(
        operation_id="products_eligible",
        summary="The products a customer may apply for, with the amounts their rating allows.",
        parameters=[OpenApiParameter("customer", int, required=True, description="Customer id.")],
        responses={200: EligibleProductSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request: Request) -> Response:
        customer = customer_get(user=request.user, pk=request.query_params.get("customer"))
        rows = [
            {"product": product, "min_amount": low, "max_amount": high}
            for product, low, high in eligible_products(customer)
        ]
        return Response(EligibleProductSerializer(rows, many=True).data)


# --- applications -------------------------------------------------------------------------------


class LoanApplicationFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=LoanApplication.State.choices)
    product = django_filters.NumberFilter(field_name="product_id")
    customer = django_filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = LoanApplication
        fields = ["state", "product", "customer"]


class LoanApplicationListApi(generics.ListAPIView):
    permission_classes = PERMISSIONS
    required_perms = {
        "GET": "loans.view_loanapplication",
        "POST": "loans.add_loanapplication",
    }
    serializer_class = LoanApplicationSerializer
    filterset_class = LoanApplicationFilter

    def get_queryset(self):
        return application_list(user=self.request.user).prefetch_related(
            "guarantors", "collaterals"
        )

    @extend_schema(
        operation_id="loan_applications_list",
        summary="Applications of the customers in the user's scope.",
        responses={200: LoanApplicationSerializer(many=True), **errors(400, 403)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="loan_applications_create",
        summary="Create a draft application, with its guarantors and collateral.",
        request=LoanApplicationCreateSerializer,
        responses={201: LoanApplicationSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = LoanApplicationCreateSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        application = loan_application_create(actor=request.user, **serializer.validated_data)
        application = application_get(user=request.user, pk=application.pk)
        return Response(LoanApplicationSerializer(application).data, status=status.HTTP_201_CREATED)


class LoanApplicationDetailApi(APIView):
    permission_classes = PERMISSIONS
    required_perms = {
        "GET": "loans.view_loanapplication",
        "PATCH": "loans.change_loanapplication",
    }

    @extend_schema(
        operation_id="loan_applications_retrieve",
        responses={200: LoanApplicationSerializer, **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        application = application_get(user=request.user, pk=pk)
        return Response(LoanApplicationSerializer(application).data)

    @extend_schema(
        operation_id="loan_applications_partial_update",
        summary="Change a draft application.",
        request=LoanApplicationUpdateSerializer,
        responses={200: LoanApplicationSerializer, **errors(400, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        application = application_get(user=request.user, pk=pk)
        serializer = LoanApplicationUpdateSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        loan_application_update(
            actor=request.user, application=application, **serializer.validated_data
        )
        application = application_get(user=request.user, pk=pk)
        return Response(LoanApplicationSerializer(application).data)


class LoanApplicationSubmitApi(APIView):
    permission_classes = PERMISSIONS
    required_perms = {"POST": "loans.change_loanapplication"}

    @extend_schema(
        operation_id="loan_applications_submit",
        summary="Submit a draft into the approval workflow.",
        request=None,
        responses={200: LoanApplicationSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        application = application_get(user=request.user, pk=pk)
        loan_application_submit(application=application, actor=request.user)
        application = application_get(user=request.user, pk=pk)
        return Response(LoanApplicationSerializer(application).data)


# --- schedule preview ---------------------------------------------------------------------------


class SchedulePreviewApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="schedule_preview",
        summary="The repayment schedule for given terms; nothing is stored.",
        request=SchedulePreviewInputSerializer,
        responses={200: SchedulePreviewSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = SchedulePreviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["installments"]
        totals = {**schedule_totals(rows), "installments": len(rows)}
        return Response(SchedulePreviewSerializer({"installments": rows, "totals": totals}).data)


urlpatterns = [
    path("products/", ProductListApi.as_view(), name="api-products"),
    path("products/eligible/", EligibleProductsApi.as_view(), name="api-products-eligible"),
    path("products/<int:pk>/", ProductDetailApi.as_view(), name="api-product-detail"),
    path("loan-applications/", LoanApplicationListApi.as_view(), name="api-loan-applications"),
    path(
        "loan-applications/<int:pk>/",
        LoanApplicationDetailApi.as_view(),
        name="api-loan-application-detail",
    ),
    path(
        "loan-applications/<int:pk>/submit/",
        LoanApplicationSubmitApi.as_view(),
        name="api-loan-application-submit",
    ),
    path("schedule-preview/", SchedulePreviewApi.as_view(), name="api-schedule-preview"),
]

# The API root lists each app's collections (coop.api); loans/api_urls.py imports this module.
for _entry in (("products", "api-products"), ("loan-applications", "api-loan-applications")):
    if _entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(_entry)
