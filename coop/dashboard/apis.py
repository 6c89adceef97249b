"""The dashboard's figures as JSON: ``GET /api/v1/dashboard/`` and ``/api/v1/dashboard/npl-trend/``.

The same sections, figures and tables as the page, with the same filters and scope (a branch
manager's answer covers their branch; a branch, grid or product outside the scope is 404).
Counts are integers; amounts, ratios and averages are decimal strings (amounts to the fen,
ratios as fractions to 4 places), so clients add them up without floating-point error.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.api import ErrorSerializer
from coop.dashboard.figures import SECTIONS, build_sections
from coop.dashboard.filters import FilterError, parse_filters
from coop.dashboard.trend import npl_trend_for
from coop.dashboard.views import DASHBOARD_PERMISSION


class CanSeeDashboard(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(DASHBOARD_PERMISSION)


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.JSONField(
        allow_null=True, help_text="Integer count, or decimal string, or null."
    )
    display = serializers.CharField()
    drill = serializers.CharField(help_text="The page listing what the figure counts.")


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class CellSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True)
    display = serializers.CharField()
    drill = serializers.CharField(allow_blank=True)


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=CellSerializer(many=True))


class SectionSerializer(serializers.Serializer):
    # A plain string rather than a choice: no enum component to collide with other "key" fields.
    key = serializers.CharField(help_text="One of: " + ", ".join(SECTIONS))
    title = serializers.CharField()
    available = serializers.BooleanField()
    freshness = serializers.CharField(allow_blank=True)
    as_of = serializers.DateTimeField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    figures = FigureSerializer(many=True)
    tables = TableSerializer(many=True)


class DashboardFiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    branch = serializers.IntegerField(allow_null=True)
    grid = serializers.IntegerField(allow_null=True)
    product = serializers.IntegerField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    filters = DashboardFiltersSerializer()
    sections = SectionSerializer(many=True)


class TrendMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    as_of = serializers.DateField(help_text="The month end (the period's end for its month).")
    outstanding = serializers.DecimalField(max_digits=18, decimal_places=2)
    npl = serializers.DecimalField(max_digits=18, decimal_places=2)
    ratio = serializers.DecimalField(max_digits=6, decimal_places=4)
    source = serializers.CharField(
        help_text="snapshot: the nightly month-end snapshot; live: rebuilt on this request."
    )


class TrendSerializer(serializers.Serializer):
    months = TrendMonthSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter(
        "date_from",
        location=OpenApiParameter.QUERY,
        type=str,
        description="YYYY-MM-DD; default: the first day of the current month",
    ),
    OpenApiParameter(
        "date_to",
        location=OpenApiParameter.QUERY,
        type=str,
        description="YYYY-MM-DD; default: today (at most one year after date_from)",
    ),
    OpenApiParameter(
        "branch",
        location=OpenApiParameter.QUERY,
        type=int,
        description="A branch in your scope (a branch manager's own branch is implied)",
    ),
    OpenApiParameter(
        "grid", location=OpenApiParameter.QUERY, type=int, description="A grid in your scope"
    ),
    OpenApiParameter(
        "product", location=OpenApiParameter.QUERY, type=int, description="A loan product"
    ),
]
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid filters; errors by field."),
    403: OpenApiResponse(ErrorSerializer, description="Not management or a branch manager."),
    404: OpenApiResponse(
        ErrorSerializer, description="The branch, grid or product is not in your scope."
    ),
}


def _filters(request):
    try:
        return parse_filters(request.user, request.query_params)
    except FilterError as error:
        raise ValidationError(error.errors) from None


# The payload is built JSON-ready (``DashboardSerializer`` documents it): a bank's village and
# manager tables hold thousands of cells, and a serializer per cell costs more than the queries.
_AS_OF = serializers.DateTimeField()
_DAY = serializers.DateField()


def _section_data(section) -> dict:
    return {
        "key": section.key,
        "title": str(section.title),
        "available": section.available,
        "freshness": str(section.freshness),
        "as_of": _AS_OF.to_representation(section.as_of) if section.as_of else None,
        "notes": [str(note) for note in section.notes],
        "figures": [
            {
                "key": f.key,
                "label": str(f.label),
                "value": _json_value(f.value),
                "display": f.display,
                "drill": f.drill,
            }
            for f in section.figures
        ],
        "tables": [
            {
                "key": t.key,
                "title": str(t.title),
                "columns": [{"key": k, "label": str(label)} for k, label in t.columns],
                "rows": [
                    [
                        {"value": _json_value(c.value), "display": c.display, "drill": c.drill}
                        for c in row
                    ]
                    for row in t.rows
                ],
            }
            for t in section.tables
        ],
    }


class DashboardApi(APIView):
    permission_classes = [IsAuthenticated, CanSeeDashboard]
    pagination_class = None

    @extend_schema(
        operation_id="dashboard",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter(
                "sections",
                location=OpenApiParameter.QUERY,
                type=str,
                description="Comma-separated section keys (default: all): " + ", ".join(SECTIONS),
            ),
        ],
        responses={200: DashboardSerializer, **ERRORS},
        description="The management dashboard's figures and tables (loan book, approval, grid, "
        "post-loan, service, surveys, account managers) for the filters, in your scope. Every "
        "figure names the page listing what it counts (`drill`); each section says how fresh "
        "its figures are.",
    )
    def get(self, request):
        filters = _filters(request)
        only = tuple(SECTIONS)
        if request.query_params.get("sections"):
            only = tuple(s.strip() for s in request.query_params["sections"].split(","))
            unknown = [s for s in only if s not in SECTIONS]
            if unknown:
                message = _("Unknown section: %(names)s") % {"names": ", ".join(unknown)}
                raise ValidationError({"sections": [message]})
        sections = build_sections(request.user, filters, only=only)
        payload = {
            "filters": {
                "date_from": _DAY.to_representation(filters.date_from),
                "date_to": _DAY.to_representation(filters.date_to),
                "branch": filters.branch.pk if filters.branch else None,
                "grid": filters.grid.pk if filters.grid else None,
                "product": filters.product.pk if filters.product else None,
            },
            "sections": [_section_data(s) for s in sections],
        }
        return Response(payload)


class SummarySectionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="One of: " + ", ".join(SECTIONS))
    title = serializers.CharField()
    available = serializers.BooleanField()
    freshness = serializers.CharField(allow_blank=True)
    as_of = serializers.DateTimeField(allow_null=True)
    figures = FigureSerializer(many=True)


class SummarySerializer(serializers.Serializer):
    filters = DashboardFiltersSerializer()
    sections = SummarySectionSerializer(many=True)


class DashboardSummaryApi(DashboardApi):
    @extend_schema(
        operation_id="dashboard_summary",
        parameters=FILTER_PARAMETERS,
        responses={200: SummarySerializer, **ERRORS},
        description="The headline figures of every dashboard section (no tables), for the "
        "filters, in your scope: for a wall screen or a client that polls.",
    )
    def get(self, request):
        response = super().get(request)
        for section in response.data["sections"]:
            section.pop("tables", None)
            section.pop("notes", None)
        return Response(SummarySerializer(response.data).data)


class NplTrendApi(APIView):
    permission_classes = [IsAuthenticated, CanSeeDashboard]
    pagination_class = None

    @extend_schema(
        operation_id="dashboard_npl_trend",
        parameters=FILTER_PARAMETERS,
        responses={200: TrendSerializer, **ERRORS},
        description="The NPL ratio at each of the twelve month ends up to date_to for the "
        "filtered loan book in your scope: past month ends from the nightly month-end snapshot "
        "where it exists, the others rebuilt from the classification trail and the repayments.",
    )
    def get(self, request):
        filters = _filters(request)
        rows = npl_trend_for(request.user, filters)
        return Response(TrendSerializer({"months": rows}).data)
