"""REST endpoints of the counter service and complaints area (under /api/v1/)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from coop.models import OrgUnit, User
from coop.services import DomainError
from customers.forms_service import ComplaintFilter, ServiceInteractionFilter
from customers.serializers_service import (
    ComplaintDetailSerializer,
    ComplaintInputSerializer,
    ComplaintOutputSerializer,
    ComplaintTransitionInputSerializer,
    ServiceInteractionInputSerializer,
    ServiceInteractionOutputSerializer,
    ServiceSummaryQuerySerializer,
    ServiceSummarySerializer,
)
from customers.services.service import (
    complaint_get,
    complaint_receive,
    complaint_transition,
    complaints_visible,
    service_interaction_get,
    service_interaction_record,
    service_interactions_visible,
    service_summary,
    shanghai_today,
)

E400 = OpenApiResponse(ErrorSerializer, description="Invalid input; nothing was changed.")
E403 = OpenApiResponse(ErrorSerializer, description="Your role does not allow this.")
E404 = OpenApiResponse(ErrorSerializer, description="Not found, or outside your scope.")
E409 = OpenApiResponse(
    ErrorSerializer, description="Not possible in the current state, or lost a race."
)


class _PermissionByMethod(BasePermission):
    """``request.user.has_perm`` for the permission this class names for the HTTP method."""

    required: dict[str, str] = {}

    def has_permission(self, request: Request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        perm = self.required.get(method)
        user = request.user
        return bool(perm and user and user.is_authenticated and user.has_perm(perm))


class ServiceInteractionPermission(_PermissionByMethod):
    required = {
        "GET": "customers.view_serviceinteraction",
        "POST": "customers.add_serviceinteraction",
    }


class ServiceSummaryPermission(_PermissionByMethod):
    required = {"GET": "customers.view_service_summary"}


class ComplaintPermission(_PermissionByMethod):
    required = {"GET": "customers.view_complaint", "POST": "customers.add_complaint"}


class ComplaintTransitionPermission(_PermissionByMethod):
    # The service checks the finer rule (handlers, or the assignee for their own case).
    required = {"POST": "customers.view_complaint"}


# --- counter service --------------------------------------------------------------------------


class ServiceInteractionListCreateApi(generics.ListCreateAPIView):
    permission_classes = [IsAuthenticated, ServiceInteractionPermission]
    serializer_class = ServiceInteractionOutputSerializer
    filterset_class = ServiceInteractionFilter

    def get_queryset(self):
        return (
            service_interactions_visible(self.request.user)
            .select_related("teller", "outlet", "branch", "customer")
            .order_by("-served_at", "-id")
        )

    @extend_schema(
        summary="Counter services of your branch",
        responses={200: ServiceInteractionOutputSerializer(many=True), 400: E400, 403: E403},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Record a counter service (tellers)",
        request=ServiceInteractionInputSerializer,
        responses={201: ServiceInteractionOutputSerializer, 400: E400, 403: E403},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        data = ServiceInteractionInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        interaction = service_interaction_record(actor=request.user, **data.validated_data)
        return Response(
            ServiceInteractionOutputSerializer(interaction).data, status=status.HTTP_201_CREATED
        )


class ServiceInteractionDetailApi(APIView):
    permission_classes = [IsAuthenticated, ServiceInteractionPermission]

    @extend_schema(
        summary="One counter service",
        responses={200: ServiceInteractionOutputSerializer, 403: E403, 404: E404},
    )
    def get(self, request: Request, pk: int) -> Response:
        interaction = service_interaction_get(user=request.user, pk=pk)
        return Response(ServiceInteractionOutputSerializer(interaction).data)


class ServiceSummaryApi(APIView):
    permission_classes = [IsAuthenticated, ServiceSummaryPermission]

    @extend_schema(
        summary="Counter service figures per teller and outlet, for a day or a month",
        parameters=[ServiceSummaryQuerySerializer],
        responses={200: ServiceSummarySerializer, 400: E400, 403: E403},
    )
    def get(self, request: Request) -> Response:
        query = ServiceSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        branch = None
        if params.get("branch") is not None:
            branch = OrgUnit.objects.filter(pk=params["branch"]).first()
            if branch is None:
                raise DomainError(_("Choose one of your branches."), field="branch")
        summary = service_summary(
            user=request.user,
            period=params["period"],
            day=params.get("date") or shanghai_today(),
            branch=branch,
        )
        return Response(ServiceSummarySerializer(summary).data)


# --- complaints -------------------------------------------------------------------------------


class ComplaintListCreateApi(generics.ListCreateAPIView):
    permission_classes = [IsAuthenticated, ComplaintPermission]
    serializer_class = ComplaintOutputSerializer
    filterset_class = ComplaintFilter

    def get_queryset(self):
        return (
            complaints_visible(self.request.user)
            .select_related("customer", "branch", "received_by", "assignee")
            .order_by("-received_at", "-id")
        )

    @extend_schema(
        summary="Complaints and suggestions in your scope",
        responses={200: ComplaintOutputSerializer(many=True), 400: E400, 403: E403},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Receive a complaint or suggestion",
        request=ComplaintInputSerializer,
        responses={201: ComplaintDetailSerializer, 400: E400, 403: E403},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        data = ComplaintInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        complaint = complaint_receive(actor=request.user, **data.validated_data)
        complaint = complaint_get(user=request.user, pk=complaint.pk)
        return Response(ComplaintDetailSerializer(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintDetailApi(APIView):
    permission_classes = [IsAuthenticated, ComplaintPermission]

    @extend_schema(
        summary="One complaint with its trail",
        responses={200: ComplaintDetailSerializer, 403: E403, 404: E404},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ComplaintDetailSerializer(complaint_get(user=request.user, pk=pk)).data)


class ComplaintTransitionApi(APIView):
    permission_classes = [IsAuthenticated, ComplaintTransitionPermission]

    @extend_schema(
        summary="Move a complaint on: assign, reassign, respond, resolve, close or reopen",
        request=ComplaintTransitionInputSerializer,
        responses={
            200: ComplaintDetailSerializer,
            400: E400,
            403: E403,
            404: E404,
            409: E409,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        complaint = complaint_get(user=request.user, pk=pk)
        data = ComplaintTransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        assignee = None
        if params["assignee"] is not None:
            # The service decides who may handle it; an unknown id fails the same way.
            assignee = User.objects.filter(pk=params["assignee"]).first()
        complaint_transition(
            actor=request.user,
            complaint=complaint,
            transition=params["transition"],
            text=params["text"],
            assignee=assignee,
        )
        return Response(ComplaintDetailSerializer(complaint_get(user=request.user, pk=pk)).data)


urlpatterns = [
    path(
        "service-interactions/",
        ServiceInteractionListCreateApi.as_view(),
        name="api-service-interactions",
    ),
    path(
        "service-interactions/<int:pk>/",
        ServiceInteractionDetailApi.as_view(),
        name="api-service-interaction-detail",
    ),
    path("service-summary/", ServiceSummaryApi.as_view(), name="api-service-summary"),
    path("complaints/", ComplaintListCreateApi.as_view(), name="api-complaints"),
    path("complaints/<int:pk>/", ComplaintDetailApi.as_view(), name="api-complaint-detail"),
    path(
        "complaints/<int:pk>/transitions/",
        ComplaintTransitionApi.as_view(),
        name="api-complaint-transitions",
    ),
]

for _entry in (
    ("service-interactions", "api-service-interactions"),
    ("service-summary", "api-service-summary"),
    ("complaints", "api-complaints"),
):
    if _entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(_entry)
