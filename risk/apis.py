"""REST endpoints of the approval workflow under /api/v1/. The same scoped selectors (out of
scope is 404), the same services and the same policy as the pages: a transition answers 200,
403 when this user may not run it, 409 when the case's stage does not allow it or it lost a
race."""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from coop.services import ConflictError
from loans.models import LoanApplication, RiskRoute
from loans.selectors_origination import applications_visible
from risk import policy, services
from risk.models import ApprovalCase, CommitteeMeeting, Stage
from risk.selectors import (
    QUEUE_VIEWS,
    case_get,
    case_list,
    case_signatures,
    case_trail,
    meeting_get,
    meeting_list,
    meeting_member_votes,
    route_steps,
    sla_targets,
    stage_timing,
)
from risk.serializers import (
    AvailableTransitionSerializer,
    CaseDetailOutputSerializer,
    CaseOpenInputSerializer,
    CaseOutputSerializer,
    MeetingConveneInputSerializer,
    MeetingDetailOutputSerializer,
    MeetingOutputSerializer,
    StatsOutputSerializer,
    StatsQuerySerializer,
    TransitionInputSerializer,
    VoteInputSerializer,
)


class HasMethodPermission(BasePermission):
    """The Django permissions each HTTP method needs, from the view's ``required_perms``."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        needed = view.required_perms.get(method, ())
        return bool(needed) and request.user.has_perms(needed)


def errors(*codes: int, not_found: str = "No such case in your scope.") -> dict:
    described = {
        400: OpenApiResponse(ErrorSerializer, description="Invalid input; field errors by name."),
        403: OpenApiResponse(
            ErrorSerializer,
            description="Not allowed for this user: role, authority limit or segregation of "
            "duties.",
        ),
        404: OpenApiResponse(ErrorSerializer, description=not_found),
        409: OpenApiResponse(
            ErrorSerializer,
            description="Not possible from the case's current stage, or lost a race: reload.",
        ),
    }
    return {code: described[code] for code in codes}


def _detail(request, case: ApprovalCase) -> dict:
    trail = case_trail(case)
    context = {
        "targets": sla_targets(),
        "now": timezone.now(),
        "trail": trail,
        "steps": route_steps(case, trail),
        "signatures": case_signatures(case),
        "meetings": list(case.meetings.order_by("-convened_at", "-id")),
        "available": policy.available(case, request.user),
    }
    return CaseDetailOutputSerializer(case, context=context).data


class ApprovalCaseListApi(GenericAPIView):
    # For the schema generator only; every request reads through the scoped selectors.
    queryset = ApprovalCase.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_approvalcase",), "POST": ("risk.open_case",)}
    serializer_class = CaseOutputSerializer

    @extend_schema(
        operation_id="approval_cases_list",
        parameters=[
            OpenApiParameter(
                "view",
                OpenApiTypes.STR,
                enum=[*QUEUE_VIEWS, "all"],
                description="waiting (for you, oldest in stage first), open, closed or all "
                "(default).",
            ),
            OpenApiParameter("state", OpenApiTypes.STR, enum=Stage.values),
            OpenApiParameter("route", OpenApiTypes.STR, enum=RiskRoute.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="Application number or name."),
        ],
        responses={200: CaseOutputSerializer(many=True), **errors(400, 403)},
    )
    def get(self, request):
        params = request.query_params
        view = params.get("view") or "all"
        if view not in [*QUEUE_VIEWS, "all"]:
            raise ValidationError({"view": [_("Not one of the available choices.")]})
        state, route = params.get("state", ""), params.get("route", "")
        if state and state not in Stage.values:
            raise ValidationError({"state": [_("Not one of the available choices.")]})
        if route and route not in RiskRoute.values:
            raise ValidationError({"route": [_("Not one of the available choices.")]})
        queryset = case_list(
            user=request.user,
            view=view,
            state=state,
            route=route,
            query=params.get("q", "").strip()[:50],
        )
        page = self.paginate_queryset(queryset)
        context = {"targets": sla_targets(), "now": timezone.now()}
        return self.get_paginated_response(
            CaseOutputSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        operation_id="approval_cases_open",
        request=CaseOpenInputSerializer,
        responses={
            201: CaseDetailOutputSerializer,
            **errors(400, 403, 404, 409, not_found="No such application in your scope."),
        },
        description="Submit an application for approval: a draft is submitted first; the "
        "routing rules choose the route. An application already in approval answers its case.",
    )
    def post(self, request):
        serializer = CaseOpenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            application = applications_visible(request.user).get(
                pk=serializer.validated_data["application"]
            )
        except LoanApplication.DoesNotExist:
            raise Http404 from None
        case = services.approval_case_open(application=application, actor=request.user)
        case = case_get(user=request.user, pk=case.pk)
        return Response(_detail(request, case), status=status.HTTP_201_CREATED)


class ApprovalCaseDetailApi(GenericAPIView):
    queryset = ApprovalCase.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_approvalcase",)}
    serializer_class = CaseDetailOutputSerializer

    @extend_schema(
        operation_id="approval_cases_retrieve",
        responses={200: CaseDetailOutputSerializer, **errors(403, 404)},
    )
    def get(self, request, pk: int):
        return Response(_detail(request, case_get(user=request.user, pk=pk)))


class ApprovalCaseTransitionApi(GenericAPIView):
    queryset = ApprovalCase.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"POST": ("risk.work_case",)}
    serializer_class = TransitionInputSerializer

    @extend_schema(
        operation_id="approval_cases_transition",
        request=TransitionInputSerializer,
        responses={200: CaseDetailOutputSerializer, **errors(400, 403, 404, 409)},
        description="Run a transition: advance (complete the stage), sign_investigation, "
        "return_for_information (comment required), reject (reason_code and comment required) "
        "or withdraw (comment required).",
    )
    def post(self, request, pk: int):
        case = case_get(user=request.user, pk=pk)
        serializer = TransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("state") and data["state"] != case.state:
            raise ConflictError(policy.stale_message(case), code="stale")
        case = services.approval_case_transition(
            case=case,
            actor=request.user,
            transition=data["transition"],
            comment=data.get("comment", ""),
            reason_code=data.get("reason_code", ""),
        )
        return Response(_detail(request, case_get(user=request.user, pk=pk)))


class ApprovalCaseAvailableApi(GenericAPIView):
    queryset = ApprovalCase.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_approvalcase",)}
    serializer_class = AvailableTransitionSerializer
    pagination_class = None

    @extend_schema(
        operation_id="approval_cases_available_transitions",
        responses={200: AvailableTransitionSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request, pk: int):
        case = case_get(user=request.user, pk=pk)
        names = policy.available(case, request.user)
        return Response(
            AvailableTransitionSerializer(
                [
                    {
                        "name": name,
                        "label": str(policy.TRANSITION_LABELS[name]),
                        "needs_comment": name in policy.NEEDS_COMMENT,
                        "needs_reason": name in policy.NEEDS_REASON,
                    }
                    for name in names
                ],
                many=True,
            ).data
        )


class ApprovalStatsApi(GenericAPIView):
    queryset = ApprovalCase.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_approval_stats",)}
    serializer_class = StatsOutputSerializer
    pagination_class = None

    @extend_schema(
        operation_id="approval_stats",
        parameters=[StatsQuerySerializer],
        responses={200: StatsOutputSerializer, **errors(400, 403)},
        description="Average and 90th-percentile seconds per stage, optionally per route, "
        "branch or month (by=route|branch|month), over the cases in your scope.",
    )
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        by = data.get("by") or ""
        rows = stage_timing(
            user=request.user,
            by=by,
            route=data.get("route") or "",
            branch_id=data.get("branch"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        targets = sla_targets()
        payload = {
            "by": by,
            "rows": [{**row.__dict__, "target_hours": targets.get(row.stage)} for row in rows],
        }
        return Response(StatsOutputSerializer(payload).data)


class CommitteeMeetingListApi(GenericAPIView):
    queryset = CommitteeMeeting.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {
        "GET": ("risk.view_committeemeeting",),
        "POST": ("risk.manage_committee",),
    }
    serializer_class = MeetingOutputSerializer

    @extend_schema(
        operation_id="committee_meetings_list",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=CommitteeMeeting.Status.values)
        ],
        responses={200: MeetingOutputSerializer(many=True), **errors(400, 403)},
    )
    def get(self, request):
        status_filter = request.query_params.get("status", "")
        if status_filter and status_filter not in CommitteeMeeting.Status.values:
            raise ValidationError({"status": [_("Not one of the available choices.")]})
        page = self.paginate_queryset(meeting_list(user=request.user, status=status_filter))
        return self.get_paginated_response(MeetingOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="committee_meetings_convene",
        request=MeetingConveneInputSerializer,
        responses={201: MeetingDetailOutputSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request):
        serializer = MeetingConveneInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_get(user=request.user, pk=serializer.validated_data["case"])
        meeting = services.committee_meeting_convene(case=case, actor=request.user)
        return Response(_meeting_detail(request, meeting.pk), status=status.HTTP_201_CREATED)


def _meeting_detail(request, pk: int) -> dict:
    meeting = meeting_get(user=request.user, pk=pk)
    return MeetingDetailOutputSerializer(
        meeting,
        context={
            "members": [
                {
                    "member": row.member,
                    "voted": row.voted,
                    "vote": row.vote,
                    "comment": row.comment,
                }
                for row in meeting_member_votes(meeting)
            ]
        },
    ).data


class CommitteeMeetingDetailApi(GenericAPIView):
    queryset = CommitteeMeeting.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"GET": ("risk.view_committeemeeting",)}
    serializer_class = MeetingDetailOutputSerializer

    @extend_schema(
        operation_id="committee_meetings_retrieve",
        responses={
            200: MeetingDetailOutputSerializer,
            **errors(403, 404, not_found="No such meeting in your scope."),
        },
        description="Before the meeting closes each member shows only whether they voted.",
    )
    def get(self, request, pk: int):
        return Response(_meeting_detail(request, pk))


class CommitteeVoteApi(GenericAPIView):
    queryset = CommitteeMeeting.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"POST": ("risk.vote_committee",)}
    serializer_class = VoteInputSerializer

    @extend_schema(
        operation_id="committee_meetings_vote",
        request=VoteInputSerializer,
        responses={
            201: MeetingDetailOutputSerializer,
            **errors(400, 403, 404, 409, not_found="No such meeting in your scope."),
        },
    )
    def post(self, request, pk: int):
        meeting = meeting_get(user=request.user, pk=pk)
        serializer = VoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.committee_vote_cast(
            meeting=meeting,
            actor=request.user,
            vote=serializer.validated_data["vote"],
            comment=serializer.validated_data.get("comment", ""),
        )
        return Response(_meeting_detail(request, pk), status=status.HTTP_201_CREATED)


class CommitteeCloseApi(GenericAPIView):
    queryset = CommitteeMeeting.objects.none()
    permission_classes = [IsAuthenticated, HasMethodPermission]
    required_perms = {"POST": ("risk.manage_committee",)}
    serializer_class = MeetingDetailOutputSerializer

    @extend_schema(
        operation_id="committee_meetings_close",
        request=None,
        responses={
            200: MeetingDetailOutputSerializer,
            **errors(403, 404, 409, not_found="No such meeting in your scope."),
        },
        description="Count the votes and close: passed advances the case, failed rejects it, "
        "no quorum leaves it at its approval stage.",
    )
    def post(self, request, pk: int):
        meeting = meeting_get(user=request.user, pk=pk)
        services.committee_meeting_close(meeting=meeting, actor=request.user)
        return Response(_meeting_detail(request, pk))


urlpatterns = [
    path("approval-cases/", ApprovalCaseListApi.as_view(), name="api-approval-cases"),
    path("approval-cases/<int:pk>/", ApprovalCaseDetailApi.as_view(), name="api-approval-case"),
    path(
        "approval-cases/<int:pk>/transitions/",
        ApprovalCaseTransitionApi.as_view(),
        name="api-approval-case-transitions",
    ),
    path(
        "approval-cases/<int:pk>/available-transitions/",
        ApprovalCaseAvailableApi.as_view(),
        name="api-approval-case-available-transitions",
    ),
    path("approval-stats/", ApprovalStatsApi.as_view(), name="api-approval-stats"),
    path("committee-meetings/", CommitteeMeetingListApi.as_view(), name="api-committee-meetings"),
    path(
        "committee-meetings/<int:pk>/",
        CommitteeMeetingDetailApi.as_view(),
        name="api-committee-meeting",
    ),
    path(
        "committee-meetings/<int:pk>/votes/",
        CommitteeVoteApi.as_view(),
        name="api-committee-meeting-votes",
    ),
    path(
        "committee-meetings/<int:pk>/close/",
        CommitteeCloseApi.as_view(),
        name="api-committee-meeting-close",
    ),
]

for _entry in (
    ("approval-cases", "api-approval-cases"),
    ("approval-stats", "api-approval-stats"),
    ("committee-meetings", "api-committee-meetings"),
):
    if _entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(_entry)
