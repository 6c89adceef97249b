"""REST endpoints of the customer files: list/create, detail/update, reveal one full number.

The same scoping (``customers_visible`` / ``customer_get``: out of scope is 404), the same filters
(``CustomerFilterForm``) and the same services as the pages.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from customers.forms import CustomerFilterForm
from customers.models import Customer
from customers.policy import customer_policy
from customers.selectors import customer_get, customers_visible
from customers.serializers import (
    FILTER_CHOICES,
    CustomerCreateInputSerializer,
    CustomerDetailOutputSerializer,
    CustomerOutputSerializer,
    CustomerUpdateInputSerializer,
    RevealInputSerializer,
    RevealOutputSerializer,
)
from customers.services.files import (
    DuplicateCustomerError,
    customer_create,
    customer_update,
    personal_data_reveal,
)


class HasMethodPermission(BasePermission):
    """The Django permissions each HTTP method needs, from the view's ``required_perms``."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        needed = view.required_perms.get(method, ())
        return bool(needed) and request.user.has_perms(needed)


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; field errors by name."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for your roles."),
    404: OpenApiResponse(ErrorSerializer, description="No such customer in your scope."),
}
FILTER_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Part of the name (never a number)."),
    *[
        OpenApiParameter(name, OpenApiTypes.STR, enum=values)
        for name, values in FILTER_CHOICES.items()
    ],
    OpenApiParameter("segment", OpenApiTypes.INT, description="Segment id."),
    OpenApiParameter(
        "owner", OpenApiTypes.INT, description="Account manager id (branch-wide roles only)."
    ),
]


def _duplicate_response(exc: DuplicateCustomerError) -> Response:
    body: dict = {exc.field: [exc.message], "code": exc.code}
    if exc.existing is not None:
        body["existing_customer"] = exc.existing.pk
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class CustomerListCreateApi(GenericAPIView):
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {
        "GET": ("customers.view_customer",),
        "POST": ("customers.add_customer",),
    }
    serializer_class = CustomerOutputSerializer

    def get_queryset(self):
        return customers_visible(self.request.user).select_related("branch", "owner", "b_manager")

    @extend_schema(
        operation_id="customers_list",
        parameters=FILTER_PARAMETERS,
        responses={200: CustomerOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        form = CustomerFilterForm(request.query_params or None, user=request.user)
        if form.is_bound and not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        page = self.paginate_queryset(form.filter(self.get_queryset()))
        return self.get_paginated_response(CustomerOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="customers_create",
        request=CustomerCreateInputSerializer,
        responses={201: CustomerDetailOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = CustomerCreateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            customer = customer_create(actor=request.user, data=serializer.service_data())
        except DuplicateCustomerError as exc:
            return _duplicate_response(exc)
        customer = customer_get(user=request.user, pk=customer.pk)
        return Response(_detail_data(customer), status=status.HTTP_201_CREATED)


def _detail_data(customer: Customer) -> dict:
    customer.policy = customer_policy(customer)
    customer.segments = [
        m.segment
        for m in customer.memberships.filter(segment__is_active=True)
        .select_related("segment")
        .order_by("segment__name")
    ]
    return CustomerDetailOutputSerializer(customer).data


class CustomerDetailApi(GenericAPIView):
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {
        "GET": ("customers.view_customer",),
        "PATCH": ("customers.view_customer", "customers.change_customer"),
    }
    serializer_class = CustomerDetailOutputSerializer

    @extend_schema(
        operation_id="customers_retrieve", responses={200: CustomerDetailOutputSerializer, **ERRORS}
    )
    def get(self, request, pk: int):
        return Response(_detail_data(customer_get(user=request.user, pk=pk)))

    @extend_schema(
        operation_id="customers_partial_update",
        request=CustomerUpdateInputSerializer,
        responses={200: CustomerDetailOutputSerializer, **ERRORS},
    )
    def patch(self, request, pk: int):
        customer = customer_get(user=request.user, pk=pk)
        serializer = CustomerUpdateInputSerializer(
            customer, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        try:
            customer_update(actor=request.user, customer=customer, data=serializer.service_data())
        except DuplicateCustomerError as exc:
            return _duplicate_response(exc)
        return Response(_detail_data(customer_get(user=request.user, pk=pk)))


class CustomerRevealApi(GenericAPIView):
    """The full ID or mobile number; needs ``coop.view_full_personal_data`` and is logged."""

    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"POST": ("customers.view_customer",)}
    serializer_class = RevealInputSerializer

    @extend_schema(
        operation_id="customers_reveal",
        request=RevealInputSerializer,
        responses={200: RevealOutputSerializer, **ERRORS},
    )
    def post(self, request, pk: int):
        customer = customer_get(user=request.user, pk=pk)
        serializer = RevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        value = personal_data_reveal(
            actor=request.user,
            customer=customer,
            field=serializer.validated_data["field"],
            channel="api",
        )
        return Response(RevealOutputSerializer({"value": value}).data)


if ("customers", "api-customers") not in API_ROOT_ENTRIES:
    API_ROOT_ENTRIES.append(("customers", "api-customers"))

urlpatterns = [
    path("customers/", CustomerListCreateApi.as_view(), name="api-customers"),
    path("customers/<int:pk>/", CustomerDetailApi.as_view(), name="api-customer-detail"),
    path("customers/<int:pk>/reveal/", CustomerRevealApi.as_view(), name="api-customer-reveal"),
]
