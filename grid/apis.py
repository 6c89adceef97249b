"""REST endpoints of the grid app under /api/v1/grid/.

Thin views: a serializer checks the input, a scoped selector fetches (404 out of scope), one
service writes; ``coop.api.exception_handler`` maps DomainError to 400 and ConflictError to 409.
Lists are LimitOffset-paginated with a fixed number of queries per page.

The back-to-back rule holds here as on the pages: the evaluations endpoint returns only the
reader's own entries and those of households where all three evaluators have submitted; the
households endpoint gives only the number submitted.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from coop.models import User
from coop.scoping import visible_org_units
from coop.services import DomainError
from customers.selectors import customers_visible
from grid import metrics
from grid.models import CampaignHousehold, GridOfficer, Household, VillageCreditCampaign
from grid.selectors import (
    campaign_get,
    campaigns_visible,
    entry_get,
    evaluations_visible,
    get_or_404,
    grid_get,
    grids_visible,
    household_get,
    households_visible,
    member_get,
    village_get,
    villages_visible,
)
from grid.serializers import (
    BatchSigningInputSerializer,
    BatchSigningOutputSerializer,
    CampaignHouseholdSerializer,
    CampaignInputSerializer,
    CampaignSerializer,
    CampaignSigningInputSerializer,
    CampaignTransitionInputSerializer,
    CampaignUpdateInputSerializer,
    EvaluatorsInputSerializer,
    FollowUpDoneInputSerializer,
    FollowUpDoneOutputSerializer,
    GridDetailSerializer,
    GridFollowUpSerializer,
    GridSerializer,
    GroupDecisionInputSerializer,
    HouseholdEvaluationInputSerializer,
    HouseholdEvaluationSerializer,
    HouseholdInputSerializer,
    HouseholdMemberInputSerializer,
    HouseholdMemberSerializer,
    HouseholdSerializer,
    ReconcileCountsSerializer,
    ReconcileResultSerializer,
    VillageSerializer,
)
from grid.services.campaigns import (
    campaign_create,
    campaign_evaluators_set,
    campaign_household_decide,
    campaign_reconcile,
    campaign_start_crediting,
    campaign_start_follow_up,
    campaign_update,
    evaluation_submit,
)
from grid.services.followups import followup_complete
from grid.services.households import (
    household_create,
    household_member_add,
    household_member_remove,
    household_member_update,
    household_update,
)
from grid.services.signing import (
    campaign_household_away,
    campaign_household_refuse,
    campaign_household_sign,
    campaign_sign_many,
)
from loans.models import Product

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


class GridApi(APIView):
    permission_classes = [IsAuthenticated, MethodPermission]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    required_perms: dict[str, str] = {}

    def paginate(self, request: Request, queryset):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator, page


def _ref(queryset, pk, field: str):
    """An object named in a request body, within the user's scope; else a 400 on the field."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise DomainError(_("Not found, or not yours."), field=field, code="not_found") from None


def _staff(request: Request, pk, field: str) -> User:
    return _ref(User.objects.filter(org_unit__in=visible_org_units(request.user)), pk, field)


def _customer(request: Request, pk, field: str):
    if pk is None:
        return None
    return _ref(customers_visible(request.user), pk, field)


# --- grids and villages -----------------------------------------------------------------------


class GridListApi(GridApi):
    required_perms = {"GET": "grid.view_grid"}

    @extend_schema(
        summary="Grids in the user's scope, with their figures",
        responses={200: GridSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request) -> Response:
        grids = grids_visible(request.user).select_related("branch", "account_manager")
        paginator, page = self.paginate(request, grids.order_by("branch__path", "code"))
        figures = metrics.household_figures(
            Household.objects.filter(village__grid__in=[g.pk for g in page]), "grid"
        )
        data = GridSerializer(
            page, many=True, context={"request": request, "figures": figures}
        ).data
        return paginator.get_paginated_response(data)


class GridDetailApi(GridApi):
    required_perms = {"GET": "grid.view_grid"}

    @extend_schema(
        summary="A grid with its officers on duty, villages and figures",
        responses={200: GridDetailSerializer, **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        grid = grid_get(user=request.user, pk=pk)
        grid = (
            type(grid)
            .objects.prefetch_related(
                Prefetch("officers", queryset=GridOfficer.objects.order_by("role", "name")),
                "villages",
            )
            .select_related("branch", "account_manager")
            .get(pk=grid.pk)
        )
        figures = metrics.household_figures(Household.objects.filter(village__grid=grid), "grid")
        return Response(
            GridDetailSerializer(grid, context={"request": request, "figures": figures}).data
        )


class VillageListApi(GridApi):
    required_perms = {"GET": "grid.view_village"}

    @extend_schema(
        summary="Villages in the user's scope, with their figures",
        parameters=[OpenApiParameter("grid", int, description="Only this grid's villages")],
        responses={200: VillageSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request) -> Response:
        villages = villages_visible(request.user).order_by("town", "name")
        if request.query_params.get("grid", "").isdigit():
            villages = villages.filter(grid_id=int(request.query_params["grid"]))
        paginator, page = self.paginate(request, villages)
        figures = metrics.household_figures(
            Household.objects.filter(village__in=[v.pk for v in page]), "village"
        )
        data = VillageSerializer(
            page, many=True, context={"request": request, "figures": figures}
        ).data
        return paginator.get_paginated_response(data)


class VillageDetailApi(GridApi):
    required_perms = {"GET": "grid.view_village"}

    @extend_schema(
        summary="A village with its figures", responses={200: VillageSerializer, **errors(403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        village = village_get(user=request.user, pk=pk)
        figures = metrics.household_figures(Household.objects.filter(village=village), "village")
        return Response(
            VillageSerializer(village, context={"request": request, "figures": figures}).data
        )


# --- households -------------------------------------------------------------------------------


def _household_fields(request: Request, data: dict) -> dict:
    fields = dict(data)
    fields.pop("village", None)
    if "head" in fields:
        fields["head"] = _customer(request, fields["head"], "head")
    return fields


class HouseholdListApi(GridApi):
    required_perms = {"GET": "grid.view_household", "POST": "grid.add_household"}

    @extend_schema(
        summary="Households in the user's scope",
        parameters=[OpenApiParameter("village", int, description="Only this village's")],
        responses={200: HouseholdSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request) -> Response:
        households = households_visible(request.user).order_by("village_id", "head_name", "pk")
        if request.query_params.get("village", "").isdigit():
            households = households.filter(village_id=int(request.query_params["village"]))
        paginator, page = self.paginate(request, households)
        return paginator.get_paginated_response(HouseholdSerializer(page, many=True).data)

    @extend_schema(
        summary="File a household (the head becomes its first member)",
        request=HouseholdInputSerializer,
        responses={201: HouseholdSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = HouseholdInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        village = _ref(
            villages_visible(request.user), serializer.validated_data["village"], "village"
        )
        household = household_create(
            actor=request.user,
            village=village,
            **_household_fields(request, serializer.validated_data),
        )
        return Response(HouseholdSerializer(household).data, status=status.HTTP_201_CREATED)


class HouseholdDetailApi(GridApi):
    required_perms = {"GET": "grid.view_household", "PATCH": "grid.change_household"}

    @extend_schema(
        summary="A household file", responses={200: HouseholdSerializer, **errors(403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(HouseholdSerializer(household_get(user=request.user, pk=pk)).data)

    @extend_schema(
        summary="Change a household file (the fields given)",
        request=HouseholdInputSerializer(partial=True),
        responses={200: HouseholdSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        household = household_get(user=request.user, pk=pk)
        serializer = HouseholdInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        household = household_update(
            actor=request.user,
            household=household,
            **_household_fields(request, serializer.validated_data),
        )
        return Response(HouseholdSerializer(household).data)


def _member_fields(request: Request, data: dict) -> dict:
    fields = dict(data)
    if "customer" in fields:
        fields["customer"] = _customer(request, fields["customer"], "customer")
    return fields


class MemberListApi(GridApi):
    required_perms = {"GET": "grid.view_household", "POST": "grid.change_household"}

    @extend_schema(
        summary="The members of a household",
        responses={200: HouseholdMemberSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        household = household_get(user=request.user, pk=pk)
        paginator, page = self.paginate(request, household.members.order_by("pk"))
        return paginator.get_paginated_response(HouseholdMemberSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a family member (the elderly and children: name, relation, birth year)",
        request=HouseholdMemberInputSerializer,
        responses={201: HouseholdMemberSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        household = household_get(user=request.user, pk=pk)
        serializer = HouseholdMemberInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = household_member_add(
            actor=request.user,
            household=household,
            **_member_fields(request, serializer.validated_data),
        )
        return Response(HouseholdMemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(GridApi):
    required_perms = {"PATCH": "grid.change_household", "DELETE": "grid.change_household"}

    @extend_schema(
        summary="Change a family member",
        request=HouseholdMemberInputSerializer(partial=True),
        responses={200: HouseholdMemberSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        member = member_get(user=request.user, pk=pk)
        serializer = HouseholdMemberInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        member = household_member_update(
            actor=request.user, member=member, **_member_fields(request, serializer.validated_data)
        )
        return Response(HouseholdMemberSerializer(member).data)

    @extend_schema(summary="Remove a family member", responses={204: None, **errors(400, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        household_member_remove(actor=request.user, member=member_get(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- campaigns --------------------------------------------------------------------------------


def _campaigns(request: Request):
    return (
        campaigns_visible(request.user)
        .select_related("village", "project_manager", "product")
        .prefetch_related("evaluator_slots")
    )


class CampaignListApi(GridApi):
    required_perms = {
        "GET": "grid.view_villagecreditcampaign",
        "POST": "grid.add_villagecreditcampaign",
    }

    @extend_schema(
        summary="Whole-village credit campaigns in the user's scope, with their figures",
        parameters=[OpenApiParameter("phase", str, enum=VillageCreditCampaign.Phase.values)],
        responses={200: CampaignSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request) -> Response:
        campaigns = _campaigns(request).order_by("-starts_on", "-id")
        if request.query_params.get("phase") in VillageCreditCampaign.Phase.values:
            campaigns = campaigns.filter(phase=request.query_params["phase"])
        paginator, page = self.paginate(request, campaigns)
        figures = metrics.campaign_figures(
            VillageCreditCampaign.objects.filter(pk__in=[c.pk for c in page])
        )
        data = CampaignSerializer(page, many=True, context={"figures": figures}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        summary="Start a campaign for a village (in preparation)",
        request=CampaignInputSerializer,
        responses={201: CampaignSerializer, **errors(400, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        serializer = CampaignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["village"] = _ref(villages_visible(request.user), data["village"], "village")
        data["project_manager"] = _staff(request, data["project_manager"], "project_manager")
        data["product"] = _ref(Product.objects.filter(is_active=True), data["product"], "product")
        campaign = campaign_create(actor=request.user, **data)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(GridApi):
    required_perms = {
        "GET": "grid.view_villagecreditcampaign",
        "PATCH": "grid.change_villagecreditcampaign",
    }

    @extend_schema(
        summary="A campaign with its figures",
        responses={200: CampaignSerializer, **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = get_or_404(_campaigns(request), pk)
        return Response(_campaign_out(campaign))

    @extend_schema(
        summary="Change a campaign's terms (the product, start, tolerance and months only in "
        "preparation)",
        request=CampaignUpdateInputSerializer,
        responses={200: CampaignSerializer, **errors(400, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        campaign = get_or_404(_campaigns(request), pk)
        serializer = CampaignUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "project_manager" in data:
            data["project_manager"] = _staff(request, data["project_manager"], "project_manager")
        if "product" in data:
            data["product"] = _ref(Product.objects.all(), data["product"], "product")
        campaign = campaign_update(actor=request.user, campaign=campaign, **data)
        return Response(_campaign_out(campaign))


def _campaign_out(campaign: VillageCreditCampaign) -> dict:
    figures = metrics.campaign_figures(VillageCreditCampaign.objects.filter(pk=campaign.pk))
    return CampaignSerializer(campaign, context={"figures": figures}).data


class CampaignEvaluatorsApi(GridApi):
    required_perms = {"PUT": "grid.change_villagecreditcampaign"}

    @extend_schema(
        summary="Set the three back-to-back evaluators (in preparation)",
        request=EvaluatorsInputSerializer,
        responses={200: CampaignSerializer, **errors(400, 403, 404, 409)},
    )
    def put(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        serializer = EvaluatorsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        users = [
            _staff(request, pk, "evaluators") for pk in serializer.validated_data["evaluators"]
        ]
        campaign_evaluators_set(actor=request.user, campaign=campaign, evaluators=users)
        return Response(CampaignSerializer(get_or_404(_campaigns(request), campaign.pk)).data)


class CampaignTransitionApi(GridApi):
    required_perms = {"POST": "grid.change_villagecreditcampaign"}

    @extend_schema(
        summary="Move the campaign to crediting or follow-up",
        request=CampaignTransitionInputSerializer,
        responses={200: CampaignSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        serializer = CampaignTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service = {"crediting": campaign_start_crediting, "follow_up": campaign_start_follow_up}[
            serializer.validated_data["to"]
        ]
        service(actor=request.user, campaign=campaign)
        return Response(CampaignSerializer(get_or_404(_campaigns(request), campaign.pk)).data)


class CampaignHouseholdsApi(GridApi):
    required_perms = {"GET": "grid.view_villagecreditcampaign"}

    @extend_schema(
        summary="The campaign's households and where each stands (evaluations: the count only)",
        responses={200: CampaignHouseholdSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        entries = campaign.entries.select_related("household", "credit_line").order_by(
            "household__village_group", "household__head_name", "pk"
        )
        paginator, page = self.paginate(request, entries)
        return paginator.get_paginated_response(CampaignHouseholdSerializer(page, many=True).data)


class CampaignEvaluationsApi(GridApi):
    required_perms = {
        "GET": "grid.view_villagecreditcampaign",
        "POST": "grid.evaluate_household",
    }

    @extend_schema(
        summary="Evaluations the user may see: their own, and all three of households where "
        "all three evaluators have submitted",
        responses={200: HouseholdEvaluationSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        evaluations = (
            evaluations_visible(request.user, campaign)
            .select_related("evaluator", "entry")
            .order_by("entry_id", "evaluator_id")
        )
        paginator, page = self.paginate(request, evaluations)
        return paginator.get_paginated_response(HouseholdEvaluationSerializer(page, many=True).data)

    @extend_schema(
        summary="Submit (or correct, until all three are in) the user's evaluation of a household",
        request=HouseholdEvaluationInputSerializer,
        responses={201: HouseholdEvaluationSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        serializer = HouseholdEvaluationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        entry = _ref(campaign.entries.all(), data.pop("entry"), "entry")
        evaluation = evaluation_submit(actor=request.user, entry=entry, **data)
        return Response(
            HouseholdEvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED
        )


class CampaignReconcileApi(GridApi):
    required_perms = {"POST": "grid.change_villagecreditcampaign"}

    @extend_schema(
        summary="Reconcile every household whose three evaluations are in (one request)",
        request=None,
        responses={200: ReconcileCountsSerializer, **errors(403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        counts = campaign_reconcile(actor=request.user, campaign=campaign)
        return Response(ReconcileCountsSerializer(counts).data)


class CampaignResultsApi(GridApi):
    required_perms = {"GET": "grid.view_villagecreditcampaign"}

    @extend_schema(
        summary="Reconciliation results with their rule and inputs",
        responses={200: ReconcileResultSerializer(many=True), **errors(403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        entries = (
            campaign.entries.filter(excluded_reason="", reconciled_at__isnull=False)
            .select_related("household", "credit_line", "decided_by")
            .order_by("household__village_group", "household__head_name", "pk")
        )
        paginator, page = self.paginate(request, entries)
        return paginator.get_paginated_response(ReconcileResultSerializer(page, many=True).data)


class EntryDecisionApi(GridApi):
    required_perms = {"POST": "grid.decide_credit"}

    @extend_schema(
        summary="The batch-credit group decides a compromise",
        request=GroupDecisionInputSerializer,
        responses={200: ReconcileResultSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        entry = entry_get(user=request.user, pk=pk)
        serializer = GroupDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = campaign_household_decide(
            actor=request.user, entry=entry, **serializer.validated_data
        )
        return Response(ReconcileResultSerializer(entry).data)


class EntrySigningApi(GridApi):
    required_perms = {"POST": "grid.sign_credit"}

    @extend_schema(
        summary="Record signing: sign (grants the credit line), refuse, or away from home",
        request=CampaignSigningInputSerializer,
        responses={200: CampaignHouseholdSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        entry = entry_get(user=request.user, pk=pk)
        serializer = CampaignSigningInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["action"] == "sign":
            entry = campaign_household_sign(
                actor=request.user, entry=entry, channel=data["signing_channel"]
            )
        elif data["action"] == "refuse":
            entry = campaign_household_refuse(
                actor=request.user, entry=entry, reason=data.get("reason", "")
            )
        else:
            entry = campaign_household_away(
                actor=request.user,
                entry=entry,
                note=data.get("note", ""),
                follow_up_on=data.get("follow_up_on"),
            )
        return Response(CampaignHouseholdSerializer(entry).data)


class CampaignSignApi(GridApi):
    required_perms = {"POST": "grid.sign_credit"}

    @extend_schema(
        summary="Sign many households in one request (each in its own transaction)",
        request=BatchSigningInputSerializer,
        responses={200: BatchSigningOutputSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        campaign = campaign_get(user=request.user, pk=pk)
        serializer = BatchSigningInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entries = campaign.entries.filter(excluded_reason="", pre_credited_at__isnull=False)
        if "entries" in serializer.validated_data:
            wanted = set(serializer.validated_data["entries"])
            entries = entries.filter(pk__in=wanted)
            if entries.count() != len(wanted):
                raise DomainError(
                    _("Only pre-credited households of this campaign can be signed."),
                    field="entries",
                )
        else:
            entries = entries.filter(signing=CampaignHousehold.Signing.PENDING)
        result = campaign_sign_many(
            actor=request.user,
            campaign=campaign,
            entries=list(entries.order_by("pk")),
            channel=serializer.validated_data["signing_channel"],
        )
        return Response(
            BatchSigningOutputSerializer(
                {
                    "signed": len(result.signed),
                    "failed": [
                        {"entry": e.pk, "household": e.household_id, "reason": reason}
                        for e, reason in result.failed
                    ],
                }
            ).data
        )


class FollowUpListApi(GridApi):
    required_perms = {"GET": "grid.view_grid"}

    @extend_schema(
        summary="Follow-up contacts due today in the user's own grids",
        responses={200: GridFollowUpSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request) -> Response:
        due = metrics.followups_due(request.user, timezone.localdate())
        paginator, page = self.paginate(request, due)
        return paginator.get_paginated_response(GridFollowUpSerializer(page, many=True).data)


class FollowUpDoneApi(GridApi):
    required_perms = {"POST": "customers.add_visit"}

    @extend_schema(
        summary="Close an open follow-up of the user's own grids with today's contact",
        request=FollowUpDoneInputSerializer,
        responses={200: FollowUpDoneOutputSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        followup = get_or_404(metrics.followups_due(request.user, timezone.localdate()), pk)
        data = FollowUpDoneInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        closed = followup_complete(actor=request.user, followup=followup, **data.validated_data)
        return Response(FollowUpDoneOutputSerializer(closed).data)


urlpatterns = [
    path("grid/grids/", GridListApi.as_view(), name="api-grid-grids"),
    path("grid/grids/<int:pk>/", GridDetailApi.as_view(), name="api-grid-grid"),
    path("grid/villages/", VillageListApi.as_view(), name="api-grid-villages"),
    path("grid/villages/<int:pk>/", VillageDetailApi.as_view(), name="api-grid-village"),
    path("grid/households/", HouseholdListApi.as_view(), name="api-grid-households"),
    path("grid/households/<int:pk>/", HouseholdDetailApi.as_view(), name="api-grid-household"),
    path(
        "grid/households/<int:pk>/members/",
        MemberListApi.as_view(),
        name="api-grid-household-members",
    ),
    path("grid/members/<int:pk>/", MemberDetailApi.as_view(), name="api-grid-member"),
    path("grid/campaigns/", CampaignListApi.as_view(), name="api-grid-campaigns"),
    path("grid/campaigns/<int:pk>/", CampaignDetailApi.as_view(), name="api-grid-campaign"),
    path(
        "grid/campaigns/<int:pk>/evaluators/",
        CampaignEvaluatorsApi.as_view(),
        name="api-grid-campaign-evaluators",
    ),
    path(
        "grid/campaigns/<int:pk>/transition/",
        CampaignTransitionApi.as_view(),
        name="api-grid-campaign-transition",
    ),
    path(
        "grid/campaigns/<int:pk>/households/",
        CampaignHouseholdsApi.as_view(),
        name="api-grid-campaign-households",
    ),
    path(
        "grid/campaigns/<int:pk>/evaluations/",
        CampaignEvaluationsApi.as_view(),
        name="api-grid-campaign-evaluations",
    ),
    path(
        "grid/campaigns/<int:pk>/reconcile/",
        CampaignReconcileApi.as_view(),
        name="api-grid-campaign-reconcile",
    ),
    path(
        "grid/campaigns/<int:pk>/results/",
        CampaignResultsApi.as_view(),
        name="api-grid-campaign-results",
    ),
    path(
        "grid/campaign-households/<int:pk>/decision/",
        EntryDecisionApi.as_view(),
        name="api-grid-entry-decision",
    ),
    path(
        "grid/campaign-households/<int:pk>/signing/",
        EntrySigningApi.as_view(),
        name="api-grid-entry-signing",
    ),
    path(
        "grid/campaigns/<int:pk>/sign/",
        CampaignSignApi.as_view(),
        name="api-grid-campaign-sign",
    ),
    path("grid/follow-ups/", FollowUpListApi.as_view(), name="api-grid-followups"),
    path(
        "grid/follow-ups/<int:pk>/done/",
        FollowUpDoneApi.as_view(),
        name="api-grid-followup-done",
    ),
]

for _entry in (("grids", "api-grid-grids"), ("village-credit", "api-grid-campaigns")):
    if _entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(_entry)
