"""Pages of the approval workflow: work queue, case page with its route and trail, submitting
applications for approval, committee meetings, stage timing, and the rules head office edits.
Thin: validate, fetch through a scoped selector (out of scope is 404), call one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.models import OrgUnit
from coop.scoping import sees_whole_bank, visible_org_units
from coop.services import DomainError
from loans.models import LoanApplication
from loans.selectors_origination import applications_visible
from risk import policy, services
from risk.forms import (
    AuthorityFormSet,
    CaseFilterForm,
    CommitteePolicyForm,
    PublishForm,
    RuleForm,
    RuleFormSet,
    SLAFormSet,
    TimingFilterForm,
    TransitionForm,
    VoteForm,
    product_code_choices,
)
from risk.inspection_forms import InspectionRuleForm
from risk.inspections import inspection_rule
from risk.models import (
    ApprovalCase,
    CommitteeMeeting,
    CommitteePolicy,
    ReasonCode,
    RoutingRuleSet,
    StageAuthority,
    StageSLA,
)
from risk.routing import active_ruleset
from risk.selectors import (
    QUEUE_VIEWS,
    case_get,
    case_list,
    case_signatures,
    case_trail,
    cases_visible,
    meeting_get,
    meeting_list,
    meeting_member_votes,
    queue_rows,
    route_steps,
    sla_targets,
    stage_timing,
)

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- queue ------------------------------------------------------------------------------------


@login_required
@permission_required("risk.view_approvalcase", raise_exception=True)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    values = form.values()
    page = _page(request, case_list(user=request.user, **values))
    return render(
        request,
        "risk/queue.html",
        {
            "form": form,
            "view": values["view"],
            "views": QUEUE_VIEWS,
            "rows": queue_rows(page.object_list, targets=sla_targets()),
            "page_obj": page,
            "query": _query_without_page(request),
        },
    )


# --- case -------------------------------------------------------------------------------------


def _transition_forms(case: ApprovalCase, names: list[str]) -> list[dict]:
    return [
        {
            "name": name,
            "label": policy.TRANSITION_LABELS[name],
            "needs_comment": name in policy.NEEDS_COMMENT,
            "needs_reason": name in policy.NEEDS_REASON,
            "form": TransitionForm(initial={"transition": name, "state": case.state}),
        }
        for name in names
    ]


def _case_context(request: HttpRequest, case: ApprovalCase) -> dict:
    trail = case_trail(case)
    meetings = list(case.meetings.order_by("-convened_at", "-id"))
    open_meeting = next((m for m in meetings if m.status == CommitteeMeeting.Status.OPEN), None)
    user = request.user
    rows = queue_rows([case], targets=sla_targets())
    return {
        "case": case,
        "row": rows[0],
        "trail": trail,
        "steps": route_steps(case, trail),
        "signatures": case_signatures(case),
        "actions": _transition_forms(case, policy.available(case, user)),
        "meetings": meetings,
        "open_meeting": open_meeting,
        "needs_committee": policy.needs_committee(case),
        "may_convene": (
            open_meeting is None
            and not case.is_closed
            and case.state in ("approval", "loan_approval")
            and user.has_perm("risk.manage_committee")
        ),
        "reasons": ReasonCode,
        "escalations": list(case.escalations.all()[:5]),
    }


@login_required
@permission_required("risk.view_approvalcase", raise_exception=True)
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get(user=request.user, pk=pk)
    return render(request, "risk/case_detail.html", _case_context(request, case))


@login_required
@permission_required("risk.work_case", raise_exception=True)
@require_POST
def case_transition(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get(user=request.user, pk=pk)
    form = TransitionForm(request.POST)
    status = 400
    if form.is_valid():
        if form.cleaned_data["state"] != case.state:
            messages.error(request, policy.stale_message(case))
            context = _case_context(request, case)
            return render(request, "risk/case_detail.html", context, status=409)
        try:
            moved = services.approval_case_transition(
                case=case,
                actor=request.user,
                transition=form.cleaned_data["transition"],
                comment=form.cleaned_data["comment"],
                reason_code=form.cleaned_data["reason_code"],
            )
        except DomainError as exc:
            status = exc.status_code
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Done: %(action)s. The case is now at %(stage)s.")
                % {
                    "action": policy.TRANSITION_LABELS[form.cleaned_data["transition"]],
                    "stage": moved.get_state_display(),
                },
            )
            return redirect("risk:case", pk=case.pk)
    else:
        messages.error(request, _("Check the form: %(errors)s") % {"errors": form.errors.as_text()})
    case = case_get(user=request.user, pk=pk)
    return render(request, "risk/case_detail.html", _case_context(request, case), status=status)


# --- submitting applications for approval ------------------------------------------------------


def _awaiting_approval(user):
    has_case = ApprovalCase.objects.filter(application=OuterRef("pk"))
    return (
        applications_visible(user)
        .filter(state__in=[LoanApplication.State.DRAFT, LoanApplication.State.SUBMITTED])
        .filter(~Exists(has_case))
        .select_related("customer", "product", "branch", "prepared_by")
        .order_by("created_at", "id")
    )


@login_required
@permission_required("risk.open_case", raise_exception=True)
@require_GET
def open_list(request: HttpRequest) -> HttpResponse:
    page = _page(request, _awaiting_approval(request.user))
    return render(
        request,
        "risk/open_list.html",
        {"page_obj": page, "applications": page.object_list, "ruleset": active_ruleset()},
    )


@login_required
@permission_required("risk.open_case", raise_exception=True)
@require_POST
def case_open(request: HttpRequest, application_pk: int) -> HttpResponse:
    try:
        application = applications_visible(request.user).get(pk=application_pk)
    except (LoanApplication.DoesNotExist, ValueError):
        raise Http404 from None
    try:
        case = services.approval_case_open(application=application, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("risk:open_list")
    except PermissionDenied:
        messages.error(request, _("You may not submit this application."))
        return redirect("risk:open_list")
    messages.success(
        request,
        _("%(number)s is in approval on the %(route)s route.")
        % {"number": application.number, "route": case.get_route_display()},
    )
    return redirect("risk:case", pk=case.pk)


@login_required
@permission_required("risk.view_approvalcase", raise_exception=True)
@require_GET
def application_case(request: HttpRequest, application_pk: int) -> HttpResponse:
    """From an application to its approval case (the loans pages link here)."""
    case = cases_visible(request.user).filter(application_id=application_pk).first()
    if case is None:
        raise Http404
    return redirect("risk:case", pk=case.pk)


# --- committee --------------------------------------------------------------------------------


@login_required
@permission_required("risk.view_committeemeeting", raise_exception=True)
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in CommitteeMeeting.Status.values:
        status = ""
    page = _page(request, meeting_list(user=request.user, status=status))
    return render(
        request,
        "risk/meeting_list.html",
        {
            "page_obj": page,
            "meetings": page.object_list,
            "status": status,
            "statuses": CommitteeMeeting.Status,
            "query": _query_without_page(request),
        },
    )


def _meeting_context(request: HttpRequest, meeting: CommitteeMeeting, vote_form=None) -> dict:
    user = request.user
    rows = meeting_member_votes(meeting)
    is_open = meeting.status == CommitteeMeeting.Status.OPEN
    has_voted = any(r.voted and r.member.pk == user.pk for r in rows)
    return {
        "meeting": meeting,
        "case": meeting.case,
        "rows": rows,
        "is_open": is_open,
        "voted_count": sum(1 for r in rows if r.voted),
        "may_vote": is_open and not has_voted and user.has_perm("risk.vote_committee"),
        "has_voted": has_voted,
        "may_close": is_open and user.has_perm("risk.manage_committee"),
        "vote_form": vote_form or VoteForm(),
    }


@login_required
@permission_required("risk.view_committeemeeting", raise_exception=True)
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_get(user=request.user, pk=pk)
    return render(request, "risk/meeting_detail.html", _meeting_context(request, meeting))


@login_required
@permission_required("risk.manage_committee", raise_exception=True)
@require_POST
def meeting_convene(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = case_get(user=request.user, pk=case_pk)
    try:
        meeting = services.committee_meeting_convene(case=case, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("risk:case", pk=case.pk)
    messages.success(request, _("The loan committee meeting is open for votes."))
    return redirect("risk:meeting", pk=meeting.pk)


@login_required
@permission_required("risk.vote_committee", raise_exception=True)
@require_POST
def meeting_vote(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_get(user=request.user, pk=pk)
    form = VoteForm(request.POST)
    if not form.is_valid():
        context = _meeting_context(request, meeting, vote_form=form)
        return render(request, "risk/meeting_detail.html", context, status=400)
    try:
        services.committee_vote_cast(
            meeting=meeting,
            actor=request.user,
            vote=form.cleaned_data["vote"],
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        meeting = meeting_get(user=request.user, pk=pk)
        context = _meeting_context(request, meeting, vote_form=form)
        return render(request, "risk/meeting_detail.html", context, status=exc.status_code)
    messages.success(request, _("Your vote is recorded. It stays secret until the meeting closes."))
    return redirect("risk:meeting", pk=meeting.pk)


@login_required
@permission_required("risk.manage_committee", raise_exception=True)
@require_POST
def meeting_close(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_get(user=request.user, pk=pk)
    try:
        closed = services.committee_meeting_close(meeting=meeting, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        meeting = meeting_get(user=request.user, pk=pk)
        context = _meeting_context(request, meeting)
        return render(request, "risk/meeting_detail.html", context, status=exc.status_code)
    messages.success(
        request,
        _("The meeting is closed: %(outcome)s.") % {"outcome": closed.get_outcome_display()},
    )
    return redirect("risk:meeting", pk=meeting.pk)


# --- stage timing -----------------------------------------------------------------------------


def _branches_for(user):
    units = OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).order_by("code")
    if sees_whole_bank(user):
        return units
    return units.filter(pk__in=visible_org_units(user).values("pk"))


@login_required
@permission_required("risk.view_approval_stats", raise_exception=True)
@require_GET
def timing(request: HttpRequest) -> HttpResponse:
    branches = _branches_for(request.user)
    form = TimingFilterForm(request.GET or None, branches=branches)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    by = data.get("by") or ""
    rows = stage_timing(
        user=request.user,
        by=by,
        route=data.get("route") or "",
        branch_id=data["branch"].pk if data.get("branch") else None,
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    targets = sla_targets()
    return render(
        request,
        "risk/timing.html",
        {
            "form": form,
            "by": by,
            "rows": [
                (row, targets.get(row.stage), row.p90_seconds > targets.get(row.stage, 1e12) * 3600)
                for row in rows
            ],
        },
    )


# --- rules ------------------------------------------------------------------------------------


def _require_head_office(request: HttpRequest) -> None:
    if not sees_whole_bank(request.user):
        raise PermissionDenied


@login_required
@permission_required("risk.manage_routing", raise_exception=True)
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    ruleset = active_ruleset()
    policy_row = CommitteePolicy.objects.first()
    return render(
        request,
        "risk/rules.html",
        {
            "ruleset": ruleset,
            "rules": list(ruleset.rules.order_by("position")) if ruleset else [],
            "versions": RoutingRuleSet.objects.select_related("created_by")[:20],
            "authority_formset": AuthorityFormSet(
                queryset=StageAuthority.objects.all(), prefix="auth"
            ),
            "sla_formset": SLAFormSet(queryset=StageSLA.objects.all(), prefix="sla"),
            "committee_form": CommitteePolicyForm(
                initial={
                    "quorum": policy_row.quorum,
                    "majority_numerator": policy_row.majority_numerator,
                    "majority_denominator": policy_row.majority_denominator,
                }
                if policy_row
                else None
            ),
            "inspection_rule_form": InspectionRuleForm(instance=inspection_rule()),
            "may_edit": sees_whole_bank(request.user),
        },
    )


@login_required
@permission_required("risk.manage_routing", raise_exception=True)
@require_http_methods(["GET", "POST"])
def rules_edit(request: HttpRequest) -> HttpResponse:
    _require_head_office(request)
    ruleset = active_ruleset()
    if request.method == "POST":
        formset = RuleFormSet(
            request.POST, prefix="rules", form_kwargs={"product_choices": product_code_choices()}
        )
        publish = PublishForm(request.POST)
        if formset.is_valid() and publish.is_valid():
            existing = formset.initial_form_count()
            kept = [
                f
                for i, f in enumerate(formset.forms)
                if (i < existing or f.has_changed())
                and f.cleaned_data
                and not f.cleaned_data.get("DELETE")
            ]
            kept.sort(key=lambda f: f.cleaned_data["position"])
            try:
                new = services.routing_ruleset_publish(
                    actor=request.user,
                    rules=[f.rule_spec() for f in kept],
                    comment=publish.cleaned_data["comment"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                message = _("Routing rules v%(version)s are published.")
                messages.success(request, message % {"version": new.version})
                return redirect("risk:rules")
        status = 400
    else:
        current = ruleset.rules.order_by("position") if ruleset else []
        initial = [RuleForm.initial_from(r) for r in current]
        formset = RuleFormSet(
            prefix="rules",
            initial=initial,
            form_kwargs={"product_choices": product_code_choices()},
        )
        publish = PublishForm()
        status = 200
    return render(
        request,
        "risk/rules_edit.html",
        {"formset": formset, "publish": publish, "ruleset": ruleset},
        status=status,
    )


@login_required
@permission_required("risk.manage_routing", raise_exception=True)
@require_POST
def authorities_edit(request: HttpRequest) -> HttpResponse:
    _require_head_office(request)
    formset = AuthorityFormSet(request.POST, queryset=StageAuthority.objects.all(), prefix="auth")
    if not formset.is_valid():
        messages.error(request, _("Check the authority limits: amounts are positive numbers."))
        return redirect("risk:rules")
    try:
        for form in formset.forms:
            if form.has_changed():
                services.stage_authority_update(
                    actor=request.user,
                    authority=form.instance,
                    max_amount=form.cleaned_data["max_amount"],
                )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Authority limits saved."))
    return redirect("risk:rules")


@login_required
@permission_required("risk.manage_routing", raise_exception=True)
@require_POST
def sla_edit(request: HttpRequest) -> HttpResponse:
    _require_head_office(request)
    formset = SLAFormSet(request.POST, queryset=StageSLA.objects.all(), prefix="sla")
    if not formset.is_valid():
        messages.error(request, _("Check the time targets: whole hours, at least one."))
        return redirect("risk:rules")
    try:
        for form in formset.forms:
            if form.has_changed():
                services.stage_sla_update(
                    actor=request.user,
                    sla=form.instance,
                    target_hours=form.cleaned_data["target_hours"],
                )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Time targets saved."))
    return redirect("risk:rules")


@login_required
@permission_required("risk.manage_routing", raise_exception=True)
@require_POST
def committee_policy_edit(request: HttpRequest) -> HttpResponse:
    _require_head_office(request)
    form = CommitteePolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the committee rules."))
        return redirect("risk:rules")
    try:
        services.committee_policy_update(actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Committee rules saved."))
    return redirect("risk:rules")


urlpatterns = [
    path("", queue, name="queue"),
    path("cases/<int:pk>/", case_detail, name="case"),
    path("cases/<int:pk>/transition/", case_transition, name="case_transition"),
    path("cases/<int:case_pk>/committee/", meeting_convene, name="meeting_convene"),
    path("submit/", open_list, name="open_list"),
    path("submit/<int:application_pk>/", case_open, name="case_open"),
    path("applications/<int:application_pk>/", application_case, name="application_case"),
    path("committee/", meetings, name="meetings"),
    path("committee/<int:pk>/", meeting_detail, name="meeting"),
    path("committee/<int:pk>/vote/", meeting_vote, name="meeting_vote"),
    path("committee/<int:pk>/close/", meeting_close, name="meeting_close"),
    path("timing/", timing, name="timing"),
    path("rules/", rules, name="rules"),
    path("rules/edit/", rules_edit, name="rules_edit"),
    path("rules/authorities/", authorities_edit, name="authorities_edit"),
    path("rules/targets/", sla_edit, name="sla_edit"),
    path("rules/committee/", committee_policy_edit, name="committee_policy_edit"),
]
