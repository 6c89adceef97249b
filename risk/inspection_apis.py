"""REST endpoints of post-loan inspections and early warnings under /api/v1/: the same scoped
selectors (out of scope is 404) and services as the pages."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from risk import inspections as services
from risk.apis import HasMethodPermission
from risk.inspection_forms import default_period
from risk.inspection_selectors import (
    LIST_FILTERS,
    WARNING_FILTERS,
    inspection_attachments,
    inspection_compliance,
    inspection_get,
    inspection_list,
    inspection_notices,
    inspection_warning,
    warning_get,
    warning_list,
)
from risk.inspection_serializers import (
    ComplianceOutputSerializer,
    ComplianceQuerySerializer,
    EarlyWarningActionInputSerializer,
    EarlyWarningOutputSerializer,
    InspectionCompleteInputSerializer,
    InspectionDetailOutputSerializer,
    InspectionOutputSerializer,
    InspectionRuleInputSerializer,
    InspectionRuleSerializer,
)
from risk.models import EarlyWarning, Inspection, InspectionKind


def errors(*codes: int, not_found: str = "No such inspection in your scope.") -> dict:
    described = {
        400: OpenApiResponse(ErrorSerializer, description="Invalid input; field errors by name."),
        403: OpenApiResponse(ErrorSerializer, description="Not allowed for this user's roles."),
        404: OpenApiResponse(ErrorSerializer, description=not_found),
        409: OpenApiResponse(
            ErrorSerializer,
            description="Not possible in the object's current state (already completed or "
            "closed), or lost a race: reload.",
        ),
    }
    return {code: described[code] for code in codes}


def _inspection_detail(inspection: Inspection) -> dict:
    context = {
        "notices": inspection_notices(inspection),
        "attachments": inspection_attachments(inspection),
        "warning": inspection_warning(inspection),
    }
    return InspectionDetailOutputSerializer(inspection, context=context).data


class InspectionListApi(GenericAPIView):
    queryset = Inspection.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_inspection",)}
    serializer_class = InspectionOutputSerializer

    @extend_schema(
        operation_id="inspections_list",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=list(LIST_FILTERS),
                description="open (due and overdue, the default), overdue, due, completed, all.",
            ),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=InspectionKind.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Loan number or customer name."),
        ],
        responses={200: InspectionOutputSerializer(many=True), **errors(400, 403)},
        description="Inspections in your scope (an account manager's own; a branch's; the whole "
        "bank at head office): overdue first, then due, by due date.",
    )
    def get(self, request):
        params = request.query_params
        status_filter = params.get("status") or "open"
        kind = params.get("kind", "")
        if status_filter not in LIST_FILTERS:
            raise ValidationError({"status": [_("Not one of the available choices.")]})
        if kind and kind not in InspectionKind.values:
            raise ValidationError({"kind": [_("Not one of the available choices.")]})
        queryset = inspection_list(
            user=request.user,
            status=status_filter,
            kind=kind,
            query=params.get("q", "").strip()[:50],
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(InspectionOutputSerializer(page, many=True).data)


class InspectionDetailApi(GenericAPIView):
    queryset = Inspection.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_inspection",)}
    serializer_class = InspectionDetailOutputSerializer

    @extend_schema(
        operation_id="inspections_retrieve",
        responses={200: InspectionDetailOutputSerializer, **errors(403, 404)},
    )
    def get(self, request, pk: int):
        return Response(_inspection_detail(inspection_get(user=request.user, pk=pk)))


class InspectionCompleteApi(GenericAPIView):
    queryset = Inspection.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"POST": ("risk.complete_inspection",)}
    serializer_class = InspectionCompleteInputSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="inspections_complete",
        request={
            "application/json": InspectionCompleteInputSerializer,
            "multipart/form-data": InspectionCompleteInputSerializer,
        },
        responses={200: InspectionDetailOutputSerializer, **errors(400, 403, 404, 409)},
        description="Complete an open inspection with its findings (and photos, as multipart). "
        "Plans the next routine inspection; a risk conclusion raises an early warning.",
    )
    def post(self, request, pk: int):
        inspection = inspection_get(user=request.user, pk=pk)
        data = request.data
        if hasattr(data, "getlist"):
            # Multipart: repeated keys carry the lists.
            data = {
                **{key: data.get(key) for key in data},
                "signals": data.getlist("signals"),
                "attachments": request.FILES.getlist("attachments"),
            }
        serializer = InspectionCompleteInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        services.inspection_complete(
            actor=request.user,
            inspection=inspection,
            findings=services.InspectionFindings(
                funds_use=values["funds_use"],
                conclusion=values["conclusion"],
                funds_use_note=values.get("funds_use_note", ""),
                operation_note=values["operation_note"],
                guarantor_note=values.get("guarantor_note", ""),
                collateral_note=values.get("collateral_note", ""),
                signals=tuple(values.get("signals") or ()),
                next_action=values.get("next_action", ""),
            ),
            attachments=values.get("attachments") or [],
            inspected_on=values.get("inspected_on"),
        )
        return Response(_inspection_detail(inspection_get(user=request.user, pk=pk)))


class EarlyWarningListApi(GenericAPIView):
    queryset = EarlyWarning.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_earlywarning",)}
    serializer_class = EarlyWarningOutputSerializer

    @extend_schema(
        operation_id="early_warnings_list",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=list(WARNING_FILTERS),
                description="active (open and acknowledged, the default), open, acknowledged, "
                "closed, all.",
            )
        ],
        responses={200: EarlyWarningOutputSerializer(many=True), **errors(400, 403)},
    )
    def get(self, request):
        status_filter = request.query_params.get("status") or "active"
        if status_filter not in WARNING_FILTERS:
            raise ValidationError({"status": [_("Not one of the available choices.")]})
        page = self.paginate_queryset(warning_list(user=request.user, status=status_filter))
        return self.get_paginated_response(EarlyWarningOutputSerializer(page, many=True).data)


class EarlyWarningDetailApi(GenericAPIView):
    queryset = EarlyWarning.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_earlywarning",)}
    serializer_class = EarlyWarningOutputSerializer

    @extend_schema(
        operation_id="early_warnings_retrieve",
        responses={
            200: EarlyWarningOutputSerializer,
            **errors(403, 404, not_found="No such warning in your scope."),
        },
    )
    def get(self, request, pk: int):
        return Response(EarlyWarningOutputSerializer(warning_get(user=request.user, pk=pk)).data)


class EarlyWarningActionApi(GenericAPIView):
    queryset = EarlyWarning.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"POST": ("risk.handle_earlywarning",)}
    serializer_class = EarlyWarningActionInputSerializer

    @extend_schema(
        operation_id="early_warnings_action",
        request=EarlyWarningActionInputSerializer,
        responses={
            200: EarlyWarningOutputSerializer,
            **errors(400, 403, 404, 409, not_found="No such warning in your scope."),
        },
    )
    def post(self, request, pk: int):
        warning = warning_get(user=request.user, pk=pk)
        serializer = EarlyWarningActionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        action = data["action"]
        if action == "acknowledge":
            services.early_warning_acknowledge(
                actor=request.user, warning=warning, comment=data.get("comment", "")
            )
        elif action == "close":
            services.early_warning_close(
                actor=request.user, warning=warning, comment=data.get("comment", "")
            )
        elif action == "review":
            services.early_warning_review(
                actor=request.user,
                warning=warning,
                to_class=data["to_class"],
                reason=data.get("reason", ""),
            )
        else:
            services.early_warning_order_inspection(
                actor=request.user, warning=warning, due_on=data.get("due_on")
            )
        return Response(EarlyWarningOutputSerializer(warning_get(user=request.user, pk=pk)).data)


class InspectionComplianceApi(GenericAPIView):
    queryset = Inspection.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_inspection_compliance",)}
    serializer_class = ComplianceOutputSerializer
    pagination_class = None

    @extend_schema(
        operation_id="inspection_compliance_retrieve",
        parameters=[ComplianceQuerySerializer],
        responses={200: ComplianceOutputSerializer, **errors(400, 403)},
        description="On time / late / overdue counts and rates per branch and per account "
        "manager, for the inspections due in the period (default: this calendar year), within "
        "your scope.",
    )
    def get(self, request):
        query = ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = default_period()
        start = query.validated_data.get("date_from") or start
        end = query.validated_data.get("date_to") or end
        if start > end:
            raise ValidationError({"date_to": [_("The period starts after it ends.")]})
        figures = inspection_compliance(user=request.user, date_from=start, date_to=end)
        return Response(ComplianceOutputSerializer(figures).data)


class InspectionRuleApi(GenericAPIView):
    queryset = Inspection.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.manage_routing",), "PATCH": ("risk.manage_routing",)}
    serializer_class = InspectionRuleSerializer
    pagination_class = None

    @extend_schema(
        operation_id="inspection_rule_retrieve",
        responses={200: InspectionRuleSerializer, **errors(403)},
    )
    def get(self, request):
        return Response(InspectionRuleSerializer(services.inspection_rule()).data)

    @extend_schema(
        operation_id="inspection_rule_partial_update",
        request=InspectionRuleInputSerializer,
        responses={200: InspectionRuleSerializer, **errors(400, 403)},
        description="Head office changes the rule, as on the rules page: new values plan the "
        "inspections created from now on; planned ones keep their dates. One audit row.",
    )
    def patch(self, request):
        data_in = InspectionRuleInputSerializer(data=request.data)
        data_in.is_valid(raise_exception=True)
        rule = services.inspection_rule_update(actor=request.user, **data_in.validated_data)
        return Response(InspectionRuleSerializer(rule).data)


urlpatterns = [
    path("inspections/", InspectionListApi.as_view(), name="api-inspections"),
    path("inspections/<int:pk>/", InspectionDetailApi.as_view(), name="api-inspection"),
    path(
        "inspections/<int:pk>/complete/",
        InspectionCompleteApi.as_view(),
        name="api-inspection-complete",
    ),
    path(
        "inspection-compliance/",
        InspectionComplianceApi.as_view(),
        name="api-inspection-compliance",
    ),
    path("inspection-rule/", InspectionRuleApi.as_view(), name="api-inspection-rule"),
    path("early-warnings/", EarlyWarningListApi.as_view(), name="api-early-warnings"),
    path("early-warnings/<int:pk>/", EarlyWarningDetailApi.as_view(), name="api-early-warning"),
    path(
        "early-warnings/<int:pk>/actions/",
        EarlyWarningActionApi.as_view(),
        name="api-early-warning-actions",
    ),
]

for _entry in (
    ("inspections", "api-inspections"),
    ("inspection-compliance", "api-inspection-compliance"),
    ("inspection-rule", "api-inspection-rule"),
    ("early-warnings", "api-early-warnings"),
):
    if _entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(_entry)
