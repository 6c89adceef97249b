"""Who may run which transition of a case: scope, role and org level (``StageAuthority``),
authority limit, segregation of duties and the A/B relationship to the customer.

``check`` answers with a ``Decision`` that carries the role the user acts in (written to the
approval log) or the translated reason for a refusal (the 403 message). Whether a transition is
possible at all from the case's state is the state machine's business (``possible``), answered
with 409 by the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from coop.models import OrgUnit
from coop.money import format_yuan
from coop.roles import Role, user_roles
from customers.selectors import customer_scope_q
from loans.models import RiskRoute
from risk.models import (
    DECISION_STAGES,
    FRONT_OFFICE_STAGES,
    ApprovalCase,
    CommitteeMeeting,
    InvestigationSignature,
    OrgLevel,
    Stage,
    StageAuthority,
)

ADVANCE = "advance"
SIGN_INVESTIGATION = "sign_investigation"
RETURN = "return_for_information"
REJECT = "reject"
WITHDRAW = "withdraw"
TRANSITIONS = (ADVANCE, SIGN_INVESTIGATION, RETURN, REJECT, WITHDRAW)
TRANSITION_LABELS = {
    ADVANCE: gettext_lazy("Complete stage"),
    SIGN_INVESTIGATION: gettext_lazy("Sign the investigation"),
    RETURN: gettext_lazy("Return for information"),
    REJECT: gettext_lazy("Reject"),
    WITHDRAW: gettext_lazy("Withdraw"),
}
# Transitions whose form needs a comment / a reason code.
NEEDS_COMMENT = (SIGN_INVESTIGATION, RETURN, REJECT, WITHDRAW)
NEEDS_REASON = (REJECT,)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    role: str = ""
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def refuse(reason: str) -> Decision:
    return Decision(False, reason=reason)


def org_level(user) -> str:
    if user.org_unit.kind == OrgUnit.Kind.HEAD_OFFICE:
        return OrgLevel.HEAD_OFFICE
    return OrgLevel.BRANCH


def authorities(user) -> list[StageAuthority]:
    """The stage authorities of the user's roles at their org level; cached on the user for the
    request (queues and case pages ask for several cases)."""
    cached = getattr(user, "_risk_authorities", None)
    if cached is None:
        cached = list(
            StageAuthority.objects.filter(role__in=user_roles(user), org_level=org_level(user))
        )
        user._risk_authorities = cached
    return cached


def individual_limit(stage: str) -> Decimal | None:
    """The highest amount any single officer may decide at ``stage`` (None: no limit); above it
    only the loan committee decides. Returns Decimal 0 when nobody alone may decide."""
    rows = StageAuthority.objects.filter(stage=stage).exclude(role=Role.LOAN_COMMITTEE)
    limits = [row.max_amount for row in rows]
    if not limits:
        return Decimal("0")
    if any(limit is None for limit in limits):
        return None
    return max(limits)


def needs_committee(case: ApprovalCase) -> bool:
    if case.state not in DECISION_STAGES:
        return False
    limit = individual_limit(case.state)
    return limit is not None and case.amount > limit


def case_scope_q(user, prefix: str = "") -> Q | None:
    """Cases are scoped through their customer, exactly like the customer files."""
    return customer_scope_q(user, f"{prefix}customer__")


def in_scope(case: ApprovalCase, user) -> bool:
    cache = case.__dict__.setdefault("_risk_scope", {})
    if user.pk not in cache:
        scope = case_scope_q(user)
        cache[user.pk] = scope is not None and (
            ApprovalCase.objects.filter(scope, pk=case.pk).exists()
        )
    return cache[user.pk]


def _stage_role(case: ApprovalCase, user, *, need_limit: bool) -> Decision:
    """The role in which ``user`` works the case's current stage, within their limit when the
    stage is a credit decision. The loan committee decides only collectively, in a meeting."""
    stage_label = Stage(case.state).label
    rows = [
        row
        for row in authorities(user)
        if row.stage == case.state and row.role != Role.LOAN_COMMITTEE
    ]
    if not rows:
        return refuse(
            _("Your role does not work the %(stage)s stage at your level.") % {"stage": stage_label}
        )
    if need_limit:
        fitting = [r for r in rows if r.max_amount is None or case.amount <= r.max_amount]
        if not fitting:
            limit = max(r.max_amount for r in rows)
            return refuse(
                _(
                    "The amount %(amount)s is above your authority limit of %(limit)s; "
                    "a higher authority or the loan committee decides."
                )
                % {"amount": format_yuan(case.amount), "limit": format_yuan(limit)}
            )
        rows = fitting
    return Decision(True, role=rows[0].role)


def _prepared_it(case: ApprovalCase, user) -> bool:
    return case.application.prepared_by_id == user.pk


def _segregation(case: ApprovalCase, user, *, completing: bool) -> Decision | None:
    if completing and user.pk in case.previous_stage_by:
        return refuse(
            _("You completed the previous stage of this case; someone else must complete this one.")
        )
    if case.state not in FRONT_OFFICE_STAGES and _prepared_it(case, user):
        return refuse(_("You prepared this application, so you cannot review or approve it."))
    return None


def investigation_part(case: ApprovalCase, user) -> str | None:
    """A for the customer's owning account manager, B for their B-role manager."""
    if case.customer.owner_id == user.pk:
        return InvestigationSignature.Part.A
    if case.customer.b_manager_id == user.pk:
        return InvestigationSignature.Part.B
    return None


def _check_advance(case: ApprovalCase, user) -> Decision:
    if case.state == Stage.INVESTIGATION:
        return refuse(
            _("The investigation completes when both the A-role and the B-role manager sign.")
        )
    decision = _stage_role(case, user, need_limit=case.state in DECISION_STAGES)
    if not decision:
        return decision
    if case.state == Stage.APPLICATION and user.pk not in (
        case.customer.owner_id,
        case.application.prepared_by_id,
    ):
        return refuse(
            _("Only the customer's account manager or the preparer resubmits the application.")
        )
    refusal = _segregation(case, user, completing=True)
    return refusal if refusal is not None else decision


def _check_sign(case: ApprovalCase, user) -> Decision:
    decision = _stage_role(case, user, need_limit=False)
    if not decision:
        return decision
    part = investigation_part(case, user)
    if part is None:
        return refuse(
            _("Only the customer's A-role and B-role account managers sign the investigation.")
        )
    signed = case.signatures.filter(round=case.investigation_round)
    if signed.filter(part=part).exists():
        return refuse(_("You have already signed your part of this investigation."))
    refusal = _segregation(case, user, completing=True)
    return refusal if refusal is not None else decision


def _check_return(case: ApprovalCase, user) -> Decision:
    decision = _stage_role(case, user, need_limit=False)
    if not decision:
        return decision
    if case.state in FRONT_OFFICE_STAGES and investigation_part(case, user) is None:
        return refuse(_("Only the customer's A-role and B-role account managers work this stage."))
    refusal = _segregation(case, user, completing=False)
    return refusal if refusal is not None else decision


def _check_reject(case: ApprovalCase, user) -> Decision:
    """Whoever works the stage may turn the case down (a reviewer's veto does not need an
    approval limit), except the preparer, who withdraws instead."""
    if _prepared_it(case, user):
        return refuse(_("You prepared this application: withdraw it instead of rejecting it."))
    return _check_return(case, user)


def _check_withdraw(case: ApprovalCase, user) -> Decision:
    if Role.ACCOUNT_MANAGER in user_roles(user) and user.pk in (
        case.customer.owner_id,
        case.application.prepared_by_id,
    ):
        return Decision(True, role=Role.ACCOUNT_MANAGER)
    return refuse(_("Only the applicant's account manager withdraws an application."))


CHECKS = {
    ADVANCE: _check_advance,
    SIGN_INVESTIGATION: _check_sign,
    RETURN: _check_return,
    REJECT: _check_reject,
    WITHDRAW: _check_withdraw,
}


def check(case: ApprovalCase, user, name: str) -> Decision:
    """May ``user`` run transition ``name`` on ``case`` (ignoring whether the state allows it)?
    Cached on the instance for the current state, so the state machine's permission hook and
    the service share one evaluation."""
    cache = case.__dict__.setdefault("_risk_decisions", {})
    key = (name, user.pk, case.state)
    if key not in cache:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            cache[key] = refuse(_("Sign in first."))
        elif not user.has_perm("risk.work_case"):
            cache[key] = refuse(_("Your roles do not work approval cases."))
        elif not in_scope(case, user):
            cache[key] = refuse(_("This case is not in your scope."))
        else:
            cache[key] = CHECKS[name](case, user)
    return cache[key]


def fsm_method(case: ApprovalCase, name: str):
    """The bound state-machine transition behind ``name`` (per route for advance and return)."""
    if name == ADVANCE:
        return getattr(case, f"advance_{case.route}")
    if name == RETURN:
        return getattr(case, f"return_{case.route}")
    if name == REJECT:
        return case.reject
    if name == WITHDRAW:
        return case.withdraw
    return None


def possible(case: ApprovalCase, name: str) -> bool:
    """Does the state machine allow ``name`` from the case's state (route and guards)?"""
    if name == SIGN_INVESTIGATION:
        return case.state == Stage.INVESTIGATION and case.route == RiskRoute.HIGH
    return can_proceed(fsm_method(case, name))


def stale_message(case: ApprovalCase) -> str:
    return _(
        "The case has moved on to %(state)s since you opened it; reload it and check again."
    ) % {"state": Stage(case.state).label}


def why_impossible(case: ApprovalCase, name: str) -> str:
    """The 409 message for a transition the state does not allow."""
    if case.is_closed:
        return _("The case is closed (%(state)s).") % {"state": Stage(case.state).label}
    sitting = case.meetings.filter(status=CommitteeMeeting.Status.OPEN).exists()
    if sitting and case.state in DECISION_STAGES and name in (ADVANCE, RETURN, REJECT):
        return _("The loan committee is deciding this case; wait for its meeting to close.")
    if name == ADVANCE and case.state == Stage.INVESTIGATION:
        return _("The investigation needs both the A-role and the B-role manager's signatures.")
    return _("“%(transition)s” is not possible at the %(stage)s stage.") % {
        "transition": TRANSITION_LABELS.get(name, name),
        "stage": Stage(case.state).label,
    }


def available(case: ApprovalCase, user) -> list[str]:
    """The transitions ``user`` may run on ``case`` now, in display order."""
    return [name for name in TRANSITIONS if possible(case, name) and check(case, user, name)]
