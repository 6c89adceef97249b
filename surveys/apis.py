"""REST endpoints of the surveys app under /api/v1/surveys/.

Thin views: a serializer checks the input, a scoped selector fetches (404 out of scope), one
service writes; ``coop.api.exception_handler`` maps DomainError to 400 and ConflictError to 409.
The analysis endpoint's body is a contract (names fixed by issue 8).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response as ApiResponse
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from coop.api import ErrorSerializer
from coop.models import OrgUnit, User
from coop.scoping import visible_org_units
from coop.services import DomainError
from customers.selectors import customer_get
from surveys import analysis as survey_analysis
from surveys.importing import read_table
from surveys.models import Answer, Indicator
from surveys.selectors import (
    campaign_get,
    campaigns_visible,
    framework_get,
    frameworks_visible,
    improvement_get,
    improvements_visible,
    invitation_get,
    responses_visible,
    sees_respondent,
)
from surveys.serializers import (
    SurveyAnalysisSerializer,
    SurveyCampaignDetailSerializer,
    SurveyCampaignInputSerializer,
    SurveyCampaignSerializer,
    SurveyFrameworkInputSerializer,
    SurveyFrameworkListSerializer,
    SurveyFrameworkSerializer,
    SurveyImportErrorSerializer,
    SurveyImportInputSerializer,
    SurveyImportResultSerializer,
    SurveyImprovementAdvanceSerializer,
    SurveyImprovementInputSerializer,
    SurveyImprovementSerializer,
    SurveyResponseInputSerializer,
    SurveyResponseSerializer,
)
from surveys.services import (
    ImportRejected,
    campaign_close,
    campaign_create,
    campaign_open,
    framework_create,
    improvement_advance,
    improvement_open,
    invitation_add,
    response_submit,
    responses_import,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; the body names the field."),
    403: OpenApiResponse(ErrorSerializer, description="Missing permission."),
    404: OpenApiResponse(ErrorSerializer, description="Not found, or out of the user's scope."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the current state."),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class MethodPermission(BasePermission):
    """The permission the view names for the request's method in ``required_perms``."""

    def has_permission(self, request, view) -> bool:
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        perm = view.required_perms.get(method)
        return perm is not None and request.user.has_perm(perm)


class SurveysApi(APIView):
    permission_classes = [IsAuthenticated, MethodPermission]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    required_perms: dict[str, str] = {}

    def paginate(self, request, queryset, serializer_class, context=None):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        data = serializer_class(page, many=True, context=context or {}).data
        return paginator.get_paginated_response(data)


def _get_or_400(queryset, pk, field: str):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise DomainError(_("Not found."), field=field) from None


class FrameworkListApi(SurveysApi):
    required_perms = {"GET": "surveys.view_framework", "POST": "surveys.add_framework"}

    @extend_schema(
        operation_id="surveys_frameworks_list",
        responses={200: SurveyFrameworkListSerializer(many=True), **errors(403)},
    )
    def get(self, request):
        return self.paginate(
            request,
            frameworks_visible(request.user).order_by("code", "-version"),
            SurveyFrameworkListSerializer,
        )

    @extend_schema(
        operation_id="surveys_frameworks_create",
        request=SurveyFrameworkInputSerializer,
        responses={201: SurveyFrameworkSerializer, **errors(400, 403)},
    )
    def post(self, request):
        data = SurveyFrameworkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        framework = framework_create(actor=request.user, **data.validated_data)
        return ApiResponse(
            SurveyFrameworkSerializer(framework).data, status=status.HTTP_201_CREATED
        )


class FrameworkDetailApi(SurveysApi):
    required_perms = {"GET": "surveys.view_framework"}

    @extend_schema(
        operation_id="surveys_frameworks_retrieve",
        responses={200: SurveyFrameworkSerializer, **errors(403, 404)},
    )
    def get(self, request, pk: int):
        framework = framework_get(user=request.user, pk=pk)
        return ApiResponse(SurveyFrameworkSerializer(framework).data)


class CampaignListApi(SurveysApi):
    required_perms = {"GET": "surveys.view_campaign", "POST": "surveys.manage_campaign"}

    @extend_schema(
        operation_id="surveys_campaigns_list",
        responses={200: SurveyCampaignSerializer(many=True), **errors(403)},
    )
    def get(self, request):
        campaigns = campaigns_visible(request.user).select_related("framework", "org_unit")
        return self.paginate(request, campaigns, SurveyCampaignSerializer)

    @extend_schema(
        operation_id="surveys_campaigns_create",
        request=SurveyCampaignInputSerializer,
        responses={201: SurveyCampaignSerializer, **errors(400, 403)},
    )
    def post(self, request):
        data = SurveyCampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        values["framework"] = _get_or_400(
            frameworks_visible(user), values.pop("framework"), "framework"
        )
        units = visible_org_units(user)
        unit_pk = values.pop("org_unit", None)
        values["org_unit"] = _get_or_400(units, unit_pk, "org_unit") if unit_pk else None
        values["target_branches"] = [
            _get_or_400(units.filter(kind=OrgUnit.Kind.BRANCH), pk, "target_branches")
            for pk in values.pop("target_branches", [])
        ]
        from grid.selectors import grids_visible

        values["target_grids"] = [
            _get_or_400(grids_visible(user), pk, "target_grids")
            for pk in values.pop("target_grids", [])
        ]
        campaign = campaign_create(actor=user, **values)
        return ApiResponse(SurveyCampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(SurveysApi):
    required_perms = {"GET": "surveys.view_campaign"}

    @extend_schema(
        operation_id="surveys_campaigns_retrieve",
        responses={200: SurveyCampaignDetailSerializer, **errors(403, 404)},
    )
    def get(self, request, pk: int):
        campaign = campaign_get(user=request.user, pk=pk)
        counts = survey_analysis.counts(user=request.user, campaign=campaign)
        return ApiResponse(
            SurveyCampaignDetailSerializer(campaign, context={"counts": counts}).data
        )


class CampaignTransitionApi(SurveysApi):
    required_perms = {"POST": "surveys.manage_campaign"}
    action = "open"

    @extend_schema(request=None, responses={200: SurveyCampaignSerializer, **errors(403, 404, 409)})
    def post(self, request, pk: int):
        campaign = campaign_get(user=request.user, pk=pk)
        service = campaign_open if self.action == "open" else campaign_close
        campaign = service(actor=request.user, campaign=campaign)
        return ApiResponse(SurveyCampaignSerializer(campaign).data)


class CampaignOpenApi(CampaignTransitionApi):
    action = "open"


class CampaignCloseApi(CampaignTransitionApi):
    action = "close"


class CampaignResponsesApi(SurveysApi):
    required_perms = {"GET": "surveys.view_campaign", "POST": "surveys.enter_response"}

    @extend_schema(
        operation_id="surveys_campaign_responses_list",
        responses={200: SurveyResponseSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request, pk: int):
        campaign = campaign_get(user=request.user, pk=pk)
        responses = (
            responses_visible(request.user)
            .filter(campaign=campaign)
            .select_related("invitation__customer")
            .prefetch_related(
                Prefetch("answers", queryset=Answer.objects.select_related("indicator"))
            )
        )
        context = {"sees_respondent": sees_respondent(request.user, campaign)}
        return self.paginate(request, responses, SurveyResponseSerializer, context)

    @extend_schema(
        operation_id="surveys_campaign_responses_create",
        request=SurveyResponseInputSerializer,
        responses={201: SurveyResponseSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        campaign = campaign_get(user=request.user, pk=pk)
        data = SurveyResponseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("invitation"):
            invitation = invitation_get(user=request.user, pk=values["invitation"])
            if invitation.campaign_id != campaign.pk:
                raise Http404
        else:
            customer = customer_get(user=request.user, pk=values["customer"])
            invitation = invitation_add(actor=request.user, campaign=campaign, customer=customer)
        response = response_submit(
            invitation=invitation,
            answers=[dict(a) for a in values["answers"]],
            channel="api",
            actor=request.user,
            comment=values.get("comment", ""),
        )
        context = {"sees_respondent": sees_respondent(request.user, campaign)}
        return ApiResponse(
            SurveyResponseSerializer(response, context=context).data, status=status.HTTP_201_CREATED
        )


class CampaignImportApi(SurveysApi):
    required_perms = {"POST": "surveys.import_responses"}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="surveys_campaign_import",
        request={"multipart/form-data": SurveyImportInputSerializer},
        responses={
            201: SurveyImportResultSerializer,
            400: OpenApiResponse(
                SurveyImportErrorSerializer,
                description="Nothing imported; each problem has row/column.",
            ),
            **errors(403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        campaign = campaign_get(user=request.user, pk=pk)
        data = SurveyImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            table = read_table(data.validated_data["file"])
            imported = responses_import(actor=request.user, campaign=campaign, table=table)
        except ImportRejected as exc:
            return ApiResponse(
                {
                    "detail": exc.message,
                    "code": exc.code,
                    "errors": [p.as_dict() for p in exc.problems],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return ApiResponse({"imported": imported}, status=status.HTTP_201_CREATED)


class CampaignAnalysisApi(SurveysApi):
    required_perms = {"GET": "surveys.view_analysis"}

    @extend_schema(
        operation_id="surveys_campaign_analysis",
        parameters=[
            OpenApiParameter(
                "crosshair",
                str,
                enum=["mean", "midpoint", "median"],
                description="Where the crosshair sits (default: the mean of the indicator means).",
            )
        ],
        responses={200: SurveyAnalysisSerializer, **errors(400, 403, 404)},
    )
    def get(self, request, pk: int):
        campaign = campaign_get(user=request.user, pk=pk)
        rule = request.query_params.get("crosshair", "mean")
        if rule not in survey_analysis.CROSSHAIR_RULES:
            raise DomainError(_("Use mean, midpoint or median."), field="crosshair")
        result = survey_analysis.campaign_analysis(
            user=request.user, campaign=campaign, crosshair=rule
        )
        return ApiResponse(SurveyAnalysisSerializer(result).data)


class ImprovementListApi(SurveysApi):
    required_perms = {"GET": "surveys.view_improvementitem", "POST": "surveys.manage_improvement"}

    @extend_schema(
        operation_id="surveys_improvements_list",
        responses={200: SurveyImprovementSerializer(many=True), **errors(403)},
    )
    def get(self, request):
        items = improvements_visible(request.user).select_related("owner", "indicator")
        return self.paginate(request, items, SurveyImprovementSerializer)

    @extend_schema(
        operation_id="surveys_improvements_create",
        request=SurveyImprovementInputSerializer,
        responses={201: SurveyImprovementSerializer, **errors(400, 403)},
    )
    def post(self, request):
        data = SurveyImprovementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        values["owner"] = _get_or_400(
            User.objects.filter(org_unit__in=visible_org_units(user)), values["owner"], "owner"
        )
        campaign_pk = values.pop("campaign", None)
        values["campaign"] = (
            _get_or_400(campaigns_visible(user), campaign_pk, "campaign") if campaign_pk else None
        )
        code = values.pop("indicator", "")
        values["indicator"] = None
        if code and values["campaign"] is not None:
            values["indicator"] = Indicator.objects.filter(
                framework_id=values["campaign"].framework_id, code=code
            ).first()
            if values["indicator"] is None:
                raise DomainError(_("Unknown indicator."), field="indicator")
        item = improvement_open(actor=user, **values)
        return ApiResponse(SurveyImprovementSerializer(item).data, status=status.HTTP_201_CREATED)


class ImprovementAdvanceApi(SurveysApi):
    required_perms = {"POST": "surveys.view_improvementitem"}

    @extend_schema(
        operation_id="surveys_improvements_advance",
        request=SurveyImprovementAdvanceSerializer,
        responses={200: SurveyImprovementSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        item = improvement_get(user=request.user, pk=pk)
        data = SurveyImprovementAdvanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = improvement_advance(actor=request.user, item=item, **data.validated_data)
        return ApiResponse(SurveyImprovementSerializer(item).data)
