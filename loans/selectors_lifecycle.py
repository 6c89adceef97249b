"""Reads for the loan lifecycle: credit lines and their availability, contracts, disbursement
notices, loans with schedules and repayments, classification totals and the NPL ratio.

Every object is scoped through its customer (``customer_scope_q``): an account manager sees the
loans of the customers they own or back up, branch staff those of their branch, head office all.
Out of scope answers 404, exactly like an object that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404

from coop.models import AuditEvent
from customers.selectors import customer_scope_q
from loans.models import (
    NPL_CLASSES,
    Classification,
    ClassificationOverride,
    Contract,
    CreditLine,
    DisbursementNotice,
    GuaranteeContract,
    Installment,
    Loan,
    LoanApplication,
    Repayment,
)

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
LIVE_STATES = (Loan.State.CONTRACTED, Loan.State.ACTIVE, Loan.State.OVERDUE)
DISBURSED_LIVE_STATES = (Loan.State.ACTIVE, Loan.State.OVERDUE)
RATIO = Decimal("0.0001")


def _zero() -> Value:
    return Value(ZERO, output_field=MONEY_FIELD)


def _scoped(queryset: QuerySet, user) -> QuerySet:
    scope = customer_scope_q(user, "customer__")
    if scope is None:
        return queryset.none()
    return queryset.filter(scope)


def _get(queryset: QuerySet, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- credit lines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    limit: Decimal
    used: Decimal
    available: Decimal


def _usage_annotations(prefix: str) -> dict:
    # A contracted loan is not disbursed yet (outstanding 0) but is committed: it counts with its
    # full principal, or two drawdowns awaiting disbursement could together exceed the limit.
    return {
        "committed_principal": Coalesce(
            Sum(f"{prefix}principal", filter=Q(**{f"{prefix}state": Loan.State.CONTRACTED})),
            _zero(),
        ),
        "outstanding_live": Coalesce(
            Sum(
                f"{prefix}outstanding_principal",
                filter=Q(**{f"{prefix}state__in": DISBURSED_LIVE_STATES}),
            ),
            _zero(),
        ),
    }


def credit_line_usage(line: CreditLine) -> Usage:
    """Availability of one line. Revolving: limit − outstanding principal of its live loans
    (repayments restore it); non-revolving: limit − everything ever drawn (``drawn_total`` grows
    at disbursement) − drawdowns contracted but not disbursed yet.

    The drawdown service calls this with the line row locked, so the figure cannot move before
    the new loan is written.
    """
    sums = Loan.objects.filter(credit_line_id=line.pk).aggregate(**_usage_annotations(""))
    committed, outstanding = sums["committed_principal"], sums["outstanding_live"]
    used = committed + outstanding if line.revolving else line.drawn_total + committed
    return Usage(limit=line.limit, used=used, available=max(line.limit - used, ZERO))


def _line_sum(field: str, states) -> Coalesce:
    # A correlated sub-query per line rather than a GROUP BY over the joined loans: Postgres then
    # sums only the loans of the rows actually returned (a page of 50), not of every visible line.
    per_line = (
        Loan.objects.filter(credit_line=OuterRef("pk"), state__in=states)
        .order_by()
        .values("credit_line")
        .annotate(t=Sum(field))
        .values("t")[:1]
    )
    return Coalesce(Subquery(per_line, output_field=MONEY_FIELD), _zero())


def with_usage(queryset: QuerySet[CreditLine]) -> QuerySet[CreditLine]:
    """Annotate ``used`` and ``available`` in the same query (list pages, API lists); the same
    figures as ``credit_line_usage``."""
    return (
        queryset.annotate(
            committed_principal=_line_sum("principal", (Loan.State.CONTRACTED,)),
            outstanding_live=_line_sum("outstanding_principal", DISBURSED_LIVE_STATES),
        )
        .annotate(
            used=Case(
                When(revolving=True, then=F("committed_principal") + F("outstanding_live")),
                default=F("drawn_total") + F("committed_principal"),
                output_field=MONEY_FIELD,
            ),
        )
        .annotate(available=Greatest(F("limit") - F("used"), _zero(), output_field=MONEY_FIELD))
    )


def credit_lines_visible(user) -> QuerySet[CreditLine]:
    return _scoped(CreditLine.objects.all(), user)


def credit_line_list(user, *, status: str = "", customer_query: str = "") -> QuerySet[CreditLine]:
    queryset = with_usage(credit_lines_visible(user)).select_related(
        "customer", "product", "branch", "guarantee_contract"
    )
    if status:
        queryset = queryset.filter(status=status)
    if customer_query:
        queryset = queryset.filter(
            Q(customer__name__icontains=customer_query) | Q(number__icontains=customer_query)
        )
    return queryset.order_by("-created_at", "-id")


def credit_line_get(*, user, pk) -> CreditLine:
    return _get(
        with_usage(credit_lines_visible(user)).select_related(
            "customer", "product", "branch", "guarantee_contract", "granted_by"
        ),
        pk,
    )


# --- guarantee contracts ------------------------------------------------------------------------


def guarantee_usage(guarantee: GuaranteeContract) -> Usage:
    """A maximum-amount guarantee covers the balance of every loan contracted under it, up to
    its maximum: used = committed (contracted) principal + outstanding principal of live loans."""
    sums = Loan.objects.filter(contract__guarantee_contract_id=guarantee.pk).aggregate(
        **_usage_annotations("")
    )
    used = sums["committed_principal"] + sums["outstanding_live"]
    return Usage(
        limit=guarantee.max_amount, used=used, available=max(guarantee.max_amount - used, ZERO)
    )


# --- contracts and notices ----------------------------------------------------------------------


def contracts_visible(user) -> QuerySet[Contract]:
    return _scoped(Contract.objects.all(), user)


def contract_get(*, user, pk) -> Contract:
    return _get(
        contracts_visible(user).select_related(
            "customer",
            "branch",
            "application",
            "application__product",
            "credit_line",
            "credit_line__product",
            "guarantee_contract",
            "created_by",
            "loan",
            "loan__product",
            "loan__account_manager",
        ),
        pk,
    )


def contract_notice(contract: Contract) -> DisbursementNotice | None:
    return DisbursementNotice.objects.filter(contract=contract).first()


def approved_applications(user) -> QuerySet[LoanApplication]:
    """Approved applications waiting for their contract, in the user's scope."""
    return (
        _scoped(LoanApplication.objects.all(), user)
        .filter(state=LoanApplication.State.APPROVED)
        .select_related("customer", "product", "branch")
        .order_by("decided_at", "id")
    )


def approved_application_get(*, user, pk) -> LoanApplication:
    return _get(approved_applications(user), pk)


def guarantee_contracts_of(customer_id: int) -> QuerySet[GuaranteeContract]:
    return GuaranteeContract.objects.filter(customer_id=customer_id).order_by("-valid_to", "-id")


def notices_visible(user) -> QuerySet[DisbursementNotice]:
    scope = customer_scope_q(user, "contract__customer__")
    if scope is None:
        return DisbursementNotice.objects.none()
    return DisbursementNotice.objects.filter(scope)


def notice_list(user, *, status: str = DisbursementNotice.Status.ISSUED):
    queryset = notices_visible(user).select_related(
        "contract", "contract__customer", "contract__branch", "contract__loan", "issued_by"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("issued_at", "id")


def notice_get(*, user, pk) -> DisbursementNotice:
    return _get(
        notices_visible(user).select_related(
            "contract",
            "contract__customer",
            "contract__branch",
            "contract__loan",
            "contract__loan__product",
            "contract__loan__account_manager",
            "issued_by",
            "disbursed_by",
        ),
        pk,
    )


# --- loans --------------------------------------------------------------------------------------


def loans_visible(user) -> QuerySet[Loan]:
    return _scoped(Loan.objects.all(), user)


def loan_list(
    user,
    *,
    state: str = "",
    classification: str = "",
    product_id: int | None = None,
    branch_id: int | None = None,
) -> QuerySet[Loan]:
    queryset = loans_visible(user)
    if state:
        queryset = queryset.filter(state=state)
    if classification:
        queryset = queryset.filter(classification=classification)
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    if branch_id:
        queryset = queryset.filter(branch_id=branch_id)
    return queryset


def loan_list_rows(queryset: QuerySet[Loan]) -> QuerySet[Loan]:
    return queryset.select_related("customer", "product", "branch", "account_manager").order_by(
        "-created_at", "-id"
    )


def loan_get(*, user, pk) -> Loan:
    return _get(
        loans_visible(user).select_related(
            "customer",
            "customer__owner",
            "product",
            "branch",
            "account_manager",
            "credit_line",
            "contract",
            "contract__guarantee_contract",
        ),
        pk,
    )


def loan_installments(loan: Loan) -> list[Installment]:
    return list(Installment.objects.filter(loan=loan).order_by("number"))


def loan_repayments(loan: Loan) -> QuerySet[Repayment]:
    return Repayment.objects.filter(loan=loan).select_related("recorded_by")


def loan_overrides(loan: Loan) -> list[ClassificationOverride]:
    return list(
        ClassificationOverride.objects.filter(loan=loan).select_related("proposed_by", "decided_by")
    )


def override_get(*, user, pk) -> ClassificationOverride:
    scope = customer_scope_q(user, "loan__customer__")
    if scope is None:
        raise Http404
    return _get(
        ClassificationOverride.objects.filter(scope).select_related(
            "loan", "loan__customer", "proposed_by"
        ),
        pk,
    )


def schedule_totals(installments: list[Installment]) -> dict[str, Decimal]:
    keys = ("principal", "interest", "paid_principal", "paid_interest", "paid_penalty")
    totals = {key: sum((getattr(row, key) for row in installments), ZERO) for key in keys}
    totals["total"] = totals["principal"] + totals["interest"]
    return totals


def loan_audit_trail(loan: Loan, *, limit: int = 200) -> list[AuditEvent]:
    """Audit rows of the loan (its repayments are audited on it), its contract, its notice and
    its overrides — three queries whatever their number."""
    targets = Q(object_type="loans.loan", object_id=str(loan.pk)) | Q(
        object_type="loans.contract", object_id=str(loan.contract_id)
    )
    notice_ids = [
        str(pk)
        for pk in DisbursementNotice.objects.filter(contract_id=loan.contract_id).values_list(
            "pk", flat=True
        )
    ]
    if notice_ids:
        targets |= Q(object_type="loans.disbursementnotice", object_id__in=notice_ids)
    targets |= Q(
        object_type="loans.classificationoverride",
        object_id__in=[
            str(pk)
            for pk in ClassificationOverride.objects.filter(loan=loan).values_list("pk", flat=True)
        ],
    )
    # The latest events, shown oldest first.
    latest = AuditEvent.objects.filter(targets).select_related("actor")
    return list(reversed(latest.order_by("-occurred_at", "-id")[:limit]))


# --- classification and NPL ---------------------------------------------------------------------


def classification_totals(loans: QuerySet[Loan]) -> dict:
    """Per class: number of live disbursed loans and their outstanding principal; plus the
    total and the NPL ratio. One query."""
    live = loans.filter(state__in=DISBURSED_LIVE_STATES)
    aggregates = {}
    for value in Classification.values:
        aggregates[f"{value}_count"] = Count("id", filter=Q(classification=value))
        aggregates[f"{value}_outstanding"] = Coalesce(
            Sum("outstanding_principal", filter=Q(classification=value)), _zero()
        )
    aggregates["total_count"] = Count("id")
    aggregates["total_outstanding"] = Coalesce(Sum("outstanding_principal"), _zero())
    row = live.aggregate(**aggregates)
    classes = [
        {
            "code": value,
            "label": label,
            "count": row[f"{value}_count"],
            "outstanding": row[f"{value}_outstanding"],
            "is_npl": value in NPL_CLASSES,
        }
        for value, label in Classification.choices
    ]
    npl = sum((c["outstanding"] for c in classes if c["is_npl"]), ZERO)
    return {
        "classes": classes,
        "count": row["total_count"],
        "outstanding": row["total_outstanding"],
        "npl_outstanding": npl,
        "npl_ratio": _ratio(npl, row["total_outstanding"]),
    }


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return Decimal("0.0000")
    return (part / whole).quantize(RATIO, rounding=ROUND_HALF_UP)


def npl_ratio(loans_qs: QuerySet[Loan]) -> Decimal:
    """(substandard + doubtful + loss outstanding principal) / outstanding principal of the live
    loans in ``loans_qs``, to 4 decimals (0.0523 = 5.23%); 0 when nothing is outstanding."""
    row = loans_qs.filter(state__in=DISBURSED_LIVE_STATES).aggregate(
        npl=Coalesce(
            Sum("outstanding_principal", filter=Q(classification__in=NPL_CLASSES)), _zero()
        ),
        total=Coalesce(Sum("outstanding_principal"), _zero()),
    )
    return _ratio(row["npl"], row["total"])


def loans_of_credit_line(line: CreditLine) -> QuerySet[Loan]:
    return Loan.objects.filter(credit_line=line).select_related("product").order_by("-id")
