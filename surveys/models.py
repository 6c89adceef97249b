"""Satisfaction surveys (seed 002): indicator frameworks, campaigns, invitations, responses, the
improvement loop (PDCA) and process feedback.

A framework is versioned: a campaign points at one framework row, and a framework that a campaign
uses is never edited (a change is a new version), so a campaign's questions are frozen.
Breakdown attributes (branch, grid, loan stage, customer type) are copied onto the invitation
when it is created: results describe the customer as they were when asked.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from coop.models import OrgUnit
from customers.models import Customer

# The seed's 5-point scale for both questions (非常 … 不).
SCALE = [
    (5, _("5 · very")),
    (4, _("4 · quite")),
    (3, _("3 · neutral")),
    (2, _("2 · a little")),
    (1, _("1 · not at all")),
]


class LoanStage(models.TextChoices):
    """Seed 002, "process coverage": pre-loan, in-loan, post-loan."""

    PRE_LOAN = "pre_loan", _("Pre-loan")
    IN_LOAN = "in_loan", _("In-loan")
    POST_LOAN = "post_loan", _("Post-loan")
    NONE = "none", _("No loan")


class CustomerType(models.TextChoices):
    """Seed 002, "object coverage": depositors and borrowers, fixed-asset and working-capital."""

    DEPOSITOR = "depositor", _("Depositor")
    FIXED_ASSET = "fixed_asset", _("Fixed-asset loan borrower")
    WORKING_CAPITAL = "working_capital", _("Working-capital loan borrower")


class RespondentRole(models.TextChoices):
    """Who answers for the customer: the person, or a corporate's legal representative or finance
    contact (seed 002 asks for both)."""

    INDIVIDUAL = "individual", _("The customer")
    LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
    FINANCE_CONTACT = "finance_contact", _("Finance contact")


class Framework(models.Model):
    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("indicator framework")
        verbose_name_plural = _("indicator frameworks")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="survey_framework_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Indicator(models.Model):
    """A first-level indicator (no parent) or a second-level one (asked in the questionnaire)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["framework", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="survey_indicator_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def label(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class AnonymityLevel(models.TextChoices):
    """Who sees which customer gave a response; everybody else sees it without the respondent."""

    BRANCH = "branch", _("Branch managers and head office")
    HEAD_OFFICE = "head_office", _("Head-office management only")


class Campaign(ConcurrentTransitionMixin, models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")
        ONE_OFF = "one_off", _("One-off")

    name = models.CharField(_("name"), max_length=120)
    framework = models.ForeignKey(
        Framework, verbose_name=_("framework"), on_delete=models.PROTECT, related_name="campaigns"
    )
    # The unit that runs the campaign: a branch, or the head office for a bank-wide one.
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("run by"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("period"), max_length=10, choices=Period.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    target_branches = models.ManyToManyField(
        OrgUnit, verbose_name=_("branches"), blank=True, related_name="+"
    )
    target_grids = models.ManyToManyField(
        "grid.Grid", verbose_name=_("grids"), blank=True, related_name="+"
    )
    loan_stages = ArrayField(
        models.CharField(max_length=12, choices=LoanStage.choices),
        verbose_name=_("loan stages"),
        default=list,
        blank=True,
    )
    customer_types = ArrayField(
        models.CharField(max_length=16, choices=CustomerType.choices),
        verbose_name=_("customer types"),
        default=list,
        blank=True,
    )
    respondent_roles = ArrayField(
        models.CharField(max_length=24, choices=RespondentRole.choices),
        verbose_name=_("corporate respondents"),
        default=list,
        blank=True,
    )
    exclude_straight_lining = models.BooleanField(
        _("exclude straight-lining responses"), default=True
    )
    anonymity = models.CharField(
        _("respondent visible to"),
        max_length=12,
        choices=AnonymityLevel.choices,
        default=AnonymityLevel.HEAD_OFFICE,
    )
    reminder_after_days = models.PositiveSmallIntegerField(_("remind after (days)"), default=7)
    state = FSMField(
        _("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-starts_on", "-id"]
        permissions = [
            ("manage_campaign", _("Can create, open and close survey campaigns")),
            ("enter_response", _("Can enter survey responses")),
            ("import_responses", _("Can import paper questionnaires")),
            ("view_analysis", _("Can see survey analysis and export it")),
        ]

    def __str__(self) -> str:
        return self.name

    @transition(field=state, source=State.DRAFT, target=State.OPEN)
    def open(self) -> None:
        pass

    @transition(field=state, source=State.OPEN, target=State.CLOSED)
    def close(self) -> None:
        pass


class Invitation(models.Model):
    """One customer asked once in a campaign; the token is the personal link (no login)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    respondent_role = models.CharField(
        _("respondent"),
        max_length=24,
        choices=RespondentRole.choices,
        default=RespondentRole.INDIVIDUAL,
    )
    # Printed on a paper questionnaire and used as the ``respondent`` column of an import.
    reference = models.CharField(_("reference"), max_length=20)
    token = models.CharField(max_length=64, unique=True, editable=False)
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(
        "grid.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loan_stage = models.CharField(_("loan stage"), max_length=12, choices=LoanStage.choices)
    customer_type = models.CharField(
        _("customer type"), max_length=16, choices=CustomerType.choices
    )
    sent_at = models.DateTimeField(_("sent"))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["campaign", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "respondent_role"], name="survey_invite_once"
            ),
            models.UniqueConstraint(fields=["campaign", "reference"], name="survey_invite_ref"),
        ]
        indexes = [models.Index(fields=["campaign", "branch"], name="survey_invite_branch")]

    def __str__(self) -> str:
        return self.reference


class Reminder(models.Model):
    """A reminder due for an unanswered invitation, written by the sweep (one row per round)."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="reminders")
    number = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invitation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["invitation", "number"], name="survey_reminder_once")
        ]


class Response(models.Model):
    class Channel(models.TextChoices):
        VISIT = "visit", _("Visit (tablet)")
        LINK = "link", _("Personal link or QR code")
        PAPER = "paper", _("Paper questionnaire")
        API = "api", _("API")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    # One response per invitation; the database refuses a second one even under a race.
    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="response")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    is_complete = models.BooleanField(_("complete"))
    is_straight_line = models.BooleanField(_("straight-lining"))
    is_valid = models.BooleanField(_("valid"), db_index=True)
    comment = models.TextField(_("comments"), blank=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.invitation_id}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    importance = models.PositiveSmallIntegerField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "indicator"], name="survey_answer_once"),
            models.CheckConstraint(
                condition=models.Q(importance__gte=1, importance__lte=5)
                | models.Q(importance__isnull=True),
                name="survey_importance_scale",
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__gte=1, satisfaction__lte=5)
                | models.Q(satisfaction__isnull=True),
                name="survey_satisfaction_scale",
            ),
        ]
        indexes = [models.Index(fields=["indicator", "response"], name="survey_answer_ind")]


class ImprovementItem(ConcurrentTransitionMixin, models.Model):
    """An entry of the problem ledger (问题台账), worked through the PDCA cycle."""

    class State(models.TextChoices):
        PLAN = "plan", _("Plan")
        DO = "do", _("Do")
        CHECK = "check", _("Check")
        ACT = "act", _("Act")
        CLOSED = "closed", _("Closed")

    class Level(models.TextChoices):
        SAME_LEVEL = "same_level", _("Same-level response")
        ESCALATED = "escalated", _("Escalated supervision")

    title = models.CharField(_("problem"), max_length=200)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="improvements"
    )
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="survey_improvements",
    )
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    finding = models.TextField(_("finding"), blank=True)
    plan = models.TextField(_("plan"))
    due_on = models.DateField(_("due"), db_index=True)
    state = FSMField(
        _("state"), default=State.PLAN, choices=State.choices, protected=True, db_index=True
    )
    notes = models.TextField(_("progress notes"), blank=True)
    # The indicator's satisfaction mean when the item was opened, to show whether it moved.
    baseline_satisfaction = models.DecimalField(
        _("satisfaction when opened"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("improvement item")
        verbose_name_plural = _("improvement items")
        ordering = ["due_on", "id"]
        permissions = [("manage_improvement", _("Can open and advance improvement items"))]

    def __str__(self) -> str:
        return self.title

    @transition(field=state, source=State.PLAN, target=State.DO)
    def start(self) -> None:
        pass

    @transition(field=state, source=State.DO, target=State.CHECK)
    def verify(self) -> None:
        pass

    @transition(field=state, source=State.CHECK, target=State.ACT)
    def act(self) -> None:
        pass

    # A check that shows no effect sends the item back to planning: the next PDCA turn.
    @transition(field=state, source=State.CHECK, target=State.PLAN)
    def replan(self) -> None:
        pass

    @transition(field=state, source=State.ACT, target=State.CLOSED)
    def close(self) -> None:
        pass


class ProcessFeedback(models.Model):
    """The "green channel" (seed 002): a process defect reported to the head-office owner."""

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Customer comment")
        STAFF = "staff", _("Staff observation")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")

    process = models.CharField(_("process"), max_length=100)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    text = models.TextField(_("feedback"))
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    routed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("head-office owner"),
        on_delete=models.PROTECT,
        related_name="survey_feedback",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("process feedback")
        verbose_name_plural = _("process feedback")
        ordering = ["-created_at", "-id"]


class ProcessOwner(models.Model):
    """Which head-office staff member answers feedback on a named process."""

    process = models.CharField(_("process"), max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("process owner")
        verbose_name_plural = _("process owners")
        ordering = ["process"]

    def __str__(self) -> str:
        return self.process
