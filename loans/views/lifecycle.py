"""Pages of the loan lifecycle: the loan book, credit lines and drawdowns, contracts and
notices (printable, with PDFs), the teller's disbursement and repayment forms, classification
overrides.

Views are thin: a form checks the input's shape, a scoped selector fetches (404 out of scope),
one service does the work; DomainErrors go back onto the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from coop.models import OrgUnit
from coop.money import format_yuan
from coop.scoping import sees_whole_bank, visible_org_unit_ids
from coop.services import ConflictError, DomainError
from customers.selectors import customer_get
from loans.forms_lifecycle import (
    CommentForm,
    ContractForm,
    CreditLineFilterForm,
    CreditLineGrantForm,
    DecideForm,
    DisburseForm,
    DrawdownForm,
    GuaranteeContractForm,
    LoanFilterForm,
    NoticeForm,
    OverrideForm,
    ReasonForm,
    RepaymentForm,
    SignForm,
)
from loans.models import (
    ClassificationOverride,
    CreditLine,
    DayCount,
    DisbursementNotice,
    Loan,
    Repayment,
)
from loans.pdf import (
    contract_document,
    notice_copies,
    notice_document,
    render_contract_pdf,
    render_notice_pdf,
)
from loans.selectors_lifecycle import (
    approved_application_get,
    approved_applications,
    classification_totals,
    contract_get,
    contract_notice,
    credit_line_get,
    credit_line_list,
    guarantee_contracts_of,
    guarantee_usage,
    loan_audit_trail,
    loan_get,
    loan_installments,
    loan_list,
    loan_list_rows,
    loan_overrides,
    loan_repayments,
    loans_of_credit_line,
    notice_get,
    notice_list,
    override_get,
    schedule_totals,
)
from loans.selectors_origination import eligible_products, format_rate
from loans.services.classification import (
    classification_override_approve,
    classification_override_propose,
    classification_override_reject,
    classification_override_release,
    loan_write_off,
)
from loans.services.credit import (
    credit_line_drawdown,
    credit_line_grant,
    guarantee_contract_create,
)
from loans.services.disbursement import (
    contract_create,
    contract_sign,
    loan_cancel,
    loan_disburse,
    notice_issue,
)
from loans.services.lifecycle_common import loan_policy
from loans.services.repayment import position, repayment_record

PAGE_SIZE = 50


def _attempt(form, call: Callable[[], Any]) -> tuple[Any, int]:
    """Run a service; put a refusal on the form. Returns (result, HTTP status)."""
    try:
        return call(), 200
    except ConflictError as error:
        form.add_error(None, error.message)
        return None, 409
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return None, 400


def _form_page(
    request: HttpRequest,
    form,
    *,
    run: Callable[[dict], Any],
    done: Callable[[Any], tuple[str, str]],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A lifecycle form page: a valid form runs ``run(cleaned_data)`` (one service call); what
    it made goes through ``done`` to (success message, URL to go to). Bad input is a 400 and a
    refusal stays on the form with its status (400, or 409 for the wrong state)."""
    status = 200
    if request.method == "POST" and form.is_valid():
        made, status = _attempt(form, lambda: run(form.cleaned_data))
        if made is not None:
            message, url = done(made)
            messages.success(request, message)
            return redirect(url)
    elif request.method == "POST":
        status = 400
    return render(request, template, {**context, "form": form}, status=status)


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def percent(ratio) -> str:
    """0.0523 → "5.23%"."""
    return f"{ratio * 100:.2f}%"


def _lender(contract) -> str:
    return contract.branch.name


# --- the loan book ------------------------------------------------------------------------------


@login_required
@permission_required("loans.view_loan", raise_exception=True)
def loans(request: HttpRequest) -> HttpResponse:
    branches = None
    if sees_whole_bank(request.user):
        branches = OrgUnit.objects.filter(
            id__in=visible_org_unit_ids(request.user), kind=OrgUnit.Kind.BRANCH
        ).order_by("code")
    form = LoanFilterForm(request.GET or None, branches=branches)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "state": data.get("state") or "",
            "classification": data.get("classification") or "",
            "product_id": data["product"].pk if data.get("product") else None,
            "branch_id": data["branch"].pk if data.get("branch") else None,
        }
    queryset = loan_list(request.user, **filters)
    page = _page(request, loan_list_rows(queryset))
    for loan in page:
        loan.rate_display = format_rate(loan.annual_rate)
    totals = classification_totals(queryset)
    return render(
        request,
        "loans/lifecycle_loans.html",
        {
            "form": form,
            "page": page,
            "totals": totals,
            "npl_percent": percent(totals["npl_ratio"]),
            "querystring": _querystring(request),
        },
    )


def _loan_actions(user, loan: Loan, open_override) -> dict[str, bool]:
    live = loan.state in (Loan.State.ACTIVE, Loan.State.OVERDUE)
    return {
        "repay": live and user.has_perm("loans.record_repayment"),
        "override": live
        and open_override is None
        and user.has_perm("loans.override_classification"),
        "decide": open_override is not None
        and user.has_perm("loans.approve_classification")
        and open_override.proposed_by_id != user.pk,
        "release": loan.classification_locked and user.has_perm("loans.approve_classification"),
        "write_off": live and user.has_perm("loans.write_off_loan"),
        "cancel": loan.state == Loan.State.CONTRACTED and user.has_perm("loans.add_contract"),
    }


@login_required
@permission_required("loans.view_loan", raise_exception=True)
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    loan = loan_get(user=request.user, pk=pk)
    installments = loan_installments(loan)
    repayments = list(loan_repayments(loan))
    overrides = loan_overrides(loan)
    open_override = next(
        (o for o in overrides if o.status == ClassificationOverride.Status.PROPOSED), None
    )
    quote = None
    if loan.state in (Loan.State.ACTIVE, Loan.State.OVERDUE):
        quote = position(
            loan=loan,
            installments=installments,
            repayments=repayments,
            policy=loan_policy(),
            as_of=timezone.localdate(),
        )
    penalty_by_number = {row.number: row.penalty_owed for row in quote.rows} if quote else {}
    for row in installments:
        row.penalty_owed = penalty_by_number.get(row.number)
    return render(
        request,
        "loans/lifecycle_loan_detail.html",
        {
            "loan": loan,
            "rate_display": format_rate(loan.annual_rate),
            "day_count_label": DayCount(loan.day_count).label,
            "installments": installments,
            "totals": schedule_totals(installments),
            "repayments": repayments,
            "overrides": overrides,
            "open_override": open_override,
            "quote": quote,
            "audit": loan_audit_trail(loan),
            "actions": _loan_actions(request.user, loan, open_override),
            "notice": contract_notice(loan.contract),
            "today": timezone.localdate(),
        },
    )


# --- credit lines -------------------------------------------------------------------------------


@login_required
@permission_required("loans.view_creditline", raise_exception=True)
def credit_lines(request: HttpRequest) -> HttpResponse:
    form = CreditLineFilterForm(request.GET or None)
    status, query = "", ""
    if form.is_valid():
        status, query = form.cleaned_data["status"], form.cleaned_data["q"].strip()
    page = _page(request, credit_line_list(request.user, status=status, customer_query=query))
    return render(
        request,
        "loans/lifecycle_credit_lines.html",
        {"form": form, "page": page, "querystring": _querystring(request)},
    )


@login_required
@permission_required("loans.view_creditline", raise_exception=True)
def credit_line_detail(request: HttpRequest, pk: int) -> HttpResponse:
    line = credit_line_get(user=request.user, pk=pk)
    line_loans = list(loans_of_credit_line(line)[:200])
    for loan in line_loans:
        loan.rate_display = format_rate(loan.annual_rate)
    guarantee = guarantee_usage(line.guarantee_contract) if line.guarantee_contract_id else None
    return render(
        request,
        "loans/lifecycle_credit_line_detail.html",
        {
            "line": line,
            "loans": line_loans,
            "guarantee": guarantee,
            "can_draw": line.status == CreditLine.Status.ACTIVE
            and request.user.has_perm("loans.add_contract"),
            "today": timezone.localdate(),
        },
    )


def _customer_from_query(request: HttpRequest):
    """The customer named by ``?customer=<id>`` (or the posted field), in the user's scope
    (404 otherwise); None when the request names none."""
    customer_id = request.GET.get("customer") or request.POST.get("customer")
    if not customer_id:
        return None
    return customer_get(user=request.user, pk=customer_id)


def _pick_customer_first(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Open the customer's file first; the action is in its loans section."))
    return redirect("customers:list")


@login_required
@permission_required("loans.add_creditline", raise_exception=True)
@require_http_methods(["GET", "POST"])
def credit_line_new(request: HttpRequest) -> HttpResponse:
    """A branch manager grants a credit line (授信) to a customer of their branch."""
    customer = _customer_from_query(request)
    if customer is None:
        return _pick_customer_first(request)
    form = CreditLineGrantForm(
        request.POST or None,
        offers=eligible_products(customer),
        guarantees=guarantee_contracts_of(customer.pk),
    )
    return _form_page(
        request,
        form,
        run=lambda data: credit_line_grant(
            actor=request.user,
            customer=customer,
            product=data["product"],
            limit=data["limit"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            revolving=data["revolving"],
            guarantee_contract=data["guarantee_contract"],
            request_key=data["idempotency_key"],
        ),
        done=lambda line: (
            _("Credit line %(number)s granted.") % {"number": line.number},
            reverse("loans:credit_line_detail", args=[line.pk]),
        ),
        template="loans/lifecycle_credit_line_form.html",
        context={"customer": customer},
    )


@login_required
@permission_required("loans.add_guaranteecontract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def guarantee_contract_new(request: HttpRequest) -> HttpResponse:
    """Record a signed maximum-amount guarantee contract (最高额保证合同) for a borrower."""
    customer = _customer_from_query(request)
    if customer is None:
        return _pick_customer_first(request)

    def record(data: dict):
        terms = {name: value for name, value in data.items() if name != "idempotency_key"}
        return guarantee_contract_create(
            actor=request.user,
            customer=customer,
            request_key=data["idempotency_key"],
            **terms,
        )

    return _form_page(
        request,
        GuaranteeContractForm(request.POST or None),
        run=record,
        done=lambda guarantee: (
            _("Guarantee contract %(number)s recorded.") % {"number": guarantee.number},
            reverse("customers:detail", args=[customer.pk]),
        ),
        template="loans/lifecycle_guarantee_form.html",
        context={"customer": customer},
    )


@login_required
@permission_required("loans.add_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def drawdown_new(request: HttpRequest, pk: int) -> HttpResponse:
    line = credit_line_get(user=request.user, pk=pk)
    form = DrawdownForm(request.POST or None, product=line.product)
    return _form_page(
        request,
        form,
        run=lambda data: credit_line_drawdown(
            actor=request.user,
            credit_line=line,
            amount=data["amount"],
            term_months=data["term_months"],
            repayment_method=data["repayment_method"],
            annual_rate=form.annual_rate,
            purpose=data["purpose"],
            request_key=data["idempotency_key"],
        ),
        done=lambda loan: (
            _("Loan %(number)s contracted.") % {"number": loan.number},
            reverse("loans:contract_detail", args=[loan.contract_id]),
        ),
        template="loans/lifecycle_drawdown_form.html",
        context={
            "line": line,
            "product_rates": f"{format_rate(line.product.min_rate)} – "
            f"{format_rate(line.product.max_rate)}",
        },
    )


# --- contracts ----------------------------------------------------------------------------------


@login_required
@permission_required("loans.add_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contract_new(request: HttpRequest) -> HttpResponse:
    """Without ``?application=<id>``: the approved applications waiting for their contract.
    With it: the contract form for that application."""
    application_id = request.GET.get("application") or request.POST.get("application")
    if not application_id:
        page = _page(request, approved_applications(request.user))
        for application in page:
            application.rate_display = format_rate(application.annual_rate)
        return render(request, "loans/lifecycle_contract_pick.html", {"page": page})
    application = approved_application_get(user=request.user, pk=application_id)
    form = ContractForm(
        request.POST or None, guarantees=guarantee_contracts_of(application.customer_id)
    )
    return _form_page(
        request,
        form,
        run=lambda data: contract_create(
            actor=request.user,
            application=application,
            signed_on=data["signed_on"],
            guarantee_contract=data["guarantee_contract"],
        ),
        done=lambda contract: (
            _("Contract %(number)s created.") % {"number": contract.number},
            reverse("loans:contract_detail", args=[contract.pk]),
        ),
        template="loans/lifecycle_contract_form.html",
        context={
            "application": application,
            "amount": application.approved_amount or application.amount,
            "rate_display": format_rate(application.annual_rate),
        },
    )


def _contract_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    contract = contract_get(user=request.user, pk=pk)
    loan = getattr(contract, "loan", None)
    guarantee = (
        guarantee_usage(contract.guarantee_contract) if contract.guarantee_contract_id else None
    )
    return {
        "contract": contract,
        "loan": loan,
        "guarantee": guarantee,
        "document": contract_document(contract, loan, guarantee, _lender(contract)),
    }


@login_required
@permission_required("loans.view_contract", raise_exception=True)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    context = _contract_context(request, pk)
    contract, loan = context["contract"], context["loan"]
    notice = contract_notice(contract)
    user = request.user
    context.update(
        notice=notice,
        cancelled=loan is not None and loan.state == Loan.State.CANCELLED,
        sign_form=SignForm()
        if contract.signed_on is None
        and user.has_perm("loans.add_contract")
        and not (loan is not None and loan.state == Loan.State.CANCELLED)
        else None,
        can_issue=contract.signed_on is not None
        and notice is None
        and loan is not None
        and loan.state == Loan.State.CONTRACTED
        and user.has_perm("loans.issue_notice"),
    )
    return render(request, "loans/lifecycle_contract_detail.html", context)


@login_required
@permission_required("loans.view_contract", raise_exception=True)
def contract_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    context = _contract_context(request, pk)
    response = HttpResponse(
        render_contract_pdf(context["document"]), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{context["contract"].number}.pdf"'
    return response


@login_required
@permission_required("loans.add_contract", raise_exception=True)
@require_POST
def contract_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    contract = contract_get(user=request.user, pk=pk)
    form = SignForm(request.POST)
    if form.is_valid():
        done, _status = _attempt(
            form,
            lambda: contract_sign(
                actor=request.user, contract=contract, signed_on=form.cleaned_data["signed_on"]
            ),
        )
        if done is not None:
            messages.success(request, _("Signing date recorded."))
            return redirect("loans:contract_detail", pk=contract.pk)
    for error in form.errors.values():
        messages.error(request, " ".join(error))
    return redirect("loans:contract_detail", pk=contract.pk)


# --- notices ------------------------------------------------------------------------------------


@login_required
@permission_required("loans.issue_notice", raise_exception=True)
@require_http_methods(["GET", "POST"])
def notice_new(request: HttpRequest, pk: int) -> HttpResponse:
    contract = contract_get(user=request.user, pk=pk)
    return _form_page(
        request,
        NoticeForm(request.POST or None),
        run=lambda data: notice_issue(
            actor=request.user, contract=contract, account_number=data["account_number"]
        ),
        done=lambda notice: (
            _("Disbursement notice %(number)s issued.") % {"number": notice.number},
            reverse("loans:notice_detail", args=[notice.pk]),
        ),
        template="loans/lifecycle_notice_form.html",
        context={"contract": contract},
    )


@login_required
@permission_required("loans.view_disbursementnotice", raise_exception=True)
def notices(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", DisbursementNotice.Status.ISSUED)
    if status not in (*DisbursementNotice.Status.values, "all"):
        status = DisbursementNotice.Status.ISSUED
    page = _page(request, notice_list(request.user, status="" if status == "all" else status))
    return render(
        request,
        "loans/lifecycle_notices.html",
        {
            "page": page,
            "status": status,
            "statuses": [*DisbursementNotice.Status.choices, ("all", _("All"))],
            "can_disburse": request.user.has_perm("loans.record_disbursement"),
        },
    )


@login_required
@permission_required("loans.view_disbursementnotice", raise_exception=True)
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notice_get(user=request.user, pk=pk)
    return render(
        request,
        "loans/lifecycle_notice_detail.html",
        {
            "notice": notice,
            "document": notice_document(notice),
            "copies": notice_copies(),
            "can_disburse": notice.status == DisbursementNotice.Status.ISSUED
            and request.user.has_perm("loans.record_disbursement"),
        },
    )


@login_required
@permission_required("loans.view_disbursementnotice", raise_exception=True)
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notice_get(user=request.user, pk=pk)
    response = HttpResponse(
        render_notice_pdf(notice_document(notice)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    return response


@login_required
@permission_required("loans.record_disbursement", raise_exception=True)
@require_http_methods(["GET", "POST"])
def disburse(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notice_get(user=request.user, pk=pk)
    form = DisburseForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data["idempotency_key"]
        was_disbursed = notice.status == DisbursementNotice.Status.DISBURSED
        loan, status = _attempt(
            form,
            lambda: loan_disburse(
                actor=request.user,
                notice=notice,
                idempotency_key=key,
                disbursed_on=form.cleaned_data["disbursed_on"],
            ),
        )
        if loan is not None:
            if was_disbursed:
                messages.info(request, _("This disbursement was already recorded."))
            else:
                messages.success(
                    request,
                    _("Disbursement of loan %(number)s recorded.") % {"number": loan.number},
                )
            return redirect("loans:loan_detail", pk=loan.pk)
    elif request.method == "POST":
        status = 400
    if notice.status != DisbursementNotice.Status.ISSUED and request.method == "GET":
        messages.info(request, _("This notice is no longer waiting for disbursement."))
        return redirect("loans:notice_detail", pk=notice.pk)
    return render(
        request,
        "loans/lifecycle_disburse_form.html",
        {"notice": notice, "document": notice_document(notice), "form": form},
        status=status,
    )


# --- repayments, classification, write-off ------------------------------------------------------


@login_required
@permission_required("loans.record_repayment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def repayment_new(request: HttpRequest, pk: int) -> HttpResponse:
    loan = loan_get(user=request.user, pk=pk)
    if loan.state not in (Loan.State.ACTIVE, Loan.State.OVERDUE):
        messages.info(request, _("Repayments can only be recorded on an active or overdue loan."))
        return redirect("loans:loan_detail", pk=loan.pk)
    form = RepaymentForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        repayment, status = _attempt(
            form,
            lambda: repayment_record(
                actor=request.user,
                loan=loan,
                amount=data["amount"],
                paid_on=data["paid_on"],
                idempotency_key=data["idempotency_key"],
            ),
        )
        if repayment is not None:
            messages.success(
                request,
                _("Repayment of %(amount)s recorded.") % {"amount": format_yuan(repayment.amount)},
            )
            return redirect("loans:loan_detail", pk=loan.pk)
    elif request.method == "POST":
        status = 400
    installments = loan_installments(loan)
    quote = position(
        loan=loan,
        installments=installments,
        repayments=list(Repayment.objects.filter(loan=loan)),
        policy=loan_policy(),
        as_of=timezone.localdate(),
    )
    return render(
        request,
        "loans/lifecycle_repayment_form.html",
        {"loan": loan, "form": form, "quote": quote},
        status=status,
    )


@login_required
@permission_required("loans.override_classification", raise_exception=True)
@require_http_methods(["GET", "POST"])
def override_new(request: HttpRequest, pk: int) -> HttpResponse:
    loan = loan_get(user=request.user, pk=pk)
    return _form_page(
        request,
        OverrideForm(request.POST or None, initial={"to_class": loan.classification}),
        run=lambda data: classification_override_propose(
            actor=request.user, loan=loan, to_class=data["to_class"], reason=data["reason"]
        ),
        done=lambda _proposal: (
            _("Proposal sent for approval."),
            reverse("loans:loan_detail", args=[loan.pk]),
        ),
        template="loans/lifecycle_override_form.html",
        context={"loan": loan},
    )


@login_required
@permission_required("loans.approve_classification", raise_exception=True)
@require_http_methods(["GET", "POST"])
def override_decide(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = override_get(user=request.user, pk=pk)
    form = DecideForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["decision"] == "approve":

            def call():
                return classification_override_approve(actor=request.user, override=proposal)
        else:

            def call():
                return classification_override_reject(
                    actor=request.user, override=proposal, comment=form.cleaned_data["comment"]
                )

        decided, status = _attempt(form, call)
        if decided is not None:
            messages.success(request, _("Decision recorded."))
            return redirect("loans:loan_detail", pk=proposal.loan_id)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "loans/lifecycle_override_decide.html",
        {"proposal": proposal, "loan": proposal.loan, "form": form},
        status=status,
    )


@login_required
@permission_required("loans.approve_classification", raise_exception=True)
@require_POST
def override_release(request: HttpRequest, pk: int) -> HttpResponse:
    loan = loan_get(user=request.user, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        done, _status = _attempt(
            form,
            lambda: classification_override_release(
                actor=request.user, loan=loan, comment=form.cleaned_data["comment"]
            ),
        )
        if done is not None:
            messages.success(
                request, _("The classification will follow days past due again from tonight.")
            )
    for error in form.non_field_errors():
        messages.error(request, error)
    return redirect("loans:loan_detail", pk=loan.pk)


def _reason_page(request: HttpRequest, pk: int, *, service, done: str, template: str):
    """A state change of one loan that needs a reason (write-off, cancellation); ``done`` is
    the success message (``%(number)s``)."""
    loan = loan_get(user=request.user, pk=pk)
    return _form_page(
        request,
        ReasonForm(request.POST or None),
        run=lambda data: service(actor=request.user, loan=loan, reason=data["reason"]),
        done=lambda _changed: (
            done % {"number": loan.number},
            reverse("loans:loan_detail", args=[loan.pk]),
        ),
        template=template,
        context={"loan": loan},
    )


@login_required
@permission_required("loans.write_off_loan", raise_exception=True)
@require_http_methods(["GET", "POST"])
def write_off(request: HttpRequest, pk: int) -> HttpResponse:
    return _reason_page(
        request,
        pk,
        service=loan_write_off,
        done=_("Loan %(number)s written off."),
        template="loans/lifecycle_write_off_form.html",
    )


@login_required
@permission_required("loans.add_contract", raise_exception=True)
@require_http_methods(["GET", "POST"])
def loan_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The borrower gives up a loan before it is paid out: cancel it with its notice."""
    return _reason_page(
        request,
        pk,
        service=loan_cancel,
        done=_("Loan %(number)s cancelled."),
        template="loans/lifecycle_cancel_form.html",
    )


urlpatterns = [
    path("list/", loans, name="loans"),
    path("loan/<int:pk>/", loan_detail, name="loan_detail"),
    path("loan/<int:pk>/repay/", repayment_new, name="repayment_new"),
    path("loan/<int:pk>/override/", override_new, name="override_new"),
    path("loan/<int:pk>/release/", override_release, name="override_release"),
    path("loan/<int:pk>/write-off/", write_off, name="write_off"),
    path("loan/<int:pk>/cancel/", loan_cancel_view, name="loan_cancel"),
    path("overrides/<int:pk>/decide/", override_decide, name="override_decide"),
    path("credit-lines/", credit_lines, name="credit_lines"),
    path("credit-lines/new/", credit_line_new, name="credit_line_new"),
    path("guarantee-contracts/new/", guarantee_contract_new, name="guarantee_contract_new"),
    path("credit-lines/<int:pk>/", credit_line_detail, name="credit_line_detail"),
    path("credit-lines/<int:pk>/drawdown/", drawdown_new, name="drawdown_new"),
    path("contracts/new/", contract_new, name="contract_new"),
    path("contracts/<int:pk>/", contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/pdf/", contract_pdf, name="contract_pdf"),
    path("contracts/<int:pk>/sign/", contract_sign_view, name="contract_sign"),
    path("contracts/<int:pk>/notice/", notice_new, name="notice_new"),
    path("notices/", notices, name="notices"),
    path("notices/<int:pk>/", notice_detail, name="notice_detail"),
    path("notices/<int:pk>/pdf/", notice_pdf, name="notice_pdf"),
    path("notices/<int:pk>/disburse/", disburse, name="disburse"),
]
