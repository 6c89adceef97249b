"""The approval workflow: one case per submitted loan application, moving through the stages of
the route its risk chose (seed 000/001), with routing rules, authority limits, SLA targets and the
committee policy as data, an append-only approval log, A/B investigation signatures and loan
committee meetings.

The case's state is one protected django-fsm field whose values are every stage of every route
plus the terminal states. Transitions are declared here with named guards (the route, the A/B
signatures, a sitting committee); who may run them (role, authority limit, segregation of duties)
is ``risk.policy``; they are run only by ``risk.services``, inside one transaction each.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from coop.models import OrgUnit
from coop.roles import Role
from customers.models import CreditRating, Customer, CustomerCategory, CustomerClass
from customers.models import IndustryCategory as IndustryEntryCategory
from loans.models import LoanApplication, Product, RiskRoute

MONEY = {"max_digits": 16, "decimal_places": 2}


class Stage(models.TextChoices):
    """Every stage of every route, then the terminal states (seed 000 names the stages)."""

    APPLICATION = "application", _("Application")
    # medium route
    REVIEW = "review", _("Review")
    # low and medium routes
    CREDIT_GRANTING = "credit_granting", _("Credit granting")
    APPROVAL = "approval", _("Approval")
    # high route
    ACCEPTANCE_REVIEW = "acceptance_review", _("Acceptance review")
    INVESTIGATION = "investigation", _("Pre-loan investigation")
    CREDIT_REVIEW = "credit_review", _("Credit review")
    LOAN_APPROVAL = "loan_approval", _("Loan approval")
    CONTRACT_REVIEW = "contract_review", _("Contract review")
    PAYMENT_CONDITION_REVIEW = "payment_condition_review", _("Payment-condition review")
    # terminal: the route's last step, disbursement, is the loans app's; the case ends there.
    APPROVED = "approved", _("Ready for disbursement")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The working stages of each route, in order (seed 000 "customer-oriented processes"); after the
# last one the case is approved and goes to disbursement.
ROUTE_STAGES: dict[str, tuple[str, ...]] = {
    RiskRoute.LOW: (Stage.APPLICATION, Stage.CREDIT_GRANTING, Stage.APPROVAL),
    RiskRoute.MEDIUM: (Stage.APPLICATION, Stage.REVIEW, Stage.CREDIT_GRANTING, Stage.APPROVAL),
    RiskRoute.HIGH: (
        Stage.APPLICATION,
        Stage.ACCEPTANCE_REVIEW,
        Stage.INVESTIGATION,
        Stage.CREDIT_REVIEW,
        Stage.LOAN_APPROVAL,
        Stage.CONTRACT_REVIEW,
        Stage.PAYMENT_CONDITION_REVIEW,
    ),
}
TERMINAL_STATES = (Stage.APPROVED, Stage.REJECTED, Stage.WITHDRAWN)
WORKING_STAGES = tuple(s for s in Stage.values if s not in TERMINAL_STATES)
# Stages whose completion is a credit decision: authority limits and the committee apply here.
DECISION_STAGES = (Stage.APPROVAL, Stage.LOAN_APPROVAL)
# Front-office stages worked by the customer's own account managers (A and B roles).
FRONT_OFFICE_STAGES = (Stage.APPLICATION, Stage.INVESTIGATION)


class OrgLevel(models.TextChoices):
    HEAD_OFFICE = "head_office", _("Head office")
    BRANCH = "branch", _("Branch")


class ReasonCode(models.TextChoices):
    INCOMPLETE_DOCUMENTS = "incomplete_documents", _("Incomplete documents")
    REPAYMENT_CAPACITY = "repayment_capacity", _("Insufficient repayment capacity")
    CREDIT_HISTORY = "credit_history", _("Poor credit history")
    POLICY = "policy", _("Credit policy (industry or customer category)")
    SECURITY = "security", _("Insufficient guarantee or collateral")
    EXPOSURE = "exposure", _("Exposure limit exceeded")
    COMMITTEE = "committee", _("Turned down by the loan committee")
    OTHER = "other", _("Other")


# --- configuration as data --------------------------------------------------------------------


class RoutingRuleSet(models.Model):
    """One version of the routing rules. Head office never edits a version: publishing creates
    the next one, and every case keeps the version (and rule) that chose its route."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    comment = models.CharField(_("what changed"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("routing rule set")
        verbose_name_plural = _("routing rule sets")

    def __str__(self) -> str:
        return f"v{self.version}"


class RoutingRule(models.Model):
    """An ordered rule: when every condition that is set holds, the application takes ``route``.
    Empty lists and empty values mean "any"."""

    class CustomerKind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individuals")
        CORPORATE = "corporate", _("Corporates")

    ruleset = models.ForeignKey(RoutingRuleSet, on_delete=models.PROTECT, related_name="rules")
    position = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("name"), max_length=100)
    route = models.CharField(_("route"), max_length=8, choices=RiskRoute.choices)
    product_codes = ArrayField(
        models.CharField(max_length=40), verbose_name=_("products"), default=list, blank=True
    )
    product_kinds = ArrayField(
        models.CharField(max_length=12),
        verbose_name=_("product kinds"),
        default=list,
        blank=True,
    )
    customer_kind = models.CharField(
        _("customer type"), max_length=12, choices=CustomerKind.choices, blank=True
    )
    amount_above = models.DecimalField(_("amount above"), null=True, blank=True, **MONEY)
    amount_up_to = models.DecimalField(_("amount up to"), null=True, blank=True, **MONEY)
    # "Microcredit within the rating tier": the amount lies in the product's tier for the
    # customer's credit rating (seed 001: 一般 ≤ ¥3,000, 较好 ≤ ¥5,000, 优秀 ≤ ¥10,000).
    within_rating_tier = models.BooleanField(_("within the rating tier"), null=True, blank=True)
    credit_ratings = ArrayField(
        models.CharField(max_length=10),
        verbose_name=_("credit ratings"),
        default=list,
        blank=True,
    )
    customer_classes = ArrayField(
        models.CharField(max_length=12),
        verbose_name=_("customer classes"),
        default=list,
        blank=True,
    )
    customer_categories = ArrayField(
        models.CharField(max_length=12),
        verbose_name=_("customer categories"),
        default=list,
        blank=True,
    )
    industry_categories = ArrayField(
        models.CharField(max_length=12),
        verbose_name=_("industry entry categories"),
        default=list,
        blank=True,
    )
    # Existing exposure (live loans' outstanding principal and other open applications) plus
    # this application.
    exposure_above = models.DecimalField(_("total exposure above"), null=True, blank=True, **MONEY)
    has_overdue_history = models.BooleanField(_("overdue history"), null=True, blank=True)

    # The list conditions hold other apps' codes (validated by the publishing service, not by
    # column choices, so relabelling a category there never needs a migration here).
    LIST_CONDITIONS = {
        "product_kinds": (_("Product kinds"), Product.Kind),
        "credit_ratings": (_("Credit ratings"), CreditRating),
        "customer_classes": (_("Customer classes"), CustomerClass),
        "customer_categories": (_("Customer categories"), CustomerCategory),
        "industry_categories": (_("Industry entry categories"), IndustryEntryCategory),
    }

    class Meta:
        ordering = ["ruleset", "position"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(fields=["ruleset", "position"], name="routing_rule_position")
        ]

    def __str__(self) -> str:
        return self.name

    def conditions(self) -> list[tuple[str, str]]:
        """(label, value) for every condition the rule sets, for display."""
        from coop.money import format_yuan

        shown: list[tuple[str, str]] = []
        if self.customer_kind:
            shown.append((str(_("Customer type")), self.get_customer_kind_display()))
        if self.product_codes:
            shown.append((str(_("Products")), ", ".join(self.product_codes)))
        for field, (label, choices) in self.LIST_CONDITIONS.items():
            values = getattr(self, field)
            if values:
                labels = dict(choices.choices)
                shown.append((str(label), ", ".join(str(labels.get(v, v)) for v in values)))
        for field, label in (
            ("amount_above", _("Amount above")),
            ("amount_up_to", _("Amount up to")),
            ("exposure_above", _("Total exposure above")),
        ):
            if getattr(self, field) is not None:
                shown.append((str(label), format_yuan(getattr(self, field))))
        for field, label in (
            ("within_rating_tier", _("Within the rating tier")),
            ("has_overdue_history", _("Overdue history")),
        ):
            value = getattr(self, field)
            if value is not None:
                shown.append((str(label), str(_("yes") if value else _("no"))))
        return shown


class StageAuthority(models.Model):
    """Who works a stage: a role at an org level, up to an amount (``None`` = no limit). At the
    decision stages the amount is the approval authority; the loan committee's row means the
    committee decides collectively in a meeting, never one member alone."""

    stage = models.CharField(
        _("stage"), max_length=30, choices=[(s, Stage(s).label) for s in WORKING_STAGES]
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    org_level = models.CharField(_("org level"), max_length=12, choices=OrgLevel.choices)
    max_amount = models.DecimalField(_("up to"), null=True, blank=True, **MONEY)

    class Meta:
        ordering = ["stage", "org_level", "role"]
        verbose_name = _("stage authority")
        verbose_name_plural = _("stage authorities")
        constraints = [
            models.UniqueConstraint(fields=["stage", "role", "org_level"], name="stage_authority")
        ]


class StageSLA(models.Model):
    """The target time for a stage, in working hours counted as clock hours."""

    stage = models.CharField(
        _("stage"),
        max_length=30,
        unique=True,
        choices=[(s, Stage(s).label) for s in WORKING_STAGES],
    )
    target_hours = models.PositiveIntegerField(
        _("target (hours)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 90)]
    )

    class Meta:
        ordering = ["stage"]
        verbose_name = _("stage time target")
        verbose_name_plural = _("stage time targets")


class CommitteePolicy(models.Model):
    """One row: how many members make a quorum and what share of the votes passes a case."""

    quorum = models.PositiveSmallIntegerField(
        _("members present for a quorum"), default=5, validators=[MinValueValidator(1)]
    )
    majority_numerator = models.PositiveSmallIntegerField(default=2)
    majority_denominator = models.PositiveSmallIntegerField(default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("committee policy")
        verbose_name_plural = _("committee policy")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    majority_numerator__gte=1,
                    majority_denominator__gte=models.F("majority_numerator"),
                ),
                name="committee_majority_is_a_fraction",
            )
        ]


# --- the case ---------------------------------------------------------------------------------


def on_low_route(case: ApprovalCase) -> bool:
    return case.route == RiskRoute.LOW


def on_medium_route(case: ApprovalCase) -> bool:
    return case.route == RiskRoute.MEDIUM


def on_high_route(case: ApprovalCase) -> bool:
    return case.route == RiskRoute.HIGH


def stage_on_route(case: ApprovalCase) -> bool:
    return case.state in ROUTE_STAGES[case.route]


def investigation_signed_by_both(case: ApprovalCase) -> bool:
    """双人调查: the A-role and the B-role manager have both signed this round."""
    parts = set(
        case.signatures.filter(round=case.investigation_round).values_list("part", flat=True)
    )
    return parts == {InvestigationSignature.Part.A, InvestigationSignature.Part.B}


def committee_not_sitting(case: ApprovalCase) -> bool:
    """While a committee meeting on the case is open, no single officer decides it."""
    return not case.meetings.filter(status=CommitteeMeeting.Status.OPEN).exists()


def _may(name: str):
    """django-fsm permission hook: the same answer as ``risk.policy.check`` (role, authority
    limit, segregation of duties, scope), so ``has_transition_perm`` and the services agree."""

    def hook(case: ApprovalCase, user) -> bool:
        from risk.policy import check

        return check(case, user, name).allowed

    hook.__name__ = f"may_{name}"
    return hook


may_advance = _may("advance")
may_return = _may("return_for_information")
may_reject = _may("reject")
may_withdraw = _may("withdraw")


S = Stage


class ApprovalCase(ConcurrentTransitionMixin, models.Model):
    application = models.OneToOneField(
        LoanApplication, on_delete=models.PROTECT, related_name="approval_case"
    )
    # Copies taken when the case opens: scoping, queues and statistics filter on them without
    # joining through the application.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    route = models.CharField(_("route"), max_length=8, choices=RiskRoute.choices)
    state = FSMField(
        _("stage"), default=Stage.APPLICATION, choices=Stage.choices, protected=True, db_index=True
    )
    ruleset = models.ForeignKey(
        RoutingRuleSet, verbose_name=_("rule version"), on_delete=models.PROTECT, related_name="+"
    )
    # Null when no rule matched and the product's default route applied.
    rule = models.ForeignKey(
        RoutingRule,
        verbose_name=_("routing rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    routing_facts = models.JSONField(_("routing facts"), default=dict)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"))
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    stage_due_at = models.DateTimeField(_("stage due"), null=True, blank=True)
    # Who completed the stage that led into the current one (two people after the A/B
    # investigation): none of them may complete the current stage.
    previous_stage_by = ArrayField(models.BigIntegerField(), default=list, blank=True)
    investigation_round = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["stage_entered_at", "id"]
        verbose_name = _("approval case")
        verbose_name_plural = _("approval cases")
        permissions = [
            ("open_case", _("Can submit applications for approval")),
            ("work_case", _("Can work approval stages")),
            ("manage_committee", _("Can convene and close committee meetings")),
            ("vote_committee", _("Can vote in the loan committee")),
            ("view_approval_stats", _("Can see approval timing statistics")),
            ("manage_routing", _("Can edit routing rules, authority limits and time targets")),
        ]
        indexes = [
            models.Index(fields=["state", "stage_entered_at"], name="case_state_entered"),
            models.Index(fields=["branch", "state"], name="case_branch_state"),
            models.Index(fields=["customer"], name="case_customer"),
            # The "all cases" list and the API walk cases newest first.
            models.Index(fields=["-opened_at", "-id"], name="case_opened"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="case_amount_positive")
        ]

    def __str__(self) -> str:
        return self.application.number

    @property
    def stages(self) -> tuple[str, ...]:
        return ROUTE_STAGES[self.route]

    @property
    def is_closed(self) -> bool:
        return self.state in TERMINAL_STATES

    # advance: the next stage of the case's own route; after the last one, approved.
    @transition(
        state,
        source=S.APPLICATION,
        target=S.CREDIT_GRANTING,
        conditions=[on_low_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.CREDIT_GRANTING,
        target=S.APPROVAL,
        conditions=[on_low_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.APPROVAL,
        target=S.APPROVED,
        conditions=[on_low_route, committee_not_sitting],
        permission=may_advance,
    )
    def advance_low(self) -> None:
        pass

    @transition(
        state,
        source=S.APPLICATION,
        target=S.REVIEW,
        conditions=[on_medium_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.REVIEW,
        target=S.CREDIT_GRANTING,
        conditions=[on_medium_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.CREDIT_GRANTING,
        target=S.APPROVAL,
        conditions=[on_medium_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.APPROVAL,
        target=S.APPROVED,
        conditions=[on_medium_route, committee_not_sitting],
        permission=may_advance,
    )
    def advance_medium(self) -> None:
        pass

    @transition(
        state,
        source=S.APPLICATION,
        target=S.ACCEPTANCE_REVIEW,
        conditions=[on_high_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.ACCEPTANCE_REVIEW,
        target=S.INVESTIGATION,
        conditions=[on_high_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.INVESTIGATION,
        target=S.CREDIT_REVIEW,
        conditions=[on_high_route, investigation_signed_by_both],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.CREDIT_REVIEW,
        target=S.LOAN_APPROVAL,
        conditions=[on_high_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.LOAN_APPROVAL,
        target=S.CONTRACT_REVIEW,
        conditions=[on_high_route, committee_not_sitting],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.CONTRACT_REVIEW,
        target=S.PAYMENT_CONDITION_REVIEW,
        conditions=[on_high_route],
        permission=may_advance,
    )
    @transition(
        state,
        source=S.PAYMENT_CONDITION_REVIEW,
        target=S.APPROVED,
        conditions=[on_high_route],
        permission=may_advance,
    )
    def advance_high(self) -> None:
        pass

    # return for information: back to the previous stage of the route.
    @transition(
        state,
        source=S.CREDIT_GRANTING,
        target=S.APPLICATION,
        conditions=[on_low_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.APPROVAL,
        target=S.CREDIT_GRANTING,
        conditions=[on_low_route, committee_not_sitting],
        permission=may_return,
    )
    def return_low(self) -> None:
        pass

    @transition(
        state,
        source=S.REVIEW,
        target=S.APPLICATION,
        conditions=[on_medium_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.CREDIT_GRANTING,
        target=S.REVIEW,
        conditions=[on_medium_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.APPROVAL,
        target=S.CREDIT_GRANTING,
        conditions=[on_medium_route, committee_not_sitting],
        permission=may_return,
    )
    def return_medium(self) -> None:
        pass

    @transition(
        state,
        source=S.ACCEPTANCE_REVIEW,
        target=S.APPLICATION,
        conditions=[on_high_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.INVESTIGATION,
        target=S.ACCEPTANCE_REVIEW,
        conditions=[on_high_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.CREDIT_REVIEW,
        target=S.INVESTIGATION,
        conditions=[on_high_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.LOAN_APPROVAL,
        target=S.CREDIT_REVIEW,
        conditions=[on_high_route, committee_not_sitting],
        permission=may_return,
    )
    @transition(
        state,
        source=S.CONTRACT_REVIEW,
        target=S.LOAN_APPROVAL,
        conditions=[on_high_route],
        permission=may_return,
    )
    @transition(
        state,
        source=S.PAYMENT_CONDITION_REVIEW,
        target=S.CONTRACT_REVIEW,
        conditions=[on_high_route],
        permission=may_return,
    )
    def return_high(self) -> None:
        pass

    # reject: from any stage after the application (the applicant's side withdraws instead).
    @transition(
        state,
        source=[s for s in WORKING_STAGES if s != S.APPLICATION],
        target=S.REJECTED,
        conditions=[stage_on_route, committee_not_sitting],
        permission=may_reject,
    )
    def reject(self) -> None:
        pass

    @transition(
        state,
        source=list(WORKING_STAGES),
        target=S.WITHDRAWN,
        conditions=[stage_on_route],
        permission=may_withdraw,
    )
    def withdraw(self) -> None:
        pass


class ApprovalLog(models.Model):
    """Append-only (a database trigger refuses UPDATE and DELETE): one row per transition, with
    the time the case spent in the stage it left."""

    case = models.ForeignKey(ApprovalCase, on_delete=models.PROTECT, related_name="log")
    from_state = models.CharField(_("from"), max_length=30, choices=Stage.choices)
    to_state = models.CharField(_("to"), max_length=30, choices=Stage.choices)
    transition = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("as"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("time"), db_index=True)
    comment = models.TextField(_("comment"), blank=True)
    reason_code = models.CharField(
        _("reason"), max_length=30, choices=ReasonCode.choices, blank=True
    )
    stage_entered_at = models.DateTimeField()
    seconds_in_stage = models.PositiveBigIntegerField(_("time in stage (s)"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("approval log entry")
        verbose_name_plural = _("approval log")
        indexes = [
            models.Index(fields=["case", "created_at"], name="approvallog_case"),
            models.Index(fields=["from_state", "created_at"], name="approvallog_stage"),
        ]


class InvestigationSignature(models.Model):
    """双人调查: the A-role (owner) and B-role manager each sign their part of the pre-loan
    investigation, and by signing second each confirms the other's. A return to the
    investigation stage starts a new round."""

    class Part(models.TextChoices):
        A = "A", _("A role")
        B = "B", _("B role")

    case = models.ForeignKey(ApprovalCase, on_delete=models.PROTECT, related_name="signatures")
    round = models.PositiveSmallIntegerField()
    part = models.CharField(_("part"), max_length=1, choices=Part.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("findings"))
    signed_at = models.DateTimeField(_("signed"))

    class Meta:
        ordering = ["round", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round", "part"], name="signature_once"),
            models.UniqueConstraint(
                fields=["case", "round", "signer"], name="signature_one_part_per_signer"
            ),
        ]


class CommitteeMeeting(models.Model):
    """贷审会 on one case. Votes stay secret until the meeting closes; closing passes or rejects
    the case through the workflow services."""

    class Status(models.TextChoices):
        OPEN = "open", _("Voting open")
        CLOSED = "closed", _("Meeting closed")
        CANCELLED = "cancelled", _("Meeting cancelled")

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Not passed")
        NO_QUORUM = "no_quorum", _("No quorum")

    case = models.ForeignKey(ApprovalCase, on_delete=models.PROTECT, related_name="meetings")
    stage = models.CharField(max_length=30, choices=Stage.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    # The policy as it stood when the meeting was convened.
    quorum = models.PositiveSmallIntegerField(_("quorum"))
    majority_numerator = models.PositiveSmallIntegerField()
    majority_denominator = models.PositiveSmallIntegerField()
    convened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    convened_at = models.DateTimeField(_("convened"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    votes_for = models.PositiveSmallIntegerField(default=0)
    votes_against = models.PositiveSmallIntegerField(default=0)
    abstentions = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-convened_at", "-id"]
        verbose_name = _("committee meeting")
        verbose_name_plural = _("committee meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="open"),
                name="meeting_one_open_per_case",
            )
        ]


class CommitteeVote(models.Model):
    class Vote(models.TextChoices):
        APPROVE = "approve", _("In favour")
        REJECT = "reject", _("Against")
        ABSTAIN = "abstain", _("Abstain")

    meeting = models.ForeignKey(CommitteeMeeting, on_delete=models.PROTECT, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    vote = models.CharField(_("vote"), max_length=10, choices=Vote.choices)
    comment = models.TextField(_("comment"), blank=True)
    cast_at = models.DateTimeField(_("cast"))

    class Meta:
        ordering = ["cast_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="vote_once_per_member")
        ]


class Escalation(models.Model):
    """A stage that passed its SLA target, written once by the beat sweep."""

    case = models.ForeignKey(ApprovalCase, on_delete=models.PROTECT, related_name="escalations")
    stage = models.CharField(max_length=30, choices=Stage.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "stage", "due_at"], name="escalation_once")
        ]


# --- post-loan inspections (贷后检查) and early warnings (预警) ----------------------------------


class InspectionRule(models.Model):
    """Seed 003's post-loan inspection rule, as data (one row, head office may change it).

    A loan of ``amount_threshold`` or less (the drawn principal) is first inspected within
    ``first_months_small`` calendar months of its disbursement; above the threshold within
    ``first_days_large`` days; after that every ``routine_months`` months until it is settled.

    Dates are Asia/Shanghai calendar dates. "Within one month" is a calendar month with the day
    clamped to the end of a shorter month (2025-01-31 + 1 month = 2025-02-28, the same as
    PostgreSQL's ``date + interval '1 month'``), so the deadline is never later than the same day
    of the next month and the set-based planning SQL and the Python services agree. The next
    routine inspection counts from the day the previous one was completed (not from its due
    date): the gap between two actual visits is then never more than six months when the
    manager is on time, and a late visit does not leave the next one due almost at once.
    """

    amount_threshold = models.DecimalField(
        _("amount threshold"), default=Decimal("100000.00"), **MONEY
    )
    first_months_small = models.PositiveSmallIntegerField(
        _("first inspection within (months) up to the threshold"),
        default=1,
        validators=[MinValueValidator(1)],
    )
    first_days_large = models.PositiveSmallIntegerField(
        _("first inspection within (days) above the threshold"),
        default=7,
        validators=[MinValueValidator(1)],
    )
    routine_months = models.PositiveSmallIntegerField(
        _("routine inspection every (months)"), default=6, validators=[MinValueValidator(1)]
    )
    overdue_days_for_ad_hoc = models.PositiveSmallIntegerField(
        _("ad-hoc inspection when days past due exceed"), default=30
    )
    ad_hoc_due_days = models.PositiveSmallIntegerField(
        _("ad-hoc inspection due within (days)"), default=7, validators=[MinValueValidator(1)]
    )
    branch_grace_days = models.PositiveSmallIntegerField(
        _("escalate to the branch manager after (days overdue)"),
        default=7,
        validators=[MinValueValidator(1)],
    )
    head_office_grace_days = models.PositiveSmallIntegerField(
        _("escalate to head-office risk after (days overdue)"),
        default=30,
        validators=[MinValueValidator(1)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inspection rule")
        verbose_name_plural = _("inspection rule")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(head_office_grace_days__gt=models.F("branch_grace_days")),
                name="inspection_rule_grace_order",
            )
        ]


class InspectionKind(models.TextChoices):
    FIRST = "first", _("First inspection")
    ROUTINE = "routine", _("Routine inspection")
    AD_HOC = "ad_hoc", _("Ad-hoc inspection")


class InspectionStatus(models.TextChoices):
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled (loan closed)")


OPEN_INSPECTION_STATES = (InspectionStatus.DUE, InspectionStatus.OVERDUE)


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("Not escalated")
    ACCOUNT_MANAGER = 1, _("Account manager notified")
    BRANCH_MANAGER = 2, _("Escalated to the branch manager")
    HEAD_OFFICE = 3, _("Escalated to head-office risk")


class FundsUse(models.TextChoices):
    MATCHES = "matches", _("Matches the stated purpose")
    PARTLY = "partly", _("Partly used for the stated purpose")
    DIVERTED = "diverted", _("Diverted from the stated purpose")


class Conclusion(models.TextChoices):
    NORMAL = "normal", _("Normal")
    ATTENTION = "attention", _("Needs attention")
    RISK = "risk", _("Risk")


class RiskSignal(models.TextChoices):
    INCOME_FELL = "income_fell", _("Income fell")
    FUNDS_DIVERTED = "funds_diverted", _("Funds diverted")
    GUARANTOR_LOST_CAPACITY = "guarantor_lost_capacity", _("Guarantor lost capacity")
    COLLATERAL_VALUE_FELL = "collateral_value_fell", _("Collateral value fell")
    BORROWER_UNREACHABLE = "borrower_unreachable", _("Borrower unreachable")
    OTHER_DEBTS_OVERDUE = "other_debts_overdue", _("Other debts overdue")
    BUSINESS_STOPPED = "business_stopped", _("Business stopped")
    LAWSUIT = "lawsuit", _("Lawsuit or enforcement")
    FAMILY_EVENT = "family_event", _("Major illness or family event")


class Inspection(ConcurrentTransitionMixin, models.Model):
    """One post-loan inspection of one loan: planned (due), overdue, completed or cancelled.

    ``customer`` and ``branch`` are copied from the loan when it is planned, so scoping, the
    compliance view and the sweeps filter without joining through the loan.
    """

    class Reason(models.TextChoices):
        SCHEDULE = "schedule", _("Inspection rule")
        LOAN_OVERDUE = "loan_overdue", _("Loan overdue")
        EARLY_WARNING = "early_warning", _("Early warning")

    loan = models.ForeignKey(
        "loans.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="inspections"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InspectionKind.choices)
    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, default=Reason.SCHEDULE
    )
    status = FSMField(
        _("status"),
        default=InspectionStatus.DUE,
        choices=InspectionStatus.choices,
        protected=True,
    )
    due_on = models.DateField(_("due on"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    created_at = models.DateTimeField(_("planned"), default=timezone.now)
    completed_at = models.DateTimeField(_("recorded"), null=True, blank=True)
    # The day of the visit (Asia/Shanghai; today unless recorded later): on time means
    # completed_on <= due_on. ``completed_at`` is when it was recorded.
    completed_on = models.DateField(_("inspected on"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The form (贷后检查表)
    funds_use = models.CharField(
        _("actual use of funds"), max_length=10, choices=FundsUse.choices, blank=True
    )
    funds_use_note = models.TextField(_("use of funds: what was found"), blank=True)
    operation_note = models.TextField(_("borrower's operation and income"), blank=True)
    guarantor_note = models.TextField(_("guarantor status"), blank=True)
    collateral_note = models.TextField(_("collateral status"), blank=True)
    signals = ArrayField(
        models.CharField(max_length=30, choices=RiskSignal.choices),
        verbose_name=_("risk signals"),
        default=list,
        blank=True,
    )
    conclusion = models.CharField(
        _("conclusion"), max_length=10, choices=Conclusion.choices, blank=True
    )
    next_action = models.TextField(_("next action"), blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("post-loan inspection")
        verbose_name_plural = _("post-loan inspections")
        permissions = [
            ("complete_inspection", _("Can complete post-loan inspections")),
            ("view_inspection_compliance", _("Can see post-loan inspection compliance")),
        ]
        indexes = [
            models.Index(fields=["assigned_to", "status", "due_on"], name="inspection_assignee"),
            models.Index(fields=["branch", "due_on"], name="inspection_branch_due"),
            models.Index(fields=["loan", "kind"], name="inspection_loan_kind"),
            models.Index(
                fields=["due_on"],
                name="inspection_open_due",
                condition=models.Q(status__in=["due", "overdue"]),
            ),
            # The open list's order (overdue, then due, each by due date), 50 rows at a time.
            models.Index(
                fields=["-status", "due_on", "id"],
                name="inspection_open_order",
                condition=models.Q(status__in=["due", "overdue"]),
            ),
        ]
        constraints = [
            # Never two open inspections of one kind for a loan (sweeps insert ON CONFLICT DO
            # NOTHING against these), and one open scheduled (first/routine) at a time.
            models.UniqueConstraint(
                fields=["loan", "kind"],
                condition=models.Q(status__in=["due", "overdue"]),
                name="inspection_one_open_per_kind",
            ),
            models.UniqueConstraint(
                fields=["loan"],
                condition=models.Q(status__in=["due", "overdue"], kind__in=["first", "routine"]),
                name="inspection_one_open_scheduled",
            ),
            models.UniqueConstraint(
                fields=["loan"], condition=models.Q(kind="first"), name="inspection_first_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="completed")
                | models.Q(completed_at__isnull=False, completed_on__isnull=False),
                name="inspection_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INSPECTION_STATES

    @property
    def signal_labels(self) -> list[str]:
        labels = dict(RiskSignal.choices)
        return [str(labels.get(code, code)) for code in self.signals]

    @transition(status, source=InspectionStatus.DUE, target=InspectionStatus.OVERDUE)
    def mark_overdue(self) -> None:
        pass

    @transition(status, source=list(OPEN_INSPECTION_STATES), target=InspectionStatus.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(status, source=list(OPEN_INSPECTION_STATES), target=InspectionStatus.CANCELLED)
    def cancel(self) -> None:
        pass


def inspection_upload_to(instance: InspectionAttachment, filename: str) -> str:
    # The stored name never carries what the user typed (it may hold a name or an ID number).
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"inspections/{instance.inspection_id}/{uuid.uuid4().hex}{suffix}"


class InspectionAttachment(models.Model):
    """A photo (from the tablet camera) or document attached when completing an inspection.
    Served only through the scoped download view, never from a public media URL."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=inspection_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("inspection attachment")
        verbose_name_plural = _("inspection attachments")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class InspectionNotice(models.Model):
    """One notification per overdue inspection and level, written once by the sweep: the account
    manager when it turns overdue, the branch manager after the grace period, head-office risk
    after the longer one. ``recipient`` is the account manager; the other levels go to an org
    unit (the loan's branch, the head office) and its managers / risk officers see them there."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="notices")
    level = models.PositiveSmallIntegerField(_("level"), choices=EscalationLevel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    days_overdue = models.PositiveIntegerField(_("days overdue"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        ordering = ["inspection", "level"]
        verbose_name = _("inspection notice")
        verbose_name_plural = _("inspection notices")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "level"], name="inspection_notice_once")
        ]


class EarlyWarningStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class EarlyWarning(ConcurrentTransitionMixin, models.Model):
    """预警: raised by an inspection concluded "risk" (in the completing transaction). Risk
    officers of the scope acknowledge it, order an ad-hoc inspection, turn it into a
    classification review (a proposal a second person decides, loans' override service) and
    close it; the warning keeps links to what it created."""

    loan = models.ForeignKey(
        "loans.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    inspection = models.OneToOneField(
        Inspection,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="early_warning",
    )
    signals = ArrayField(
        models.CharField(max_length=30, choices=RiskSignal.choices),
        verbose_name=_("risk signals"),
        default=list,
        blank=True,
    )
    summary = models.TextField(_("summary"), blank=True)
    status = FSMField(
        _("status"),
        default=EarlyWarningStatus.OPEN,
        choices=EarlyWarningStatus.choices,
        protected=True,
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_comment = models.TextField(_("closing comment"), blank=True)
    classification_review = models.OneToOneField(
        "loans.ClassificationOverride",
        verbose_name=_("classification review"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="early_warning",
    )
    ad_hoc_inspection = models.OneToOneField(
        Inspection,
        verbose_name=_("ad-hoc inspection"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ordered_by_warning",
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        permissions = [("handle_earlywarning", _("Can acknowledge, review and close warnings"))]
        indexes = [
            models.Index(fields=["branch", "status"], name="warning_branch_status"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.get_status_display()}"

    @property
    def signal_labels(self) -> list[str]:
        labels = dict(RiskSignal.choices)
        return [str(labels.get(code, code)) for code in self.signals]

    @property
    def is_closed(self) -> bool:
        return self.status == EarlyWarningStatus.CLOSED

    @transition(status, source=EarlyWarningStatus.OPEN, target=EarlyWarningStatus.ACKNOWLEDGED)
    def acknowledge(self) -> None:
        pass

    @transition(
        status,
        source=[EarlyWarningStatus.OPEN, EarlyWarningStatus.ACKNOWLEDGED],
        target=EarlyWarningStatus.CLOSED,
    )
    def close(self) -> None:
        pass
