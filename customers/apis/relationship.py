"""REST endpoints for segments, visits and grade changes under /api/v1/.

Same rules as the pages: permission per method (403), objects through the scoped selectors
(404 out of scope), one service call per write; ``DomainError`` becomes 400/403/409 in
``coop.api.exception_handler``.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from customers import selectors_relationship as selectors
from customers.models import GradeChange, Segment, Visit
from customers.selectors import customer_get
from customers.serializers_relationship import (
    GradeApproveInputSerializer,
    GradeChangeOutputSerializer,
    GradeProposeInputSerializer,
    GradeRejectInputSerializer,
    SegmentCreateInputSerializer,
    SegmentOutputSerializer,
    SegmentUpdateInputSerializer,
    VisitInputSerializer,
    VisitOutputSerializer,
)
from customers.services import relationship as services

ERRORS = {
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
}
ERRORS_409 = {**ERRORS, 409: ErrorSerializer}


class MethodPermission(BasePermission):
    """``view.required_perms`` maps an HTTP method to the Django permissions, any of which lets
    the request through; a method not listed is refused."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        wanted = view.required_perms.get(method)
        if not wanted or not request.user or not request.user.is_authenticated:
            return False
        return any(request.user.has_perm(perm) for perm in wanted)


class RelationshipAPIView(GenericAPIView):
    permission_classes = [MethodPermission]
    required_perms: dict[str, tuple[str, ...]] = {}

    def paginated(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


# --- segments --------------------------------------------------------------------------------


def _segment_out(request, pk) -> dict:
    # Re-read through the list selector so member_count is the caller's visible count.
    return SegmentOutputSerializer(selectors.segments_list(request.user).get(pk=pk)).data


class SegmentListCreateAPI(RelationshipAPIView):
    queryset = Segment.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"GET": ("customers.view_segment",), "POST": ("customers.manage_segments",)}
    serializer_class = SegmentOutputSerializer

    @extend_schema(
        operation_id="segments_list",
        responses={200: SegmentOutputSerializer(many=True), **ERRORS},
        summary="Segments, with the members the caller may see",
    )
    def get(self, request):
        return self.paginated(selectors.segments_list(request.user), SegmentOutputSerializer)

    @extend_schema(
        operation_id="segments_create",
        request=SegmentCreateInputSerializer,
        responses={201: SegmentOutputSerializer, **ERRORS},
        summary="Define a segment; its members are computed at once",
    )
    def post(self, request):
        data = SegmentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_create(actor=request.user, **data.validated_data)
        return Response(_segment_out(request, segment.pk), status=status.HTTP_201_CREATED)


class SegmentDetailAPI(RelationshipAPIView):
    queryset = Segment.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"GET": ("customers.view_segment",), "PATCH": ("customers.manage_segments",)}
    serializer_class = SegmentOutputSerializer

    @extend_schema(
        operation_id="segments_retrieve", responses={200: SegmentOutputSerializer, **ERRORS}
    )
    def get(self, request, pk: int):
        segment = selectors.segment_get(pk=pk)
        return Response(_segment_out(request, segment.pk))

    @extend_schema(
        operation_id="segments_partial_update",
        request=SegmentUpdateInputSerializer,
        responses={200: SegmentOutputSerializer, **ERRORS},
        summary="Change a segment; new rules or re-activation recompute its members",
    )
    def patch(self, request, pk: int):
        segment = selectors.segment_get(pk=pk)
        data = SegmentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.segment_update(actor=request.user, segment=segment, **data.validated_data)
        return Response(_segment_out(request, segment.pk))


class SegmentRecomputeAPI(RelationshipAPIView):
    queryset = Segment.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"POST": ("customers.manage_segments",)}
    serializer_class = SegmentOutputSerializer

    @extend_schema(
        operation_id="segments_recompute",
        request=None,
        responses={200: SegmentOutputSerializer, **ERRORS_409},
        summary="Recompute a segment's members now (409 when the segment is inactive)",
    )
    def post(self, request, pk: int):
        segment = selectors.segment_get(pk=pk)
        services.segment_recompute(segment=segment, actor=request.user)
        return Response(_segment_out(request, segment.pk))


# --- visits ----------------------------------------------------------------------------------


class VisitListCreateAPI(RelationshipAPIView):
    queryset = Visit.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"GET": ("customers.view_visit",), "POST": ("customers.add_visit",)}
    serializer_class = VisitOutputSerializer

    @extend_schema(
        operation_id="visits_list",
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.INT, description="Only this customer's"),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description="Only visits I recorded"),
        ],
        responses={200: VisitOutputSerializer(many=True), **ERRORS},
        summary="Visits of the customers the caller may see, newest first",
    )
    def get(self, request):
        visits = selectors.visits_visible(request.user)
        customer = request.query_params.get("customer", "")
        if customer:
            if not customer.isdigit():
                return Response(
                    {"customer": [_("A customer id is a whole number.")]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            visits = visits.filter(customer_id=int(customer))
        if request.query_params.get("mine", "").lower() in ("1", "true", "yes"):
            visits = visits.filter(staff=request.user)
        return self.paginated(visits, VisitOutputSerializer)

    @extend_schema(
        operation_id="visits_create",
        request=VisitInputSerializer,
        responses={201: VisitOutputSerializer, **ERRORS},
        summary="Record a visit to a customer in scope",
    )
    def post(self, request):
        data = VisitInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        visit = services.visit_record(actor=request.user, **data.validated_data)
        visit = selectors.visit_get(user=request.user, pk=visit.pk)
        return Response(VisitOutputSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitDetailAPI(RelationshipAPIView):
    queryset = Visit.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"GET": ("customers.view_visit",)}
    serializer_class = VisitOutputSerializer

    @extend_schema(operation_id="visits_retrieve", responses={200: VisitOutputSerializer, **ERRORS})
    def get(self, request, pk: int):
        return Response(VisitOutputSerializer(selectors.visit_get(user=request.user, pk=pk)).data)


# --- grade changes ---------------------------------------------------------------------------


class GradeChangeListAPI(RelationshipAPIView):
    queryset = GradeChange.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"GET": ("customers.propose_grade", "customers.approve_grade")}
    serializer_class = GradeChangeOutputSerializer

    @extend_schema(
        operation_id="grade_changes_list",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=GradeChange.Status.values, description="Filter"
            ),
            OpenApiParameter("customer", OpenApiTypes.INT, description="Only this customer's"),
        ],
        responses={200: GradeChangeOutputSerializer(many=True), **ERRORS},
        summary="Grade changes of customers in scope: open ones oldest first, then decided ones",
    )
    def get(self, request):
        open_first = Case(
            When(status=GradeChange.Status.PROPOSED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        changes = selectors.grade_changes_visible(request.user).order_by(
            open_first, "proposed_at", "id"
        )
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in GradeChange.Status.values:
                return Response(
                    {
                        "status": [
                            _("One of: %(values)s.")
                            % {"values": ", ".join(GradeChange.Status.values)}
                        ]
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
            changes = changes.filter(status=wanted)
        customer = request.query_params.get("customer", "")
        if customer:
            if not customer.isdigit():
                return Response(
                    {"customer": [_("A customer id is a whole number.")]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            changes = changes.filter(customer_id=int(customer))
        return self.paginated(changes, GradeChangeOutputSerializer)


class GradeProposeAPI(RelationshipAPIView):
    queryset = GradeChange.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"POST": ("customers.propose_grade",)}
    serializer_class = GradeChangeOutputSerializer

    @extend_schema(
        operation_id="customers_grade_changes_create",
        request=GradeProposeInputSerializer,
        responses={201: GradeChangeOutputSerializer, **ERRORS},
        summary="Propose a grade change for a customer (one open proposal per customer)",
    )
    def post(self, request, pk: int):
        customer = customer_get(user=request.user, pk=pk)
        data = GradeProposeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.grade_change_propose(
            actor=request.user, customer=customer, **data.validated_data
        )
        change = selectors.grade_change_get(user=request.user, pk=change.pk)
        return Response(GradeChangeOutputSerializer(change).data, status=status.HTTP_201_CREATED)


class GradeApproveAPI(RelationshipAPIView):
    queryset = GradeChange.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"POST": ("customers.approve_grade",)}
    serializer_class = GradeChangeOutputSerializer

    @extend_schema(
        operation_id="grade_changes_approve",
        request=GradeApproveInputSerializer,
        responses={200: GradeChangeOutputSerializer, **ERRORS_409},
        summary="Approve: applies the new grade (403 for your own proposal or without the "
        "authority, 409 when already decided or the grade changed meanwhile)",
    )
    def post(self, request, pk: int):
        change = selectors.grade_change_get(user=request.user, pk=pk)
        data = GradeApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.grade_change_approve(actor=request.user, change=change, **data.validated_data)
        change = selectors.grade_change_get(user=request.user, pk=pk)
        return Response(GradeChangeOutputSerializer(change).data)


class GradeRejectAPI(RelationshipAPIView):
    queryset = GradeChange.objects.none()  # for the schema only; reads go through selectors
    required_perms = {"POST": ("customers.approve_grade",)}
    serializer_class = GradeChangeOutputSerializer

    @extend_schema(
        operation_id="grade_changes_reject",
        request=GradeRejectInputSerializer,
        responses={200: GradeChangeOutputSerializer, **ERRORS_409},
        summary="Reject with a comment (same authority as approving)",
    )
    def post(self, request, pk: int):
        change = selectors.grade_change_get(user=request.user, pk=pk)
        data = GradeRejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.grade_change_reject(actor=request.user, change=change, **data.validated_data)
        change = selectors.grade_change_get(user=request.user, pk=pk)
        return Response(GradeChangeOutputSerializer(change).data)


urlpatterns = [
    path("segments/", SegmentListCreateAPI.as_view(), name="api-segments"),
    path("segments/<int:pk>/", SegmentDetailAPI.as_view(), name="api-segment"),
    path(
        "segments/<int:pk>/recompute/",
        SegmentRecomputeAPI.as_view(),
        name="api-segment-recompute",
    ),
    path("visits/", VisitListCreateAPI.as_view(), name="api-visits"),
    path("visits/<int:pk>/", VisitDetailAPI.as_view(), name="api-visit"),
    path("grade-changes/", GradeChangeListAPI.as_view(), name="api-grade-changes"),
    path(
        "customers/<int:pk>/grade-changes/",
        GradeProposeAPI.as_view(),
        name="api-customer-grade-changes",
    ),
    path(
        "grade-changes/<int:pk>/approve/",
        GradeApproveAPI.as_view(),
        name="api-grade-change-approve",
    ),
    path(
        "grade-changes/<int:pk>/reject/", GradeRejectAPI.as_view(), name="api-grade-change-reject"
    ),
]

for root_entry in (
    ("segments", "api-segments"),
    ("visits", "api-visits"),
    ("grade-changes", "api-grade-changes"),
):
    if root_entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(root_entry)
