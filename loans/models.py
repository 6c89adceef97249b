"""The money lifecycle of a loan: products and tiers, credit lines and drawdowns, applications,
contracts, disbursement notices, loans with their schedules, repayments and classification.

The approval workflow itself belongs to the risk app: it moves a submitted application to
approved or rejected through ``loans.services`` and never writes these tables directly.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from coop.models import OrgUnit
from customers.models import CreditRating, Customer

MONEY = {"max_digits": 16, "decimal_places": 2}
RATE = {"max_digits": 8, "decimal_places": 6}  # annual rate as a fraction: 0.043500


class RepaymentMethod(models.TextChoices):
    EQUAL_INSTALLMENT = "equal_installment", _("Equal installments")
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")
    INTEREST_ONLY = "interest_only", _("Monthly interest, principal at maturity")
    BULLET = "bullet", _("Lump sum with interest at maturity")


class DayCount(models.TextChoices):
    THIRTY_360 = "30/360", _("30/360")
    ACTUAL_360 = "actual/360", _("Actual/360")


class RiskRoute(models.TextChoices):
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk")


class Product(models.Model):
    """A loan product as data: head office edits amounts, terms and rates without a release."""

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Credit (unsecured)")
        GUARANTEED = "guaranteed", _("Guaranteed")
        MORTGAGE = "mortgage", _("Mortgage")
        PLEDGE = "pledge", _("Pledge")

    class CustomerKind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individuals")
        CORPORATE = "corporate", _("Corporates")
        ANY = "any", _("Individuals and corporates")

    class Security(models.TextChoices):
        NONE = "none", _("None")
        GUARANTOR = "guarantor", _("Personal guarantor")
        MAX_AMOUNT_GUARANTEE = "max_amount_guarantee", _("Maximum-amount guarantee contract")
        GUARANTEE_COMPANY = "guarantee_company", _("Guarantee company")
        COLLATERAL = "collateral", _("Mortgage collateral")
        PLEDGE = "pledge", _("Pledged asset")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    customer_kind = models.CharField(
        _("for"), max_length=12, choices=CustomerKind.choices, default=CustomerKind.INDIVIDUAL
    )
    min_amount = models.DecimalField(_("minimum amount"), **MONEY)
    max_amount = models.DecimalField(_("maximum amount"), **MONEY)
    min_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"))
    max_term_months = models.PositiveSmallIntegerField(_("maximum term (months)"))
    min_rate = models.DecimalField(_("minimum annual rate"), **RATE)
    max_rate = models.DecimalField(_("maximum annual rate"), **RATE)
    repayment_methods = ArrayField(
        models.CharField(max_length=20, choices=RepaymentMethod.choices),
        verbose_name=_("repayment methods"),
    )
    security = models.CharField(
        _("guarantee or collateral"), max_length=24, choices=Security.choices
    )
    # Empty = no rating required (e.g. corporate products).
    eligible_ratings = ArrayField(
        models.CharField(max_length=10, choices=CreditRating.choices),
        verbose_name=_("eligible credit ratings"),
        default=list,
        blank=True,
    )
    revolving = models.BooleanField(_("revolving"), default=False)
    revolving_years = models.PositiveSmallIntegerField(_("revolving period (years)"), default=0)
    default_route = models.CharField(
        _("default risk route"), max_length=8, choices=RiskRoute.choices
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("loan product")
        verbose_name_plural = _("loan products")
        permissions = [("manage_products", _("Can edit the product catalogue"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_amount__gt=0, max_amount__gte=models.F("min_amount")),
                name="product_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    min_term_months__gte=1, max_term_months__gte=models.F("min_term_months")
                ),
                name="product_term_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    min_rate__gte=0, max_rate__gte=models.F("min_rate"), max_rate__lt=1
                ),
                name="product_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProductTier(models.Model):
    """An amount band of a product by credit rating (farmer microcredit: 一般/较好/优秀)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tiers")
    rating = models.CharField(_("credit rating"), max_length=10, choices=CreditRating.choices)
    min_amount = models.DecimalField(_("minimum amount"), **MONEY)
    max_amount = models.DecimalField(_("maximum amount"), **MONEY)

    class Meta:
        ordering = ["product", "max_amount"]
        verbose_name = _("product tier")
        verbose_name_plural = _("product tiers")
        constraints = [
            models.UniqueConstraint(fields=["product", "rating"], name="tier_once_per_rating"),
            models.CheckConstraint(
                condition=models.Q(min_amount__gt=0, max_amount__gte=models.F("min_amount")),
                name="tier_amount_range",
            ),
        ]


class LoanPolicy(models.Model):
    """Bank-wide loan settings (one row): classification thresholds, allocation order, day count.

    Defaults follow DOMAIN.md: special mention from 1 day past due, substandard from 91,
    doubtful from 181, loss from 361; payments cover penalty interest, then interest, then
    principal; penalty interest at 1.5 × the contract rate on overdue principal.
    """

    special_mention_from_days = models.PositiveIntegerField(default=1)
    substandard_from_days = models.PositiveIntegerField(default=91)
    doubtful_from_days = models.PositiveIntegerField(default=181)
    loss_from_days = models.PositiveIntegerField(default=361)
    allocation_order = ArrayField(
        models.CharField(max_length=10), default=list, blank=True
    )  # e.g. ["penalty", "interest", "principal"]; empty = that default
    day_count = models.CharField(
        max_length=10, choices=DayCount.choices, default=DayCount.THIRTY_360
    )
    penalty_rate_multiplier = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("1.50")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("loan policy")
        verbose_name_plural = _("loan policy")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    special_mention_from_days__gte=1,
                    substandard_from_days__gt=models.F("special_mention_from_days"),
                    doubtful_from_days__gt=models.F("substandard_from_days"),
                    loss_from_days__gt=models.F("doubtful_from_days"),
                ),
                name="policy_thresholds_increase",
            )
        ]


class GuaranteeContract(models.Model):
    """最高额保证合同: one guarantee covering several drawdowns up to a maximum, for a period."""

    number = models.CharField(_("contract number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="+"
    )
    guarantor_name = models.CharField(_("guarantor"), max_length=100)
    guarantor_is_company = models.BooleanField(_("guarantee company"), default=False)
    max_amount = models.DecimalField(_("maximum guaranteed amount"), **MONEY)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("maximum-amount guarantee contract")
        verbose_name_plural = _("maximum-amount guarantee contracts")

    def __str__(self) -> str:
        return self.number


class CreditLine(models.Model):
    """授信: a limit granted to a customer under a product; drawdowns (用信) create loans."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        APPLICATION = "application", _("Loan application")
        VILLAGE_CAMPAIGN = "village_campaign", _("Whole-village credit")

    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="credit_lines"
    )
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    limit = models.DecimalField(
        _("limit"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    # Non-revolving lines count what was ever drawn; revolving lines count what is outstanding.
    drawn_total = models.DecimalField(_("drawn in total"), default=0, **MONEY)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    revolving = models.BooleanField(_("revolving"), default=False)
    guarantee_contract = models.ForeignKey(
        GuaranteeContract,
        verbose_name=_("guarantee contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_lines",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.APPLICATION)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("credit line")
        verbose_name_plural = _("credit lines")
        indexes = [
            models.Index(fields=["customer", "status"], name="creditline_customer"),
            # The lists' order: the newest page is an index scan, not a sort of every line.
            models.Index(fields=["-created_at", "-id"], name="creditline_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__gte=models.F("valid_from")),
                name="creditline_valid_period",
            ),
            models.CheckConstraint(
                condition=models.Q(drawn_total__gte=0), name="creditline_drawn_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class LoanApplication(ConcurrentTransitionMixin, models.Model):
    """An application for a loan or a credit line; approval runs in the risk app."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CONTRACTED = "contracted", _("Contracted")

    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="loan_applications",
    )
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    credit_line = models.ForeignKey(
        CreditLine, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    annual_rate = models.DecimalField(_("annual rate"), **RATE)
    repayment_method = models.CharField(
        _("repayment method"), max_length=20, choices=RepaymentMethod.choices
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    state = FSMField(
        _("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_amount = models.DecimalField(_("approved amount"), null=True, blank=True, **MONEY)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("loan application")
        verbose_name_plural = _("loan applications")
        indexes = [
            models.Index(fields=["branch", "state"], name="application_branch_state"),
            models.Index(fields=["customer"], name="application_customer"),
            models.Index(fields=["-created_at", "-id"], name="application_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="application_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self) -> None:
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=[State.DRAFT, State.SUBMITTED], target=State.WITHDRAWN)
    def withdraw(self) -> None:
        pass

    @transition(field=state, source=State.APPROVED, target=State.CONTRACTED)
    def contract(self) -> None:
        pass


class Guarantor(models.Model):
    application = models.ForeignKey(
        LoanApplication, on_delete=models.CASCADE, related_name="guarantors"
    )
    is_company = models.BooleanField(_("guarantee company"), default=False)
    name = models.CharField(_("name"), max_length=100)
    # The guarantor as a filed customer, when they are one (their ID stays on the customer row).
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    relationship = models.CharField(_("relationship to the borrower"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("guarantor")
        verbose_name_plural = _("guarantors")


class Collateral(models.Model):
    application = models.ForeignKey(
        LoanApplication, on_delete=models.CASCADE, related_name="collaterals"
    )
    description = models.CharField(_("description"), max_length=200)
    appraised_value = models.DecimalField(_("appraised value"), **MONEY)

    class Meta:
        verbose_name = _("collateral")
        verbose_name_plural = _("collateral")


class Contract(models.Model):
    """The loan contract generated from an approved application; printable."""

    number = models.CharField(_("contract number"), max_length=30, unique=True)
    # From an approved application, or a drawdown under a credit line (the line was approved).
    application = models.OneToOneField(
        LoanApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contract_doc",
    )
    credit_line = models.ForeignKey(
        CreditLine, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **MONEY)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    annual_rate = models.DecimalField(_("annual rate"), **RATE)
    repayment_method = models.CharField(
        _("repayment method"), max_length=20, choices=RepaymentMethod.choices
    )
    guarantee_contract = models.ForeignKey(
        GuaranteeContract, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("loan contract")
        verbose_name_plural = _("loan contracts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(application__isnull=False) | models.Q(credit_line__isnull=False),
                name="contract_from_application_or_line",
            )
        ]

    def __str__(self) -> str:
        return self.number


class DisbursementNotice(models.Model):
    """放款通知书 in triplicate: issued after review, passed to the disbursement centre, and
    recorded as disbursed by a teller exactly once."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        DISBURSED = "disbursed", _("Disbursed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("notice number"), max_length=30, unique=True)
    contract = models.OneToOneField(Contract, on_delete=models.PROTECT, related_name="notice")
    amount = models.DecimalField(_("amount"), **MONEY)
    account_number = models.CharField(_("payee account"), max_length=32)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disbursed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("disbursement notice")
        verbose_name_plural = _("disbursement notices")
        permissions = [
            ("issue_notice", _("Can issue disbursement notices")),
            ("record_disbursement", _("Can record disbursements")),
        ]


class Classification(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SPECIAL_MENTION = "special_mention", _("Special mention")
    SUBSTANDARD = "substandard", _("Substandard")
    DOUBTFUL = "doubtful", _("Doubtful")
    LOSS = "loss", _("Loss")


NPL_CLASSES = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)


class Loan(ConcurrentTransitionMixin, models.Model):
    """A loan: contracted → active → overdue → settled, or written off."""

    class State(models.TextChoices):
        CONTRACTED = "contracted", _("Contracted")
        ACTIVE = "active", _("Active")
        OVERDUE = "overdue", _("Overdue")
        SETTLED = "settled", _("Settled")
        WRITTEN_OFF = "written_off", _("Written off")
        # The borrower gave up before the money was paid out: the contract and its notice are
        # void and the credit line's commitment is released.
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("loan number"), max_length=30, unique=True)
    contract = models.OneToOneField(Contract, on_delete=models.PROTECT, related_name="loan")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="loans"
    )
    branch = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    credit_line = models.ForeignKey(
        CreditLine, null=True, blank=True, on_delete=models.PROTECT, related_name="loans"
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="managed_loans",
    )
    principal = models.DecimalField(_("principal"), **MONEY)
    annual_rate = models.DecimalField(_("annual rate"), **RATE)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    repayment_method = models.CharField(
        _("repayment method"), max_length=20, choices=RepaymentMethod.choices
    )
    day_count = models.CharField(
        max_length=10, choices=DayCount.choices, default=DayCount.THIRTY_360
    )
    state = FSMField(
        _("state"), default=State.CONTRACTED, choices=State.choices, protected=True, db_index=True
    )
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    maturity_date = models.DateField(_("maturity"), null=True, blank=True)
    outstanding_principal = models.DecimalField(_("outstanding principal"), default=0, **MONEY)
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    classification = models.CharField(
        _("classification"),
        max_length=16,
        choices=Classification.choices,
        default=Classification.NORMAL,
    )
    # A manual classification (approved override) holds until it is lifted.
    classification_locked = models.BooleanField(default=False)
    # Idempotency: the teller's form carries a key; the same key never disburses twice.
    disbursement_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    settled_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        permissions = [
            ("record_repayment", _("Can record repayments")),
            ("override_classification", _("Can propose a classification override")),
            ("approve_classification", _("Can approve a classification override")),
            ("write_off_loan", _("Can write off loans")),
        ]
        indexes = [
            models.Index(fields=["branch", "state"], name="loan_branch_state"),
            models.Index(fields=["customer"], name="loan_customer"),
            models.Index(fields=["account_manager", "state"], name="loan_manager_state"),
            models.Index(fields=["classification"], name="loan_classification"),
            models.Index(fields=["-created_at", "-id"], name="loan_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(principal__gt=0, outstanding_principal__gte=0)
                & models.Q(outstanding_principal__lte=models.F("principal")),
                name="loan_outstanding_within_principal",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_npl(self) -> bool:
        return self.classification in NPL_CLASSES

    @transition(field=state, source=State.CONTRACTED, target=State.ACTIVE)
    def disburse(self) -> None:
        pass

    @transition(field=state, source=State.ACTIVE, target=State.OVERDUE)
    def mark_overdue(self) -> None:
        pass

    @transition(field=state, source=State.OVERDUE, target=State.ACTIVE)
    def cure(self) -> None:
        pass

    @transition(field=state, source=[State.ACTIVE, State.OVERDUE], target=State.SETTLED)
    def settle(self) -> None:
        pass

    @transition(field=state, source=[State.ACTIVE, State.OVERDUE], target=State.WRITTEN_OFF)
    def write_off(self) -> None:
        pass

    @transition(field=state, source=State.CONTRACTED, target=State.CANCELLED)
    def cancel(self) -> None:
        pass


class Installment(models.Model):
    """One row of a loan's repayment schedule, with what has been paid against it."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    number = models.PositiveSmallIntegerField()
    due_date = models.DateField(db_index=True)
    principal = models.DecimalField(**MONEY)
    interest = models.DecimalField(**MONEY)
    paid_principal = models.DecimalField(default=0, **MONEY)
    paid_interest = models.DecimalField(default=0, **MONEY)
    paid_penalty = models.DecimalField(default=0, **MONEY)
    settled_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["loan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "number"], name="installment_once"),
            models.CheckConstraint(
                condition=models.Q(paid_principal__lte=models.F("principal"))
                & models.Q(paid_interest__lte=models.F("interest")),
                name="installment_not_overpaid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_date"],
                name="installment_unsettled_due",
                condition=models.Q(settled_on__isnull=True),
            )
        ]

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


class Repayment(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_on = models.DateField(_("paid on"))
    to_penalty = models.DecimalField(default=0, **MONEY)
    to_interest = models.DecimalField(default=0, **MONEY)
    to_principal = models.DecimalField(default=0, **MONEY)
    idempotency_key = models.CharField(max_length=64, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_on", "-id"]
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0)
                & models.Q(
                    amount=models.F("to_penalty")
                    + models.F("to_interest")
                    + models.F("to_principal")
                ),
                name="repayment_allocation_adds_up",
            )
        ]


class ClassificationOverride(models.Model):
    """A manual up- or downgrade: needs a reason, and an approver other than the proposer."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="classification_overrides"
    )
    from_class = models.CharField(max_length=16, choices=Classification.choices)
    to_class = models.CharField(
        _("new classification"), max_length=16, choices=Classification.choices
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=models.Q(status="proposed"),
                name="override_one_open_per_loan",
            )
        ]
