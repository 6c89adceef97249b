"""Customer files, segmentation and grading, contact and counter service, complaints.

Personal data (ID and mobile numbers) is stored once, on the customer row, and shown masked
unless the viewer holds ``coop.view_full_personal_data`` (each full view is logged in
``PersonalDataAccess``). The household a person belongs to is recorded by the grid app
(``grid.HouseholdMember.customer``), which depends on this app and not the other way round.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from coop.models import OrgUnit


class CustomerClass(models.TextChoices):
    """Seed 002: by duty importance, value, closeness of cooperation and risk."""

    STRATEGIC = "strategic", _("Strategic cooperation customer")
    PARTNER = "partner", _("Partner customer")
    MAINTENANCE = "maintenance", _("Maintenance customer")


class ManagingLevel(models.TextChoices):
    HEAD_OFFICE = "head_office", _("Managed by head office")
    BRANCH = "branch", _("Managed by the branch")


class IndustryCategory(models.TextChoices):
    GUARANTEED = "guaranteed", _("Guaranteed entry")
    KEY = "key", _("Key entry")
    MODERATE = "moderate", _("Moderate entry")
    CAUTIOUS = "cautious", _("Cautious entry")


class CustomerCategory(models.TextChoices):
    KEY = "key", _("Key category")
    MODERATE = "moderate", _("Moderate category")
    CAUTIOUS = "cautious", _("Cautious category")
    EXIT = "exit", _("Exit category")


class Occupation(models.TextChoices):
    FARMER = "farmer", _("Farmer")
    BREEDER = "breeder", _("Breeder")
    MERCHANT = "merchant", _("Merchant / self-employed")
    MIGRANT_WORKER = "migrant_worker", _("Migrant worker")
    SALARIED = "salaried", _("Salaried employee")
    CIVIL_SERVANT = "civil_servant", _("Civil servant / teacher")
    STUDENT = "student", _("Student")
    RETIRED = "retired", _("Retired")
    OTHER = "other", _("Other")


class Workplace(models.TextChoices):
    HOME = "home", _("In the home village")
    AWAY = "away", _("Working away from home")


class IncomeBand(models.TextChoices):
    BELOW_20K = "lt20k", _("Below ¥20,000 a year")
    FROM_20K = "20k_50k", _("¥20,000–50,000 a year")
    FROM_50K = "50k_100k", _("¥50,000–100,000 a year")
    FROM_100K = "100k_300k", _("¥100,000–300,000 a year")
    ABOVE_300K = "gt300k", _("Above ¥300,000 a year")


class CreditRating(models.TextChoices):
    """Farmer credit rating (seed 000/001 tiers); set by whole-village evaluation or review."""

    GENERAL = "general", _("General")
    GOOD = "good", _("Good")
    EXCELLENT = "excellent", _("Excellent")


class Customer(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        CORPORATE = "corporate", _("Corporate")

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    kind = models.CharField(_("customer type"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="customers"
    )
    # 归口管理: exactly one owning account manager; a B-role manager may back them up.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="owned_customers",
    )
    b_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("B-role manager"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="b_customers",
    )

    # Individuals
    id_number = models.CharField(_("ID number"), max_length=18, null=True, blank=True, unique=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    occupation = models.CharField(
        _("occupation"), max_length=20, choices=Occupation.choices, blank=True
    )
    workplace = models.CharField(
        _("workplace"), max_length=10, choices=Workplace.choices, default=Workplace.HOME
    )
    work_location = models.CharField(_("where they work"), max_length=100, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=12, choices=IncomeBand.choices, blank=True
    )

    # Corporates
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True
    )
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    finance_contact = models.CharField(_("finance contact"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)

    # Both
    mobile = models.CharField(_("mobile number"), max_length=11, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    # Segment attributes the seeds name (000): deposit flow and profit contribution, kept
    # up to date by the core banking feed; amounts in yuan.
    deposit_balance = models.DecimalField(
        _("average deposit balance"), max_digits=16, decimal_places=2, default=0
    )
    deposit_flow = models.DecimalField(
        _("monthly deposit flow"), max_digits=16, decimal_places=2, default=0
    )
    profit_contribution = models.DecimalField(
        _("yearly profit contribution"), max_digits=16, decimal_places=2, default=0
    )

    credit_rating = models.CharField(
        _("credit rating"), max_length=10, choices=CreditRating.choices, blank=True
    )
    credit_rated_on = models.DateField(_("rated on"), null=True, blank=True)

    # Classification and grading (seed 002); changed only through an approved GradeChange.
    customer_class = models.CharField(
        _("customer class"),
        max_length=12,
        choices=CustomerClass.choices,
        default=CustomerClass.MAINTENANCE,
    )
    managing_level = models.CharField(
        _("managing level"),
        max_length=12,
        choices=ManagingLevel.choices,
        default=ManagingLevel.BRANCH,
    )
    industry_category = models.CharField(
        _("industry entry category"),
        max_length=12,
        choices=IndustryCategory.choices,
        default=IndustryCategory.MODERATE,
    )
    customer_category = models.CharField(
        _("customer category"),
        max_length=12,
        choices=CustomerCategory.choices,
        default=CustomerCategory.MODERATE,
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        permissions = [
            ("transfer_customer", _("Can transfer customers between account managers")),
            ("propose_grade", _("Can propose a grade change")),
            ("approve_grade", _("Can approve grade changes")),
            ("manage_segments", _("Can define segments and contact plans")),
            ("export_customers", _("Can export customer lists")),
        ]
        indexes = [
            models.Index(fields=["branch", "name"], name="customer_branch_name"),
            # The list pages of head office walk customers in (name, id) order, 50 at a time.
            models.Index(fields=["name", "id"], name="customer_name"),
            models.Index(fields=["owner"], name="customer_owner"),
            models.Index(fields=["b_manager"], name="customer_b_manager"),
            models.Index(fields=["kind", "customer_class"], name="customer_kind_class"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="individual", credit_code__isnull=True)
                    | models.Q(kind="corporate", id_number__isnull=True)
                ),
                name="customer_identity_matches_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(b_manager=models.F("owner")),
                name="customer_b_manager_is_not_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_individual(self) -> bool:
        return self.kind == self.Kind.INDIVIDUAL

    def age(self, on: date | None = None) -> int | None:
        if not self.birth_date:
            return None
        on = on or date.today()
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - before_birthday


class PersonalDataAccess(models.Model):
    """One row per full view of an ID or mobile number (who, whose, which field, when)."""

    class Field(models.TextChoices):
        ID_NUMBER = "id_number", _("ID number")
        MOBILE = "mobile", _("mobile number")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=12, choices=Field.choices)
    accessed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=10, default="page")  # page / api

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-accessed_at"]


class OwnershipTransfer(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="transfers")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    from_b_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_b_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    transferred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-transferred_at", "-id"]
        verbose_name = _("ownership transfer")
        verbose_name_plural = _("ownership transfers")


class Segment(models.Model):
    """A management-defined group of customers, by rules over the segment attributes.

    ``rules`` is a list of conditions, all of which must hold:
    ``[{"attribute": "age", "op": "between", "value": [18, 35]},
       {"attribute": "workplace", "op": "eq", "value": "away"}]``.
    Memberships are recomputed set-based (one INSERT … SELECT per segment).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    computed_at = models.DateTimeField(_("last computed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once")
        ]
        indexes = [models.Index(fields=["customer"], name="segmember_customer")]


class GradeChange(models.Model):
    """A proposed change of class / level / categories; applied only when approved."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="grade_changes")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    old_customer_class = models.CharField(max_length=12, choices=CustomerClass.choices)
    new_customer_class = models.CharField(
        _("customer class"), max_length=12, choices=CustomerClass.choices
    )
    old_managing_level = models.CharField(max_length=12, choices=ManagingLevel.choices)
    new_managing_level = models.CharField(
        _("managing level"), max_length=12, choices=ManagingLevel.choices
    )
    old_industry_category = models.CharField(max_length=12, choices=IndustryCategory.choices)
    new_industry_category = models.CharField(
        _("industry entry category"), max_length=12, choices=IndustryCategory.choices
    )
    old_customer_category = models.CharField(max_length=12, choices=CustomerCategory.choices)
    new_customer_category = models.CharField(
        _("customer category"), max_length=12, choices=CustomerCategory.choices
    )
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        constraints = [
            # At most one open proposal per customer: a second one would race the first.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="proposed"),
                name="grade_change_one_open_per_customer",
            )
        ]


class ContactPlan(models.Model):
    """How often customers of a segment or class are contacted (seed 000/004)."""

    name = models.CharField(_("name"), max_length=100)
    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), null=True, blank=True, on_delete=models.CASCADE
    )
    customer_class = models.CharField(
        _("customer class"), max_length=12, choices=CustomerClass.choices, blank=True
    )
    interval_days = models.PositiveIntegerField(
        _("contact every (days)"), validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["interval_days", "name"]
        verbose_name = _("contact plan")
        verbose_name_plural = _("contact plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(segment__isnull=False) | ~models.Q(customer_class=""),
                name="contact_plan_has_a_target",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Visit(models.Model):
    """走访: a contact with a customer, by any channel."""

    class Channel(models.TextChoices):
        VISIT = "visit", _("Visit")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")
        COUNTER = "counter", _("Counter")

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", _("Contacted")
        INTERESTED = "interested", _("Interested in a product")
        SIGNED = "signed", _("Product signed")
        DECLINED = "declined", _("Declined")
        NOT_REACHED = "not_reached", _("Not reached")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="visits")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    notes = models.TextField(_("notes"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_contact_on = models.DateField(_("next contact on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["customer", "-visited_on"], name="visit_customer_date")]


class BusinessType(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    TRANSFER = "transfer", _("Transfer")
    PAYMENT = "payment", _("Payment")
    ACCOUNT_OPENING = "account_opening", _("Account opening")
    CARD = "card", _("Card")
    LOAN_INQUIRY = "loan_inquiry", _("Loan inquiry")
    EBANKING_HELP = "ebanking_help", _("E-banking help")
    OTHER = "other", _("Other")


class ServiceInteraction(models.Model):
    """One counter service, recorded by the teller who gave it."""

    teller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outlet = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_interactions",
    )
    business_type = models.CharField(
        _("business type"), max_length=20, choices=BusinessType.choices
    )
    wait_minutes = models.PositiveSmallIntegerField(
        _("wait (minutes)"), validators=[MaxValueValidator(600)]
    )
    handling_minutes = models.PositiveSmallIntegerField(
        _("handling (minutes)"), validators=[MaxValueValidator(600)]
    )
    smile = models.BooleanField(_("smile service"), default=False)
    standing = models.BooleanField(_("standing service"), default=False)
    standard_wording = models.BooleanField(_("standardized wording"), default=False)
    rating = models.PositiveSmallIntegerField(
        _("customer rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    served_at = models.DateTimeField(_("served at"), db_index=True)

    class Meta:
        ordering = ["-served_at", "-id"]
        verbose_name = _("counter service")
        verbose_name_plural = _("counter services")
        permissions = [("view_service_summary", _("Can see counter service summaries"))]
        indexes = [
            models.Index(fields=["branch", "served_at"], name="service_branch_time"),
            models.Index(fields=["teller", "served_at"], name="service_teller_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="service_rating_1_to_5",
            )
        ]


class Complaint(ConcurrentTransitionMixin, models.Model):
    """投诉 and 建议: received → assigned → responded → resolved → closed (with reopen).

    Deadlines follow the consumer-complaint rules (decide within 15 days, 30 for complex cases,
    configurable in settings); overdue cases escalate one level per sweep ("same-level response,
    escalated supervision"): 0 = handling unit, 1 = branch manager, 2 = head office.
    """

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        SUGGESTION = "suggestion", _("Suggestion")

    class Channel(models.TextChoices):
        COUNTER = "counter", _("Counter")
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Visit")
        ONLINE = "online", _("Online")

    class Severity(models.TextChoices):
        NORMAL = "normal", _("Ordinary")
        COMPLEX = "complex", _("Complex")
        URGENT = "urgent", _("Urgent")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Assigned")
        RESPONDED = "responded", _("Responded")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    state = FSMField(
        _("state"), default=State.RECEIVED, choices=State.choices, protected=True, db_index=True
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_complaints",
    )
    due_at = models.DateTimeField(_("due"), db_index=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    response = models.TextField(_("response to the customer"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("complaint or suggestion")
        verbose_name_plural = _("complaints and suggestions")
        permissions = [
            ("handle_complaint", _("Can assign, answer and resolve complaints")),
        ]
        indexes = [models.Index(fields=["branch", "state"], name="complaint_branch_state")]

    def __str__(self) -> str:
        return self.subject

    OPEN_STATES = (State.RECEIVED, State.ASSIGNED, State.RESPONDED)

    @transition(field=state, source=State.RECEIVED, target=State.ASSIGNED)
    def assign(self) -> None:
        pass

    @transition(field=state, source=[State.ASSIGNED, State.RESPONDED], target=State.ASSIGNED)
    def reassign(self) -> None:
        pass

    @transition(field=state, source=State.ASSIGNED, target=State.RESPONDED)
    def respond(self) -> None:
        pass

    @transition(field=state, source=[State.ASSIGNED, State.RESPONDED], target=State.RESOLVED)
    def resolve(self) -> None:
        pass

    @transition(field=state, source=State.RESOLVED, target=State.CLOSED)
    def close(self) -> None:
        pass

    @transition(field=state, source=[State.RESOLVED, State.CLOSED], target=State.ASSIGNED)
    def reopen(self) -> None:
        pass


class DueContact(models.Model):
    """A contact due with a customer under a contact plan (or the date a visit asked for).

    Created by the beat sweep ``customers.contacts_plan`` when the customer's plan interval has
    run out (or their latest visit's next-contact date has come); ``due_on`` is the period key.
    The unique constraints make a second sweep or two beats at once create nothing twice, and
    keep at most one open contact per customer. A visit on or after ``due_on`` closes it; a
    customer no longer due under any plan (plan or segment deactivated, owner removed) has it
    cancelled by the next sweep.
    """

    class Reason(models.TextChoices):
        NEVER_VISITED = "never_visited", _("Never visited")
        PLAN = "plan", _("Contact plan")
        NEXT_CONTACT = "next_contact", _("Follow-up date reached")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("No longer due")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="due_contacts"
    )
    plan = models.ForeignKey(
        ContactPlan,
        verbose_name=_("contact plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=14, choices=Reason.choices)
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("due contact")
        verbose_name_plural = _("due contacts")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "reason", "due_on"], name="due_contact_once_per_period"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status="open"),
                name="due_contact_one_open_per_customer",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="due_contact_status_due")]

    def __str__(self) -> str:
        return f"{self.customer} {self.due_on}"
