"""Pages of the surveys app. Thin: scoped selector (404 out of scope), one service, render."""

from __future__ import annotations

from functools import wraps

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.dashboard.aftercare import survey_narrowing
from coop.dashboard.filters import FilterError, parse_filters
from coop.services import DomainError
from surveys import analysis as survey_analysis
from surveys.forms import (
    AdvanceForm,
    CampaignForm,
    FeedbackAnswerForm,
    FeedbackForm,
    FrameworkForm,
    ImportForm,
    ImprovementForm,
)
from surveys.importing import (
    analysis_csv,
    analysis_xlsx,
    indicators_csv,
    read_indicators,
    read_table,
)
from surveys.models import (
    SCALE,
    Campaign,
    ImprovementItem,
    Indicator,
    ProcessFeedback,
    Response,
)
from surveys.selectors import (
    campaign_get,
    campaigns_visible,
    feedback_get,
    feedback_visible,
    framework_get,
    frameworks_visible,
    improvement_get,
    improvements_visible,
    invitation_by_token,
    invitation_get,
    invitations_visible,
    responses_visible,
    sees_respondent,
)
from surveys.services import (
    ImportRejected,
    campaign_close,
    campaign_create,
    campaign_open,
    feedback_answer,
    feedback_file,
    framework_create,
    import_columns,
    improvement_advance,
    improvement_open,
    response_submit,
    responses_import,
)

PAGE_SIZE = 50


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _form_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# --- campaigns ---------------------------------------------------------------------------------


@login_required
@permission_required("surveys.view_campaign", raise_exception=True)
def campaign_list(request):
    campaigns = (
        campaigns_visible(request.user)
        .select_related("framework", "org_unit")
        .order_by("-starts_on", "-id")
    )
    return render(request, "surveys/campaign_list.html", {"page": _page(request, campaigns)})


@login_required
@permission_required("surveys.manage_campaign", raise_exception=True)
def campaign_new(request):
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The campaign was created as a draft."))
            return redirect("surveys:campaign", pk=campaign.pk)
    return render(request, "surveys/campaign_form.html", {"form": form})


@login_required
@permission_required("surveys.view_campaign", raise_exception=True)
def campaign_detail(request, pk: int):
    campaign = campaign_get(user=request.user, pk=pk)
    counts = survey_analysis.counts(user=request.user, campaign=campaign)
    invitations = (
        invitations_visible(request.user)
        .filter(campaign=campaign)
        .select_related("customer", "branch")
        .order_by("reference")
    )
    by_branch = (
        invitations_visible(request.user)
        .filter(campaign=campaign)
        .values("branch__name")
        .annotate(
            sent=Count("pk"),
            returned=Count("response"),
            valid=Count("response", filter=Q(response__is_valid=True)),
        )
        .order_by("branch__name")
    )
    return render(
        request,
        "surveys/campaign_detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "by_branch": by_branch,
            "page": _page(request, invitations),
            "sees_respondent": sees_respondent(request.user, campaign),
            "can_manage": request.user.has_perm("surveys.manage_campaign"),
        },
    )


@login_required
@permission_required("surveys.manage_campaign", raise_exception=True)
@require_POST
def campaign_transition(request, pk: int, action: str):
    campaign = campaign_get(user=request.user, pk=pk)
    service = {"open": campaign_open, "close": campaign_close}.get(action)
    if service is None:
        raise Http404
    try:
        service(actor=request.user, campaign=campaign)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done."))
    return redirect("surveys:campaign", pk=pk)


def _crosshair(request) -> str:
    rule = request.GET.get("crosshair", "mean")
    return rule if rule in survey_analysis.CROSSHAIR_RULES else "mean"


# The management dashboard's filters, carried by its links into the analysis.
NARROWING_PARAMS = ("date_from", "date_to", "branch", "grid", "product")


def _narrowing(request):
    """(narrowing, the words describing it, its query string) from the dashboard's filter
    parameters; no parameter narrows nothing. Raises ``FilterError`` on bad values and
    Http404 for a branch, grid or product outside the user's scope, as the dashboard does."""
    if not any(request.GET.get(name) for name in NARROWING_PARAMS):
        return survey_analysis.EVERYTHING, [], ""
    filters = parse_filters(request.user, request.GET)
    words = [
        _("answers submitted by %(date)s") % {"date": filters.date_to.isoformat()},
        *([filters.branch.name] if filters.branch else []),
        *([filters.grid.name] if filters.grid else []),
        *(
            [_("customers with a %(product)s loan") % {"product": filters.product.name}]
            if filters.product
            else []
        ),
    ]
    return survey_narrowing(filters), words, filters.querystring()


def _narrowed(view):
    """Runs ``view(request, pk, narrowing=(…))``; bad filter values answer 400 with the error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            narrowing = _narrowing(request)
        except FilterError as exc:
            message = " ".join(str(m) for messages_ in exc.errors.values() for m in messages_)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return view(request, *args, narrowing=narrowing, **kwargs)

    return wrapper


@login_required
@permission_required("surveys.view_analysis", raise_exception=True)
@_narrowed
def campaign_analysis(request, pk: int, narrowing):
    campaign = campaign_get(user=request.user, pk=pk)
    rule = _crosshair(request)
    narrow, narrow_words, narrow_query = narrowing
    result = survey_analysis.campaign_analysis(
        user=request.user, campaign=campaign, crosshair=rule, narrowing=narrow
    )
    labels = {q: str(label) for q, label in survey_analysis.QUADRANT_LABELS.items()}
    chart = {
        "points": [
            {
                "code": row["code"],
                "name": row["name"],
                "importance": str(row["importance_mean"]),
                "satisfaction": str(row["satisfaction_mean"]),
                "gap": str(row["gap"]),
                "quadrant": row["quadrant"],
                "n": row["n"],
            }
            for row in result["indicators"]
        ],
        "crosshair": {
            "importance": str(result["crosshair"]["importance"]),
            "satisfaction": str(result["crosshair"]["satisfaction"]),
            "text": result["crosshair"]["text"],
        },
        "labels": {
            "x": _("Satisfaction"),
            "y": _("Importance"),
            "quadrants": labels,
            "gap": _("Gap"),
            "n": _("Responses"),
        },
    }
    return render(
        request,
        "surveys/campaign_analysis.html",
        {
            "campaign": campaign,
            "result": result,
            "rule": rule,
            "rules": [
                ("mean", _("Mean of means")),
                ("midpoint", _("Scale midpoint")),
                ("median", _("Medians")),
            ],
            "chart": chart,
            "quadrant_labels": labels,
            "breakdowns": survey_analysis.breakdowns(
                user=request.user, campaign=campaign, narrowing=narrow
            ),
            "narrow_words": narrow_words,
            "narrow_query": f"&{narrow_query}" if narrow_query else "",
            "breakdown_titles": {k: title for k, (_f, title) in survey_analysis.BREAKDOWNS.items()},
            "trend": survey_analysis.trend(user=request.user, campaign=campaign),
            "can_improve": request.user.has_perm("surveys.manage_improvement"),
        },
    )


@login_required
@permission_required("surveys.view_analysis", raise_exception=True)
@_narrowed
def campaign_export(request, pk: int, fmt: str, narrowing):
    campaign = campaign_get(user=request.user, pk=pk)
    result = survey_analysis.campaign_analysis(
        user=request.user, campaign=campaign, crosshair=_crosshair(request), narrowing=narrowing[0]
    )
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = HttpResponse(analysis_csv(result), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            analysis_xlsx(result, title=campaign.name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="survey-{campaign.pk}-{stamp}.{fmt}"'
    return response


@login_required
@permission_required("surveys.view_campaign", raise_exception=True)
def campaign_responses(request, pk: int):
    campaign = campaign_get(user=request.user, pk=pk)
    responses = (
        responses_visible(request.user)
        .filter(campaign=campaign)
        .select_related("invitation__customer", "invitation__branch")
        .order_by("-submitted_at", "-id")
    )
    return render(
        request,
        "surveys/campaign_responses.html",
        {
            "campaign": campaign,
            "page": _page(request, responses),
            "sees_respondent": sees_respondent(request.user, campaign),
        },
    )


@login_required
@permission_required("surveys.import_responses", raise_exception=True)
def campaign_import(request, pk: int):
    campaign = campaign_get(user=request.user, pk=pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            table = read_table(form.cleaned_data["file"])
            imported = responses_import(actor=request.user, campaign=campaign, table=table)
        except ImportRejected as exc:
            problems = exc.problems
            form.add_error(None, exc.message)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(n)d questionnaires were imported.") % {"n": imported})
            return redirect("surveys:campaign", pk=pk)
    return render(
        request,
        "surveys/campaign_import.html",
        {
            "campaign": campaign,
            "form": form,
            "problems": problems,
            "columns": import_columns(campaign.framework),
        },
    )


# --- answering ---------------------------------------------------------------------------------


def _questions(campaign: Campaign) -> list[dict]:
    language = get_language() or ""
    indicators = Indicator.objects.filter(framework_id=campaign.framework_id).order_by(
        "position", "id"
    )
    groups: dict[int, dict] = {}
    for ind in indicators:
        if ind.parent_id is None:
            groups[ind.pk] = {"name": ind.label(language), "items": []}
    for ind in indicators:
        if ind.parent_id is not None:
            groups[ind.parent_id]["items"].append({"code": ind.code, "name": ind.label(language)})
    return list(groups.values())


def _posted_answers(post, groups: list[dict]) -> list[dict]:
    answers = []
    for group in groups:
        for item in group["items"]:
            code = item["code"]
            answers.append(
                {
                    "indicator": code,
                    "importance": post.get(f"imp-{code}") or None,
                    "satisfaction": post.get(f"sat-{code}") or None,
                }
            )
    return answers


def _questionnaire_context(campaign, groups, post=None) -> dict:
    for group in groups:
        for item in group["items"]:
            item["imp"] = (post or {}).get(f"imp-{item['code']}", "")
            item["sat"] = (post or {}).get(f"sat-{item['code']}", "")
    return {"groups": groups, "scale": SCALE, "campaign_name": campaign.name}


@login_required
@permission_required("surveys.enter_response", raise_exception=True)
def invitation_answer(request, pk: int):
    """An account manager enters the customer's answers on a tablet during a visit."""
    invitation = invitation_get(user=request.user, pk=pk)
    campaign = invitation.campaign
    groups = _questions(campaign)
    error = ""
    if request.method == "POST":
        try:
            response_submit(
                invitation=invitation,
                answers=_posted_answers(request.POST, groups),
                channel="visit",
                actor=request.user,
                comment=request.POST.get("comment", ""),
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("The answers were saved."))
            return redirect("surveys:campaign", pk=campaign.pk)
    context = _questionnaire_context(campaign, groups, request.POST if error else None)
    context.update({"invitation": invitation, "error": error, "campaign": campaign})
    return render(request, "surveys/answer_staff.html", context)


@login_required
@permission_required("surveys.view_campaign", raise_exception=True)
def invitation_qr(request, pk: int):
    invitation = invitation_get(user=request.user, pk=pk)
    url = request.build_absolute_uri(reverse("surveys:public", kwargs={"token": invitation.token}))
    svg = segno.make(url, error="m").svg_inline(scale=4, border=2)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@csrf_protect
def public_answer(request, token: str):
    """The customer's personal link: no login, one response, nothing but the questions."""
    invitation = invitation_by_token(token)
    campaign = invitation.campaign
    if invitation.responded_at is not None:
        return render(request, "surveys/answer_public_done.html", {"state": "answered"})
    if campaign.state != Campaign.State.OPEN:
        return render(request, "surveys/answer_public_done.html", {"state": "closed"})
    groups = _questions(campaign)
    error = ""
    if request.method == "POST":
        try:
            response_submit(
                invitation=invitation,
                answers=_posted_answers(request.POST, groups),
                channel="link",
                comment=request.POST.get("comment", ""),
            )
        except DomainError as exc:
            error = exc.message
            if exc.code in ("answered", "closed"):
                return render(
                    request, "surveys/answer_public_done.html", {"state": exc.code}, status=409
                )
        else:
            return render(request, "surveys/answer_public_done.html", {"state": "thanks"})
    context = _questionnaire_context(campaign, groups, request.POST if error else None)
    context["error"] = error
    return render(request, "surveys/answer_public.html", context, status=400 if error else 200)


# --- improvement loop --------------------------------------------------------------------------


@login_required
@permission_required("surveys.view_improvementitem", raise_exception=True)
def ledger(request):
    items = (
        improvements_visible(request.user)
        .select_related("owner", "indicator", "campaign__framework", "org_unit")
        .order_by("state", "due_on", "id")
    )
    state = request.GET.get("state", "open")
    if state == "open":
        items = items.exclude(state=ImprovementItem.State.CLOSED)
    elif state in ImprovementItem.State.values:
        items = items.filter(state=state)
    page = _page(request, items)
    moved = survey_analysis.movement(user=request.user, items=list(page.object_list))
    today = timezone.localdate()
    rows = [
        {
            "item": item,
            "overdue": item.state != ImprovementItem.State.CLOSED and item.due_on < today,
            "moved": moved.get(item.pk),
        }
        for item in page.object_list
    ]
    return render(
        request,
        "surveys/ledger.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "states": ImprovementItem.State.choices,
            "can_manage": request.user.has_perm("surveys.manage_improvement"),
        },
    )


@login_required
@permission_required("surveys.manage_improvement", raise_exception=True)
def improvement_new(request):
    campaign = indicator = None
    if request.GET.get("campaign") or request.POST.get("campaign"):
        campaign = campaign_get(
            user=request.user, pk=request.GET.get("campaign") or request.POST.get("campaign")
        )
        code = request.GET.get("indicator") or request.POST.get("indicator")
        if code:
            indicator = Indicator.objects.filter(
                framework_id=campaign.framework_id, code=code, parent__isnull=False
            ).first()
            if indicator is None:
                raise Http404
    initial = {}
    if indicator is not None:
        initial = {"title": indicator.label(get_language() or ""), "level": "same_level"}
    form = ImprovementForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            item = improvement_open(
                actor=request.user, campaign=campaign, indicator=indicator, **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The improvement item was opened."))
            return redirect("surveys:improvement", pk=item.pk)
    return render(
        request,
        "surveys/improvement_form.html",
        {"form": form, "campaign": campaign, "indicator": indicator},
    )


_NEXT_STEPS = {
    ImprovementItem.State.PLAN: ["start"],
    ImprovementItem.State.DO: ["check"],
    ImprovementItem.State.CHECK: ["act", "replan"],
    ImprovementItem.State.ACT: ["close"],
    ImprovementItem.State.CLOSED: [],
}


@login_required
@permission_required("surveys.view_improvementitem", raise_exception=True)
def improvement_detail(request, pk: int):
    item = improvement_get(user=request.user, pk=pk)
    form = AdvanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            improvement_advance(actor=request.user, item=item, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("Done."))
        return redirect("surveys:improvement", pk=pk)
    may_act = item.owner_id == request.user.pk or request.user.has_perm(
        "surveys.manage_improvement"
    )
    labels = {
        "start": _("Start (do)"),
        "check": _("Check the effect"),
        "act": _("Act on the result"),
        "replan": _("Plan again"),
        "close": _("Close"),
    }
    steps = [(s, labels[s]) for s in _NEXT_STEPS[item.state]] if may_act else []
    moved = survey_analysis.movement(user=request.user, items=[item]).get(item.pk)
    return render(
        request,
        "surveys/improvement_detail.html",
        {
            "item": item,
            "steps": steps,
            "moved": moved,
            "overdue": item.state != ImprovementItem.State.CLOSED
            and item.due_on < timezone.localdate(),
        },
    )


# --- process feedback --------------------------------------------------------------------------


@login_required
@permission_required("surveys.view_processfeedback", raise_exception=True)
def feedback_list(request):
    # A customer's comment on a response can be filed as feedback ("green channel").
    source_response = None
    response_pk = request.GET.get("response") or request.POST.get("response")
    if response_pk:
        try:
            source_response = responses_visible(request.user).get(pk=response_pk)
        except (ValueError, TypeError, Response.DoesNotExist):
            raise Http404 from None
    initial = {}
    if source_response is not None:
        initial = {"source": ProcessFeedback.Source.CUSTOMER, "text": source_response.comment}
    form = FeedbackForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.has_perm("surveys.add_processfeedback"):
            raise PermissionDenied
        if form.is_valid():
            try:
                feedback_file(actor=request.user, response=source_response, **form.cleaned_data)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The feedback was sent to the head-office owner."))
                return redirect("surveys:feedback")
    items = (
        feedback_visible(request.user)
        .select_related("filed_by", "routed_to", "org_unit")
        .order_by("-created_at", "-id")
    )
    return render(
        request,
        "surveys/feedback_list.html",
        {"form": form, "page": _page(request, items), "source_response": source_response},
    )


@login_required
@permission_required("surveys.view_processfeedback", raise_exception=True)
def feedback_detail(request, pk: int):
    feedback = feedback_get(user=request.user, pk=pk)
    form = FeedbackAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback_answer(actor=request.user, feedback=feedback, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Done."))
        return redirect("surveys:feedback_detail", pk=pk)
    return render(
        request,
        "surveys/feedback_detail.html",
        {
            "feedback": feedback,
            "form": form,
            "may_answer": feedback.routed_to_id == request.user.pk
            and feedback.status == ProcessFeedback.Status.OPEN,
        },
    )


# --- frameworks --------------------------------------------------------------------------------


@login_required
@permission_required("surveys.view_framework", raise_exception=True)
def framework_list(request):
    frameworks = (
        frameworks_visible(request.user)
        .annotate(
            n_indicators=Count("indicators", filter=Q(indicators__parent__isnull=False)),
            n_campaigns=Count("campaigns", distinct=True),
        )
        .order_by("code", "-version")
    )
    return render(request, "surveys/framework_list.html", {"page": _page(request, frameworks)})


@login_required
@permission_required("surveys.view_framework", raise_exception=True)
def framework_detail(request, pk: int):
    framework = framework_get(user=request.user, pk=pk)
    campaign_stub = Campaign(framework=framework)
    return render(
        request,
        "surveys/framework_detail.html",
        {"framework": framework, "groups": _questions(campaign_stub)},
    )


@login_required
@permission_required("surveys.add_framework", raise_exception=True)
@require_http_methods(["GET", "POST"])
def framework_new(request):
    """A new framework, or the next version of one (``?from=<pk>`` fills in its code and names;
    its indicators download as the file to start from)."""
    source = None
    if request.GET.get("from"):
        source = framework_get(user=request.user, pk=request.GET["from"])
    initial = (
        {
            "code": source.code,
            "name": source.name,
            "name_en": source.name_en,
            "description": source.description,
        }
        if source
        else None
    )
    form = FrameworkForm(request.POST or None, request.FILES or None, initial=initial)
    problems = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                framework = framework_create(
                    actor=request.user,
                    code=data["code"],
                    name=data["name"],
                    name_en=data["name_en"],
                    description=data["description"],
                    indicators=read_indicators(read_table(data["file"])),
                )
            except ImportRejected as exc:
                problems = exc.problems
                form.add_error(None, exc.message)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("%(framework)s is saved; new campaigns can use it.")
                    % {"framework": framework},
                )
                return redirect("surveys:framework", pk=framework.pk)
    return render(
        request,
        "surveys/framework_form.html",
        {"form": form, "problems": problems, "source": source},
        status=status,
    )


@login_required
@permission_required("surveys.view_framework", raise_exception=True)
@require_GET
def framework_indicators(request, pk: int):
    """The framework's indicators as a CSV file in the upload format."""
    framework = framework_get(user=request.user, pk=pk)
    response = HttpResponse(indicators_csv(framework), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="framework-{framework.code}-v{framework.version}.csv"'
    )
    return response
