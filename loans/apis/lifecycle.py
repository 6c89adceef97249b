"""REST endpoints of the loan lifecycle under /api/v1/: credit lines and drawdowns, loans with
their schedules and repayments, disbursement notices and the disbursement.

Scoping, permissions and domain errors work as on the pages: an object out of the user's scope
is 404, a missing permission 403, a refused operation 400 (bad input) or 409 (wrong state, lost
race), mapped in one place (``coop.api.exception_handler``).
"""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.api import API_ROOT_ENTRIES, ErrorSerializer
from loans.models import Classification, DisbursementNotice, Loan, Repayment
from loans.selectors_lifecycle import (
    credit_line_get,
    credit_line_list,
    loan_get,
    loan_installments,
    loan_list_rows,
    loans_visible,
    notice_get,
    notice_list,
    schedule_totals,
)
from loans.serializers_lifecycle import (
    CreditLineGrantIn,
    CreditLineOut,
    DisburseIn,
    DrawdownIn,
    LoanDetailOut,
    LoanOut,
    NoticeOut,
    RepaymentIn,
    RepaymentOut,
    ScheduleOut,
)
from loans.services.credit import credit_line_drawdown, credit_line_grant
from loans.services.disbursement import loan_disburse
from loans.services.repayment import repayment_record

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input or refused by a rule"),
    403: OpenApiResponse(ErrorSerializer, description="Missing permission"),
    404: OpenApiResponse(ErrorSerializer, description="Not found or out of scope"),
}
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="Wrong state or lost a race")}
READ_ERRORS = {403: ERRORS[403], 404: ERRORS[404]}


def needs(read: str, write: str | None = None) -> type[BasePermission]:
    """A permission class: ``read`` for GET/HEAD/OPTIONS, ``write`` for the rest."""

    class Permission(BasePermission):
        def has_permission(self, request, view) -> bool:
            perm = read if request.method in SAFE_METHODS else (write or read)
            return bool(request.user and request.user.is_authenticated) and (
                request.user.has_perm(perm)
            )

    Permission.__name__ = f"Needs_{(write or read).replace('.', '_')}"
    return Permission


# --- credit lines -------------------------------------------------------------------------------


class CreditLineListApi(generics.GenericAPIView):
    permission_classes = [needs("loans.view_creditline", "loans.add_creditline")]
    serializer_class = CreditLineOut

    def get_queryset(self):
        return credit_line_list(self.request.user)

    @extend_schema(responses={200: CreditLineOut(many=True), **READ_ERRORS})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CreditLineOut(page, many=True).data)

    @extend_schema(request=CreditLineGrantIn, responses={201: CreditLineOut, **ERRORS})
    def post(self, request):
        data_in = CreditLineGrantIn(data=request.data, context={"request": request})
        data_in.is_valid(raise_exception=True)
        terms = dict(data_in.validated_data)
        key = terms.pop("idempotency_key")
        line = credit_line_grant(actor=request.user, request_key=key, **terms)
        out = credit_line_get(user=request.user, pk=line.pk)
        return Response(CreditLineOut(out).data, status=status.HTTP_201_CREATED)


class CreditLineDetailApi(APIView):
    permission_classes = [needs("loans.view_creditline")]

    @extend_schema(responses={200: CreditLineOut, **READ_ERRORS})
    def get(self, request, pk: int):
        return Response(CreditLineOut(credit_line_get(user=request.user, pk=pk)).data)


class CreditLineDrawdownApi(APIView):
    permission_classes = [needs("loans.add_contract", "loans.add_contract")]

    @extend_schema(
        request=DrawdownIn,
        responses={201: LoanDetailOut, **ERRORS, **CONFLICT},
        description="Draw on the line: creates the contract and the loan (state contracted) "
        "within the available limit.",
    )
    def post(self, request, pk: int):
        line = credit_line_get(user=request.user, pk=pk)
        data_in = DrawdownIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        terms = dict(data_in.validated_data)
        key = terms.pop("idempotency_key")
        loan = credit_line_drawdown(actor=request.user, credit_line=line, request_key=key, **terms)
        out = loan_get(user=request.user, pk=loan.pk)
        return Response(LoanDetailOut(out).data, status=status.HTTP_201_CREATED)


# --- loans --------------------------------------------------------------------------------------


class LoanFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Loan.State.choices)
    classification = django_filters.ChoiceFilter(choices=Classification.choices)
    product = django_filters.NumberFilter(field_name="product_id")
    branch = django_filters.NumberFilter(field_name="branch_id")

    class Meta:
        model = Loan
        fields = ["state", "classification", "product", "branch"]


class LoanListApi(generics.ListAPIView):
    permission_classes = [needs("loans.view_loan")]
    serializer_class = LoanOut
    filterset_class = LoanFilter

    def get_queryset(self):
        return loan_list_rows(loans_visible(self.request.user))

    @extend_schema(responses={200: LoanOut(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LoanDetailApi(APIView):
    permission_classes = [needs("loans.view_loan")]

    @extend_schema(responses={200: LoanDetailOut, **READ_ERRORS})
    def get(self, request, pk: int):
        return Response(LoanDetailOut(loan_get(user=request.user, pk=pk)).data)


class LoanScheduleApi(APIView):
    permission_classes = [needs("loans.view_loan")]

    @extend_schema(
        responses={200: ScheduleOut, **READ_ERRORS},
        description="The installments with what has been paid against each, and the totals.",
    )
    def get(self, request, pk: int):
        loan = loan_get(user=request.user, pk=pk)
        rows = loan_installments(loan)
        body = {
            "loan": loan.pk,
            "day_count": loan.day_count,
            "installments": rows,
            "totals": schedule_totals(rows),
        }
        return Response(ScheduleOut(body).data)


class LoanRepaymentsApi(generics.GenericAPIView):
    permission_classes = [needs("loans.view_loan", "loans.record_repayment")]
    serializer_class = RepaymentOut

    def get_queryset(self):
        return Repayment.objects.none()

    @extend_schema(responses={200: RepaymentOut(many=True), **READ_ERRORS})
    def get(self, request, pk: int):
        loan = loan_get(user=request.user, pk=pk)
        queryset = Repayment.objects.filter(loan=loan).select_related("recorded_by")
        page = self.paginate_queryset(queryset.order_by("-paid_on", "-id"))
        return self.get_paginated_response(RepaymentOut(page, many=True).data)

    @extend_schema(
        request=RepaymentIn,
        responses={201: RepaymentOut, 200: RepaymentOut, **ERRORS, **CONFLICT},
        description="Record a repayment. The same idempotency_key again returns the repayment "
        "recorded the first time (200) and changes nothing.",
    )
    def post(self, request, pk: int):
        loan = loan_get(user=request.user, pk=pk)
        data_in = RepaymentIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        key = data_in.validated_data["idempotency_key"]
        existed = Repayment.objects.filter(idempotency_key=key, loan=loan).exists()
        repayment = repayment_record(actor=request.user, loan=loan, **data_in.validated_data)
        return Response(
            RepaymentOut(repayment).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


# --- disbursement notices -----------------------------------------------------------------------


class NoticeListApi(generics.ListAPIView):
    permission_classes = [needs("loans.view_disbursementnotice")]
    serializer_class = NoticeOut

    def get_queryset(self):
        wanted = self.request.query_params.get("status", "")
        if wanted not in DisbursementNotice.Status.values:
            wanted = ""
        return notice_list(self.request.user, status=wanted)

    @extend_schema(responses={200: NoticeOut(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NoticeDetailApi(APIView):
    permission_classes = [needs("loans.view_disbursementnotice")]

    @extend_schema(responses={200: NoticeOut, **READ_ERRORS})
    def get(self, request, pk: int):
        return Response(NoticeOut(notice_get(user=request.user, pk=pk)).data)


class NoticeDisburseApi(APIView):
    permission_classes = [
        needs("loans.view_disbursementnotice", "loans.record_disbursement"),
    ]

    @extend_schema(
        request=DisburseIn,
        responses={201: LoanDetailOut, 200: LoanDetailOut, **ERRORS, **CONFLICT},
        description="Record the disbursement of the notice, once. The same idempotency_key again "
        "returns the loan (200); another key on a disbursed notice is 409.",
    )
    def post(self, request, pk: int):
        notice = notice_get(user=request.user, pk=pk)
        data_in = DisburseIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        already = notice.status == DisbursementNotice.Status.DISBURSED
        loan = loan_disburse(actor=request.user, notice=notice, **data_in.validated_data)
        out = loan_get(user=request.user, pk=loan.pk)
        return Response(
            LoanDetailOut(out).data,
            status=status.HTTP_200_OK if already else status.HTTP_201_CREATED,
        )


for _entry in (
    ("credit-lines", "api-credit-lines"),
    ("loans", "api-loans"),
    ("disbursement-notices", "api-disbursement-notices"),
):
    if _entry not in API_ROOT_ENTRIES:
        API_ROOT_ENTRIES.append(_entry)

urlpatterns = [
    path("credit-lines/", CreditLineListApi.as_view(), name="api-credit-lines"),
    path("credit-lines/<int:pk>/", CreditLineDetailApi.as_view(), name="api-credit-line-detail"),
    path(
        "credit-lines/<int:pk>/drawdowns/",
        CreditLineDrawdownApi.as_view(),
        name="api-credit-line-drawdowns",
    ),
    path("loans/", LoanListApi.as_view(), name="api-loans"),
    path("loans/<int:pk>/", LoanDetailApi.as_view(), name="api-loan-detail"),
    path("loans/<int:pk>/schedule/", LoanScheduleApi.as_view(), name="api-loan-schedule"),
    path("loans/<int:pk>/repayments/", LoanRepaymentsApi.as_view(), name="api-loan-repayments"),
    path("disbursement-notices/", NoticeListApi.as_view(), name="api-disbursement-notices"),
    path(
        "disbursement-notices/<int:pk>/",
        NoticeDetailApi.as_view(),
        name="api-disbursement-notice-detail",
    ),
    path(
        "disbursement-notices/<int:pk>/disburse/",
        NoticeDisburseApi.as_view(),
        name="api-disbursement-notice-disburse",
    ),
]
