"""Writes of the approval workflow. Every service is one transaction: lock the case, check the
state machine allows the move (else 409), check the user may make it (else 403), transition,
save, append the approval log row and the audit event, and tell the loans app the decision.

``at`` (when the action happened) exists for data loads — the demo's history, imported cases —
and is never passed by pages or the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, has_transition_perm

from coop.models import User
from coop.roles import Role, has_role, user_roles
from coop.services import ConflictError, DomainError, audit_record
from loans.models import LoanApplication, Product, RiskRoute
from loans.selectors_origination import applications_visible
from loans.services.origination import (
    loan_application_approve,
    loan_application_reject,
    loan_application_submit,
    loan_application_withdraw,
)
from risk import defaults, policy
from risk.models import (
    DECISION_STAGES,
    TERMINAL_STATES,
    WORKING_STAGES,
    ApprovalCase,
    ApprovalLog,
    CommitteeMeeting,
    CommitteePolicy,
    CommitteeVote,
    Escalation,
    InvestigationSignature,
    ReasonCode,
    RoutingRule,
    RoutingRuleSet,
    Stage,
    StageAuthority,
    StageSLA,
)
from risk.routing import active_ruleset, choose_route

MAX_COMMENT = 2000


class NotAllowedError(DomainError):
    """The user may not do this (role, authority limit, segregation of duties): HTTP 403."""

    status_code = 403

    def __init__(self, message: str, *, code: str = "not_allowed"):
        super().__init__(message, code=code)


def config_ensure_defaults() -> bool:
    """The seeded routing rules, stage authorities, time targets and committee policy, where
    missing. Idempotent; the data migration does the same on a fresh database."""
    with transaction.atomic():
        return defaults.install(
            ruleset_model=RoutingRuleSet,
            rule_model=RoutingRule,
            authority_model=StageAuthority,
            sla_model=StageSLA,
            policy_model=CommitteePolicy,
        )


# --- helpers ----------------------------------------------------------------------------------


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _clean_comment(comment: str | None, *, required: bool, message: str = "") -> str:
    text = (comment or "").strip()
    if required and not text:
        raise DomainError(message or _("A comment is required."), field="comment", code="required")
    if len(text) > MAX_COMMENT:
        raise DomainError(
            _("A comment has at most %(n)d characters.") % {"n": MAX_COMMENT}, field="comment"
        )
    return text


def _lock(case: ApprovalCase) -> ApprovalCase:
    """The case row locked for this transaction. A case that moved since the caller read it is
    a conflict: the user decided on something they no longer see (or lost a race)."""
    try:
        locked = (
            ApprovalCase.objects.select_for_update(of=("self",))
            .select_related("application", "customer")
            .get(pk=case.pk)
        )
    except ApprovalCase.DoesNotExist:
        raise ConflictError(_("The case no longer exists."), code="gone") from None
    if locked.state != case.state:
        raise ConflictError(
            _("The case has moved on to %(state)s since you opened it; reload it and check again.")
            % {"state": Stage(locked.state).label},
            code="stale",
        )
    return locked


def _acting_role(actor: User, preferred: str) -> str:
    roles = user_roles(actor)
    if preferred in roles:
        return preferred
    return roles[0] if roles else preferred


def _due_at(stage: str, entered: datetime) -> datetime | None:
    if stage in TERMINAL_STATES:
        return None
    sla = StageSLA.objects.filter(stage=stage).first()
    return entered + timedelta(hours=sla.target_hours) if sla else None


def _signers(case: ApprovalCase, round_: int) -> list[int]:
    return list(
        case.signatures.filter(round=round_).order_by("id").values_list("signer_id", flat=True)
    )


def _completers_into(case: ApprovalCase, stage: str) -> list[int]:
    """Who completed the stage before ``stage`` the last time the case entered it."""
    row = (
        case.log.filter(to_state=stage, transition__in=["submit", policy.ADVANCE])
        .order_by("-id")
        .first()
    )
    if row is None:
        return []
    if row.from_state == Stage.INVESTIGATION:
        return _signers(case, case.investigation_round)
    return [row.actor_id]


def _move(
    case: ApprovalCase,
    *,
    method,
    name: str,
    actor: User,
    role: str,
    at: datetime,
    comment: str = "",
    reason_code: str = "",
    completed_by: list[int] | None = None,
) -> ApprovalLog:
    """Run the state-machine ``method`` on the locked ``case`` and record it."""
    if at < case.stage_entered_at:
        raise DomainError(_("An action cannot happen before the case entered its stage."))
    from_state = case.state
    entered = case.stage_entered_at
    method()
    to_state = case.state
    if name == policy.RETURN:
        case.previous_stage_by = _completers_into(case, to_state)
    else:
        case.previous_stage_by = completed_by if completed_by is not None else [actor.pk]
    if to_state == Stage.INVESTIGATION:
        case.investigation_round += 1
    case.stage_entered_at = at
    case.stage_due_at = _due_at(to_state, at)
    if to_state in TERMINAL_STATES:
        case.closed_at = at
    try:
        case.save(
            update_fields=[
                "state",
                "previous_stage_by",
                "investigation_round",
                "stage_entered_at",
                "stage_due_at",
                "closed_at",
            ]
        )
    except ConcurrentTransition:
        raise ConflictError(
            _("Someone else moved this case at the same moment; reload it."), code="concurrent"
        ) from None
    entry = ApprovalLog.objects.create(
        case=case,
        from_state=from_state,
        to_state=to_state,
        transition=name,
        actor=actor,
        role=role,
        created_at=at,
        comment=comment,
        reason_code=reason_code,
        stage_entered_at=entered,
        seconds_in_stage=max(0, int((at - entered).total_seconds())),
    )
    audit_record(
        actor=actor,
        action=f"approval_case.{name}",
        obj=case,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        data={"role": role, "reason_code": reason_code} if reason_code else {"role": role},
    )
    _decide_application(case, actor=actor, to_state=to_state, comment=comment, reason=reason_code)
    return entry


def _decide_application(
    case: ApprovalCase, *, actor: User, to_state: str, comment: str, reason: str
) -> None:
    """The loans app records the decision on the application, in this same transaction."""
    application = case.application
    if to_state == Stage.APPROVED:
        loan_application_approve(application=application, actor=actor, comment=comment)
    elif to_state == Stage.REJECTED:
        label = ReasonCode(reason).label if reason else ""
        text = f"{label}: {comment}" if label else comment
        loan_application_reject(application=application, actor=actor, comment=text)
    elif to_state == Stage.WITHDRAWN:
        loan_application_withdraw(application=application, actor=actor, comment=comment)


def _require_possible(case: ApprovalCase, name: str) -> None:
    if not policy.possible(case, name):
        raise ConflictError(policy.why_impossible(case, name), code="invalid_state")


def _require_allowed(case: ApprovalCase, actor: User, name: str) -> policy.Decision:
    method = policy.fsm_method(case, name)
    decision = policy.check(case, actor, name)
    # django-fsm's permission hook is the same policy; asking it keeps the model's declared
    # permissions and the services in step.
    if not decision or (method is not None and not has_transition_perm(method, actor)):
        raise NotAllowedError(decision.reason or _("You may not do this."))
    return decision


# --- opening a case ---------------------------------------------------------------------------


@transaction.atomic
def approval_case_open(
    *, application: LoanApplication, actor: User, at: datetime | None = None
) -> ApprovalCase:
    """Send an application into approval: submit it if it is still a draft, choose its route
    from the active routing rules, open the case and complete the application stage. Opening an
    application that already has a case returns that case (the loans submit flow may open it
    too)."""
    existing = ApprovalCase.objects.filter(application_id=application.pk).first()
    if existing is not None:
        return existing
    if not actor.has_perm("risk.open_case"):
        raise NotAllowedError(_("Your roles do not submit applications for approval."))
    if not applications_visible(actor).filter(pk=application.pk).exists():
        raise NotAllowedError(_("This application is not in your scope."))
    application.refresh_from_db(fields=["state"])
    if application.state == LoanApplication.State.DRAFT:
        loan_application_submit(application=application, actor=actor, open_case=False)
    locked = (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("customer", "product", "branch")
        .get(pk=application.pk)
    )
    if ApprovalCase.objects.filter(application_id=locked.pk).exists():
        return ApprovalCase.objects.get(application_id=locked.pk)
    if locked.state != LoanApplication.State.SUBMITTED:
        raise ConflictError(
            _("Only a submitted application goes to approval; this one is %(state)s.")
            % {"state": locked.get_state_display()},
            code="invalid_state",
        )
    ruleset = active_ruleset()
    if ruleset is None:
        raise ConflictError(_("No routing rules are published yet."), code="no_rules")
    choice = choose_route(locked, ruleset)
    now = _now(at)
    case = ApprovalCase(
        application=locked,
        customer=locked.customer,
        branch=locked.branch,
        amount=locked.amount,
        route=choice.route,
        ruleset=choice.ruleset,
        rule=choice.rule,
        routing_facts=choice.facts.as_json(),
        opened_by=actor,
        opened_at=now,
        # The application stage ran from the draft to its submission.
        stage_entered_at=min(locked.created_at, now),
    )
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise ConflictError(
            _("This application was sent to approval at the same moment by someone else."),
            code="concurrent",
        ) from None
    _move(
        case,
        method=policy.fsm_method(case, policy.ADVANCE),
        name="submit",
        actor=actor,
        role=_acting_role(actor, Role.ACCOUNT_MANAGER),
        at=now,
        comment=_("Route %(route)s chosen by %(rule)s (rules v%(version)s).")
        % {
            "route": RiskRoute(choice.route).label,
            "rule": choice.rule.name if choice.rule else _("the product's default route"),
            "version": choice.ruleset.version,
        },
    )
    return case


# --- transitions ------------------------------------------------------------------------------


@transaction.atomic
def approval_case_advance(
    *, case: ApprovalCase, actor: User, comment: str = "", at: datetime | None = None
) -> ApprovalCase:
    """Complete the current stage: the case moves to its route's next stage, or — after the last
    one — is approved and ready for disbursement."""
    comment = _clean_comment(comment, required=False)
    locked = _lock(case)
    _require_possible(locked, policy.ADVANCE)
    decision = _require_allowed(locked, actor, policy.ADVANCE)
    _move(
        locked,
        method=policy.fsm_method(locked, policy.ADVANCE),
        name=policy.ADVANCE,
        actor=actor,
        role=decision.role,
        at=_now(at),
        comment=comment,
    )
    return locked


@transaction.atomic
def approval_case_return(
    *, case: ApprovalCase, actor: User, comment: str, at: datetime | None = None
) -> ApprovalCase:
    """Send the case back to the previous stage of its route for more information."""
    comment = _clean_comment(comment, required=True, message=_("Say what information is missing."))
    locked = _lock(case)
    _require_possible(locked, policy.RETURN)
    decision = _require_allowed(locked, actor, policy.RETURN)
    _move(
        locked,
        method=policy.fsm_method(locked, policy.RETURN),
        name=policy.RETURN,
        actor=actor,
        role=decision.role,
        at=_now(at),
        comment=comment,
    )
    return locked


def _clean_reason(reason_code: str | None) -> str:
    if not reason_code:
        raise DomainError(_("Choose a reason."), field="reason_code", code="required")
    if reason_code not in ReasonCode.values or reason_code == ReasonCode.COMMITTEE:
        raise DomainError(_("Not one of the available reasons."), field="reason_code")
    return reason_code


@transaction.atomic
def approval_case_reject(
    *,
    case: ApprovalCase,
    actor: User,
    reason_code: str,
    comment: str,
    at: datetime | None = None,
) -> ApprovalCase:
    reason_code = _clean_reason(reason_code)
    comment = _clean_comment(comment, required=True, message=_("Explain the rejection."))
    locked = _lock(case)
    _require_possible(locked, policy.REJECT)
    decision = _require_allowed(locked, actor, policy.REJECT)
    _move(
        locked,
        method=locked.reject,
        name=policy.REJECT,
        actor=actor,
        role=decision.role,
        at=_now(at),
        comment=comment,
        reason_code=reason_code,
    )
    return locked


@transaction.atomic
def approval_case_withdraw(
    *, case: ApprovalCase, actor: User, comment: str, at: datetime | None = None
) -> ApprovalCase:
    """The applicant no longer wants the loan; their account manager withdraws the case. An open
    committee meeting on it is cancelled."""
    comment = _clean_comment(
        comment, required=True, message=_("Give the reason for withdrawing the application.")
    )
    locked = _lock(case)
    _require_possible(locked, policy.WITHDRAW)
    decision = _require_allowed(locked, actor, policy.WITHDRAW)
    now = _now(at)
    for meeting in locked.meetings.select_for_update().filter(status=CommitteeMeeting.Status.OPEN):
        meeting.status = CommitteeMeeting.Status.CANCELLED
        meeting.closed_by = actor
        meeting.closed_at = now
        meeting.save(update_fields=["status", "closed_by", "closed_at"])
        audit_record(
            actor=actor,
            action="committee_meeting.cancel",
            obj=meeting,
            from_state=CommitteeMeeting.Status.OPEN,
            to_state=CommitteeMeeting.Status.CANCELLED,
        )
    _move(
        locked,
        method=locked.withdraw,
        name=policy.WITHDRAW,
        actor=actor,
        role=decision.role,
        at=now,
        comment=comment,
    )
    return locked


@transaction.atomic
def investigation_sign(
    *, case: ApprovalCase, actor: User, comment: str, at: datetime | None = None
) -> ApprovalCase:
    """双人调查: the A-role or B-role manager signs their part with their findings. The second
    signature confirms the first and completes the stage."""
    comment = _clean_comment(comment, required=True, message=_("Write down your findings."))
    locked = _lock(case)
    _require_possible(locked, policy.SIGN_INVESTIGATION)
    decision = _require_allowed(locked, actor, policy.SIGN_INVESTIGATION)
    now = _now(at)
    if now < locked.stage_entered_at:
        raise DomainError(_("An action cannot happen before the case entered its stage."))
    signature = InvestigationSignature.objects.create(
        case=locked,
        round=locked.investigation_round,
        part=policy.investigation_part(locked, actor),
        signer=actor,
        comment=comment,
        signed_at=now,
    )
    audit_record(
        actor=actor,
        action="approval_case.sign_investigation",
        obj=locked,
        comment=comment,
        data={"part": signature.part, "round": signature.round},
    )
    if policy.possible(locked, policy.ADVANCE):
        _move(
            locked,
            method=policy.fsm_method(locked, policy.ADVANCE),
            name=policy.ADVANCE,
            actor=actor,
            role=decision.role,
            at=now,
            comment=comment,
            completed_by=_signers(locked, locked.investigation_round),
        )
    return locked


def approval_case_transition(
    *,
    case: ApprovalCase,
    actor: User,
    transition: str,
    comment: str = "",
    reason_code: str = "",
) -> ApprovalCase:
    """One entry point for pages and the API: run the named transition's service."""
    if transition == policy.ADVANCE:
        return approval_case_advance(case=case, actor=actor, comment=comment)
    if transition == policy.SIGN_INVESTIGATION:
        return investigation_sign(case=case, actor=actor, comment=comment)
    if transition == policy.RETURN:
        return approval_case_return(case=case, actor=actor, comment=comment)
    if transition == policy.REJECT:
        return approval_case_reject(
            case=case, actor=actor, reason_code=reason_code, comment=comment
        )
    if transition == policy.WITHDRAW:
        return approval_case_withdraw(case=case, actor=actor, comment=comment)
    raise DomainError(_("Not one of the available actions."), field="transition")


# --- loan committee ---------------------------------------------------------------------------


def _committee_policy() -> CommitteePolicy:
    return CommitteePolicy.objects.first() or CommitteePolicy(
        quorum=defaults.COMMITTEE_QUORUM,
        majority_numerator=defaults.COMMITTEE_MAJORITY[0],
        majority_denominator=defaults.COMMITTEE_MAJORITY[1],
    )


def _require_committee_member(actor: User, perm: str) -> None:
    if not has_role(actor, Role.LOAN_COMMITTEE) or not actor.has_perm(perm):
        raise NotAllowedError(_("Only loan committee members do this."))


@transaction.atomic
def committee_meeting_convene(
    *, case: ApprovalCase, actor: User, at: datetime | None = None
) -> CommitteeMeeting:
    """Put a case at its approval stage before the loan committee (the "collective review"
    gate). While the meeting is open no single officer decides the case."""
    _require_committee_member(actor, "risk.manage_committee")
    locked = _lock(case)
    if not policy.in_scope(locked, actor):
        raise NotAllowedError(_("This case is not in your scope."))
    if locked.state not in DECISION_STAGES:
        raise ConflictError(
            _("The committee meets on a case at its approval stage; this one is at %(stage)s.")
            % {"stage": Stage(locked.state).label},
            code="invalid_state",
        )
    if locked.meetings.filter(status=CommitteeMeeting.Status.OPEN).exists():
        raise ConflictError(_("A committee meeting on this case is already open."), code="open")
    rules = _committee_policy()
    meeting = CommitteeMeeting.objects.create(
        case=locked,
        stage=locked.state,
        quorum=rules.quorum,
        majority_numerator=rules.majority_numerator,
        majority_denominator=rules.majority_denominator,
        convened_by=actor,
        convened_at=_now(at),
    )
    audit_record(
        actor=actor,
        action="committee_meeting.convene",
        obj=meeting,
        to_state=meeting.status,
        data={"case": locked.pk, "quorum": meeting.quorum},
    )
    return meeting


def _lock_meeting(meeting: CommitteeMeeting) -> CommitteeMeeting:
    locked = (
        CommitteeMeeting.objects.select_for_update(of=("self",))
        .select_related("case", "case__application")
        .get(pk=meeting.pk)
    )
    if locked.status != CommitteeMeeting.Status.OPEN:
        raise ConflictError(_("This committee meeting is closed."), code="closed")
    return locked


@transaction.atomic
def committee_vote_cast(
    *,
    meeting: CommitteeMeeting,
    actor: User,
    vote: str,
    comment: str = "",
    at: datetime | None = None,
) -> CommitteeVote:
    """A member's vote. It stays secret — pages and the API show only that they voted — until
    the meeting closes; a vote once cast is final."""
    if vote not in CommitteeVote.Vote.values:
        raise DomainError(_("Vote approve, reject or abstain."), field="vote")
    comment = _clean_comment(comment, required=False)
    _require_committee_member(actor, "risk.vote_committee")
    locked = _lock_meeting(meeting)
    if locked.case.application.prepared_by_id == actor.pk:
        raise NotAllowedError(_("You prepared this application, so you cannot vote on it."))
    if locked.votes.filter(member=actor).exists():
        raise ConflictError(_("You have already voted in this meeting."), code="voted")
    cast = CommitteeVote.objects.create(
        meeting=locked, member=actor, vote=vote, comment=comment, cast_at=_now(at)
    )
    # The audit event says that the member voted, not how: the vote is secret until closing.
    audit_record(actor=actor, action="committee_meeting.vote", obj=locked)
    return cast


def meeting_result(meeting: CommitteeMeeting, votes: list[str]) -> tuple[str, int, int, int]:
    """(outcome, for, against, abstentions). Members present are those who voted (abstaining
    counts as present); the case passes with a quorum and at least the majority share of the
    votes cast in favour."""
    votes_for = votes.count(CommitteeVote.Vote.APPROVE)
    against = votes.count(CommitteeVote.Vote.REJECT)
    abstentions = votes.count(CommitteeVote.Vote.ABSTAIN)
    present = len(votes)
    if present < meeting.quorum:
        outcome = CommitteeMeeting.Outcome.NO_QUORUM
    elif votes_for * meeting.majority_denominator >= present * meeting.majority_numerator:
        outcome = CommitteeMeeting.Outcome.PASSED
    else:
        outcome = CommitteeMeeting.Outcome.FAILED
    return outcome, votes_for, against, abstentions


@transaction.atomic
def committee_meeting_close(
    *, meeting: CommitteeMeeting, actor: User, at: datetime | None = None
) -> CommitteeMeeting:
    """Count the votes and close the meeting; a passed case completes its approval stage, a
    failed one is rejected, both through the workflow; without a quorum the case stays where it
    is and a new meeting may be convened."""
    _require_committee_member(actor, "risk.manage_committee")
    locked = _lock_meeting(meeting)
    case = _lock(locked.case)
    if not policy.in_scope(case, actor):
        raise NotAllowedError(_("This case is not in your scope."))
    if case.application.prepared_by_id == actor.pk:
        raise NotAllowedError(_("You prepared this application, so you cannot close its meeting."))
    now = _now(at)
    votes = list(locked.votes.values_list("vote", flat=True))
    outcome, votes_for, against, abstentions = meeting_result(locked, votes)
    locked.status = CommitteeMeeting.Status.CLOSED
    locked.outcome = outcome
    locked.votes_for, locked.votes_against, locked.abstentions = votes_for, against, abstentions
    locked.closed_by = actor
    locked.closed_at = now
    locked.save(
        update_fields=[
            "status",
            "outcome",
            "votes_for",
            "votes_against",
            "abstentions",
            "closed_by",
            "closed_at",
        ]
    )
    audit_record(
        actor=actor,
        action="committee_meeting.close",
        obj=locked,
        from_state=CommitteeMeeting.Status.OPEN,
        to_state=locked.status,
        data={"outcome": outcome, "for": votes_for, "against": against, "abstain": abstentions},
    )
    summary = _("Loan committee: %(for)d for, %(against)d against, %(abstain)d abstaining.") % {
        "for": votes_for,
        "against": against,
        "abstain": abstentions,
    }
    if outcome == CommitteeMeeting.Outcome.PASSED:
        _require_possible(case, policy.ADVANCE)
        _move(
            case,
            method=policy.fsm_method(case, policy.ADVANCE),
            name=policy.ADVANCE,
            actor=actor,
            role=Role.LOAN_COMMITTEE,
            at=now,
            comment=summary,
        )
    elif outcome == CommitteeMeeting.Outcome.FAILED:
        _require_possible(case, policy.REJECT)
        _move(
            case,
            method=case.reject,
            name=policy.REJECT,
            actor=actor,
            role=Role.LOAN_COMMITTEE,
            at=now,
            comment=summary,
            reason_code=ReasonCode.COMMITTEE,
        )
    return locked


# --- configuration ----------------------------------------------------------------------------

RULE_FIELDS = (
    "name",
    "route",
    "product_codes",
    "product_kinds",
    "customer_kind",
    "amount_above",
    "amount_up_to",
    "within_rating_tier",
    "credit_ratings",
    "customer_classes",
    "customer_categories",
    "industry_categories",
    "exposure_above",
    "has_overdue_history",
)


def _require_head_office_manager(actor: User) -> None:
    from coop.scoping import sees_whole_bank

    if not actor.has_perm("risk.manage_routing") or not sees_whole_bank(actor):
        raise NotAllowedError(_("Only head office edits the approval rules."))


def _clean_rule(spec: dict[str, Any], position: int) -> dict[str, Any]:
    unknown = set(spec) - set(RULE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown rule field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    rule = RoutingRule(position=position, **spec)
    name = (rule.name or "").strip()
    if not name:
        raise DomainError(
            _("Rule %(n)d needs a name.") % {"n": position}, field="rules", code="required"
        )
    if rule.route not in RiskRoute.values:
        raise DomainError(_("Rule %(n)d needs a route.") % {"n": position}, field="rules")
    if rule.customer_kind and rule.customer_kind not in RoutingRule.CustomerKind.values:
        raise DomainError(
            _("Rule %(n)d: unknown customer type %(v)s") % {"n": position, "v": rule.customer_kind},
            field="rules",
        )
    for field, (_label, choices) in RoutingRule.LIST_CONDITIONS.items():
        unknown_values = sorted(set(getattr(rule, field) or []) - set(choices.values))
        if unknown_values:
            raise DomainError(
                _("Rule %(n)d: unknown values %(values)s")
                % {"n": position, "values": ", ".join(unknown_values)},
                field="rules",
            )
    codes = set(rule.product_codes or [])
    if codes:
        known = set(Product.objects.filter(code__in=codes).values_list("code", flat=True))
        if codes - known:
            raise DomainError(
                _("Rule %(n)d names unknown products: %(codes)s")
                % {"n": position, "codes": ", ".join(sorted(codes - known))},
                field="rules",
            )
    for field in ("amount_above", "amount_up_to", "exposure_above"):
        value = getattr(rule, field)
        if value is None or value == "":
            setattr(rule, field, None)
            continue
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise DomainError(
                _("Rule %(n)d: enter an amount.") % {"n": position}, field="rules"
            ) from None
        if amount < 0:
            raise DomainError(
                _("Rule %(n)d: amounts cannot be negative.") % {"n": position}, field="rules"
            )
        setattr(rule, field, amount)
    if (
        rule.amount_above is not None
        and rule.amount_up_to is not None
        and rule.amount_up_to <= rule.amount_above
    ):
        raise DomainError(
            _("Rule %(n)d can never match: the amount range is empty.") % {"n": position},
            field="rules",
        )
    try:
        rule.full_clean(exclude=["ruleset", "position"])
    except ValidationError as exc:
        raise DomainError(
            _("Rule %(n)d: %(errors)s") % {"n": position, "errors": " ".join(exc.messages)},
            field="rules",
        ) from None
    return {f: getattr(rule, f) for f in RULE_FIELDS} | {"name": name}


@transaction.atomic
def routing_ruleset_publish(
    *, actor: User, rules: list[dict[str, Any]], comment: str = ""
) -> RoutingRuleSet:
    """Publish the next version of the routing rules, in the order given. Cases already open
    keep the version that routed them."""
    _require_head_office_manager(actor)
    if not rules:
        raise DomainError(_("Give at least one rule."), field="rules", code="required")
    cleaned = [_clean_rule(spec, position) for position, spec in enumerate(rules, start=1)]
    comment = _clean_comment(comment, required=False)[:200]
    # Serialise publishers: two versions with the same number would collide anyway.
    current = RoutingRuleSet.objects.select_for_update().order_by("-version").first()
    ruleset = RoutingRuleSet.objects.create(
        version=(current.version + 1) if current else 1, comment=comment, created_by=actor
    )
    RoutingRule.objects.bulk_create(
        RoutingRule(ruleset=ruleset, position=position, **values)
        for position, values in enumerate(cleaned, start=1)
    )
    audit_record(
        actor=actor,
        action="routing_ruleset.publish",
        obj=ruleset,
        comment=comment,
        data={"version": ruleset.version, "rules": len(cleaned)},
    )
    return ruleset


@transaction.atomic
def stage_authority_update(
    *, actor: User, authority: StageAuthority, max_amount: Decimal | None
) -> StageAuthority:
    _require_head_office_manager(actor)
    if max_amount is not None and max_amount <= 0:
        raise DomainError(_("A limit must be greater than zero."), field="max_amount")
    locked = StageAuthority.objects.select_for_update().get(pk=authority.pk)
    before = locked.max_amount
    locked.max_amount = max_amount
    locked.save(update_fields=["max_amount"])
    audit_record(
        actor=actor,
        action="stage_authority.update",
        obj=locked,
        data={
            "stage": locked.stage,
            "role": locked.role,
            "org_level": locked.org_level,
            "before": str(before) if before is not None else None,
            "after": str(max_amount) if max_amount is not None else None,
        },
    )
    return locked


@transaction.atomic
def stage_sla_update(*, actor: User, sla: StageSLA, target_hours: int) -> StageSLA:
    _require_head_office_manager(actor)
    if not isinstance(target_hours, int) or not 1 <= target_hours <= 24 * 90:
        raise DomainError(_("Enter a target between 1 and 2160 hours."), field="target_hours")
    locked = StageSLA.objects.select_for_update().get(pk=sla.pk)
    before = locked.target_hours
    locked.target_hours = target_hours
    locked.save(update_fields=["target_hours"])
    audit_record(
        actor=actor,
        action="stage_sla.update",
        obj=locked,
        data={"stage": locked.stage, "before": before, "after": target_hours},
    )
    return locked


@transaction.atomic
def committee_policy_update(
    *, actor: User, quorum: int, majority_numerator: int, majority_denominator: int
) -> CommitteePolicy:
    _require_head_office_manager(actor)
    if quorum < 1:
        raise DomainError(_("The quorum is at least one member."), field="quorum")
    if not 1 <= majority_numerator <= majority_denominator:
        raise DomainError(
            _("The majority is a fraction between 0 and 1, such as 2/3."),
            field="majority_numerator",
        )
    current = CommitteePolicy.objects.select_for_update().first()
    if current is None:
        current = CommitteePolicy()
    before = (current.quorum, current.majority_numerator, current.majority_denominator)
    current.quorum = quorum
    current.majority_numerator = majority_numerator
    current.majority_denominator = majority_denominator
    current.save()
    audit_record(
        actor=actor,
        action="committee_policy.update",
        obj=current,
        data={"before": list(before), "after": [quorum, majority_numerator, majority_denominator]},
    )
    return current


# --- SLA sweep --------------------------------------------------------------------------------


@transaction.atomic
def escalations_sweep(*, now: datetime | None = None) -> int:
    """Record each case whose current stage passed its due time, once (the unique constraint
    makes a re-run or a re-delivered task a no-op). Run by Celery beat."""
    now = _now(now)
    already = Escalation.objects.filter(
        case=OuterRef("pk"), stage=OuterRef("state"), due_at=OuterRef("stage_due_at")
    )
    overdue = list(
        ApprovalCase.objects.filter(state__in=WORKING_STAGES, stage_due_at__lt=now)
        .filter(~Exists(already))
        .values_list("pk", "state", "stage_due_at")
    )
    Escalation.objects.bulk_create(
        [Escalation(case_id=pk, stage=state, due_at=due) for pk, state, due in overdue],
        ignore_conflicts=True,
    )
    return len(overdue)
