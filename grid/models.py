"""Grids, villages and households; whole-village credit campaigns (seeds 003 and 004).

Three-level grid service (head office → branch → account manager's grid): a grid belongs to a
branch, is owned by one account manager and has fixed officers with fixed duties (定格、定员、
定岗、定责; "one grid, four officers" 一格四员). Villages (行政村) lie in a grid; households (农户)
in a village, with their members.

A whole-village credit campaign (整村授信) runs through preparation → crediting → follow-up. Three
evaluators rate every target household back-to-back; the reconciled rating and limit become the
pre-credit (预授信), which the household signs (or refuses); signing grants a credit line in the
loans app. Households with a bad credit record or on the blacklist are screened out before the
evaluation, quietly: the reason is kept for staff and never printed on the public notice.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from coop.models import OrgUnit
from customers.models import CreditRating, Customer, Occupation

MONEY = {"max_digits": 16, "decimal_places": 2}


class Grid(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    branch = models.ForeignKey(
        OrgUnit,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"kind": OrgUnit.Kind.BRANCH},
    )
    # The owning account manager (网格客户经理): one per grid, as the seed's "fixed staff".
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="managed_grids",
    )
    area = models.CharField(_("area covered"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["branch", "code"], name="grid_branch_code"),
            models.Index(fields=["account_manager"], name="grid_account_manager"),
        ]

    def __str__(self) -> str:
        return self.name


class GridOfficer(models.Model):
    """A grid officer: a staff user, or a person without a login (village cadre, liaison)."""

    class Role(models.TextChoices):
        GRID_STAFF = "grid_staff", _("Grid officer (bank staff)")
        VILLAGE_CADRE = "village_cadre", _("Village cadre")
        FINANCIAL_LIAISON = "financial_liaison", _("Financial liaison officer")
        OTHER = "other", _("Other")

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="officers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_duties",
    )
    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile number"), max_length=11, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    duty = models.CharField(_("duty"), max_length=200, blank=True)
    is_active = models.BooleanField(_("on duty"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("grid officer")
        verbose_name_plural = _("grid officers")
        ordering = ["grid", "role", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "user"],
                condition=models.Q(user__isnull=False, is_active=True),
                name="grid_officer_user_once",
            )
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="grid_officer_user")]

    def __str__(self) -> str:
        return self.name


class Village(models.Model):
    """行政村 (or an urban community) covered by one grid."""

    grid = models.ForeignKey(
        Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="villages"
    )
    town = models.CharField(_("town"), max_length=50)
    name = models.CharField(_("village"), max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["town", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="village_name_in_town")
        ]

    def __str__(self) -> str:
        return f"{self.town}{self.name}"


class IncomeSource(models.TextChoices):
    FARMING = "farming", _("Crop farming")
    BREEDING = "breeding", _("Livestock breeding")
    MIGRANT_WORK = "migrant_work", _("Migrant work")
    BUSINESS = "business", _("Business")
    SALARY = "salary", _("Wages or salary")
    PENSION = "pension", _("Pension or subsidies")
    OTHER = "other", _("Other")


class FilingRequirement(models.Model):
    """Which parts of a household file count towards its completeness score (建档完整度).

    One row per item, edited by head office; a household is *filed* when every required item is
    present (score 100). The score is stored on the household and recomputed by the services
    whenever the file or the requirements change, so lists and metrics never recompute it.
    """

    class Item(models.TextChoices):
        HEAD_CUSTOMER = "head_customer", _("Head of household filed as a customer")
        VILLAGE_GROUP = "village_group", _("Village group")
        ADDRESS = "address", _("Address")
        INCOME_SOURCES = "income_sources", _("Income sources")
        ANNUAL_INCOME = "annual_income", _("Annual income")
        ASSETS = "assets", _("Assets")
        LABOUR_COUNT = "labour_count", _("Labour count")
        MEMBERS = "members", _("Family members")

    item = models.CharField(_("item"), max_length=20, choices=Item.choices, unique=True)
    required = models.BooleanField(_("required"), default=True)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    class Meta:
        verbose_name = _("filing requirement")
        verbose_name_plural = _("filing requirements")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=1, weight__lte=10), name="filing_weight_1_to_10"
            )
        ]

    def __str__(self) -> str:
        return self.get_item_display()


class Household(models.Model):
    """农户: a family in a village; its head becomes a customer when filed."""

    village = models.ForeignKey(
        Village, verbose_name=_("village"), on_delete=models.PROTECT, related_name="households"
    )
    village_group = models.CharField(_("village group"), max_length=20, blank=True)
    head_name = models.CharField(_("head of household"), max_length=50)
    # Null until the head is filed as a customer (a household is often recorded first).
    head = models.OneToOneField(
        Customer,
        verbose_name=_("head of household (customer)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="headed_household",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    income_sources = ArrayField(
        models.CharField(max_length=20, choices=IncomeSource.choices),
        verbose_name=_("income sources"),
        default=list,
        blank=True,
    )
    annual_income = models.DecimalField(_("annual income"), null=True, blank=True, **MONEY)
    assets = models.CharField(_("assets"), max_length=300, blank=True)
    asset_value = models.DecimalField(_("estimated asset value"), null=True, blank=True, **MONEY)
    labour_count = models.PositiveSmallIntegerField(
        _("labour count"), null=True, blank=True, validators=[MaxValueValidator(50)]
    )
    # Kept by the member services, so lists and metrics need no join to the members.
    member_count = models.PositiveSmallIntegerField(_("members"), default=0)
    migrant_count = models.PositiveSmallIntegerField(_("members working away"), default=0)
    completeness = models.PositiveSmallIntegerField(_("file completeness"), default=0)
    # The debit card is a core-banking fact; it is recorded here because the follow-up rules of
    # seed 003 depend on it (credited but no card → monthly; card but unused → quarterly).
    card_issued_on = models.DateField(_("card issued on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["village", "village_group", "head_name", "id"]
        indexes = [
            models.Index(fields=["village", "head_name"], name="household_village_head"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(completeness__lte=100), name="household_completeness_le_100"
            )
        ]

    def __str__(self) -> str:
        return self.head_name

    @property
    def is_filed(self) -> bool:
        return self.completeness >= 100

    @property
    def income_source_labels(self) -> list[str]:
        return [IncomeSource(s).label for s in self.income_sources if s in IncomeSource.values]


class HouseholdMember(models.Model):
    """A family member. The elderly and children need only name, relation and birth year."""

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        SIBLING = "sibling", _("Sibling")
        OTHER = "other", _("Other")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Customer.Gender.choices, blank=True
    )
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    occupation = models.CharField(
        _("occupation"), max_length=20, choices=Occupation.choices, blank=True
    )
    is_migrant = models.BooleanField(_("working away from home"), default=False)
    works_in = models.CharField(_("where they work"), max_length=100, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="household_memberships",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(customer__isnull=False),
                name="member_customer_in_one_household",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(relation="head"),
                name="member_one_head_per_household",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_minimally_filed(self) -> bool:
        if not (self.name and self.relation and self.birth_year):
            return False
        return not self.is_migrant or bool(self.works_in)


class BlacklistEntry(models.Model):
    """A customer, or a household without an ID on file, excluded from grid credit."""

    branch = models.ForeignKey(
        OrgUnit, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="blacklist_entries",
    )
    reason = models.TextField(_("reason"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(_("active"), default=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    class Meta:
        verbose_name = _("blacklist entry")
        verbose_name_plural = _("blacklist")
        ordering = ["-added_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | models.Q(household__isnull=False),
                name="blacklist_names_someone",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_active=True, customer__isnull=False),
                name="blacklist_customer_once",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(is_active=True, household__isnull=False),
                name="blacklist_household_once",
            ),
        ]


class VillageCreditCampaign(ConcurrentTransitionMixin, models.Model):
    """整村授信 for one village, run by a project manager (项目经理制, seed 003)."""

    class Phase(models.TextChoices):
        PREPARATION = "preparation", _("Preparation")
        CREDITING = "crediting", _("Crediting")
        FOLLOW_UP = "follow_up", _("Follow-up")

    name = models.CharField(_("name"), max_length=100)
    village = models.ForeignKey(
        Village, verbose_name=_("village"), on_delete=models.PROTECT, related_name="campaigns"
    )
    project_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("project manager"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The product the signed credit lines are granted under (farmer microcredit, typically).
    product = models.ForeignKey(
        "loans.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    credit_months = models.PositiveSmallIntegerField(
        _("credit line valid for (months)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    # "Close" limits: spread (max − min) within this fraction of the median (default 20%).
    tolerance = models.DecimalField(
        _("closeness tolerance"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.200"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    phase = FSMField(
        _("phase"),
        default=Phase.PREPARATION,
        choices=Phase.choices,
        protected=True,
        db_index=True,
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("planned end"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    phase_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("whole-village credit campaign")
        verbose_name_plural = _("whole-village credit campaigns")
        ordering = ["-starts_on", "-id"]
        permissions = [
            ("evaluate_household", _("Can enter back-to-back household evaluations")),
            ("decide_credit", _("Can decide referred households for the batch-credit group")),
            ("sign_credit", _("Can record pre-credit signing")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_period",
            ),
            models.CheckConstraint(
                condition=models.Q(tolerance__gte=0, tolerance__lte=1),
                name="campaign_tolerance_0_to_1",
            ),
            # Two open campaigns in one village would evaluate the same households twice.
            models.UniqueConstraint(
                fields=["village"],
                condition=models.Q(phase__in=["preparation", "crediting"]),
                name="campaign_one_open_per_village",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tolerance_percent(self) -> Decimal:
        """20 for 0.200: how the tolerance is shown and entered."""
        from grid.metrics import percent

        return percent(self.tolerance)

    @cached_property
    def evaluator_user_ids(self) -> list[int]:
        return list(self.evaluator_slots.order_by("slot").values_list("user_id", flat=True))

    # --- guards (named, so the pages can say why a step is not possible yet) -----------------

    @property
    def has_three_evaluators(self) -> bool:
        return self.evaluator_slots.count() == 3

    @property
    def has_target_households(self) -> bool:
        return self.entries.exists()

    @property
    def has_no_pending_decisions(self) -> bool:
        return not self.entries.filter(
            excluded_reason="",
            outcome=CampaignHousehold.Outcome.COMPROMISE,
            decided_at__isnull=True,
        ).exists()

    @transition(
        field=phase,
        source=Phase.PREPARATION,
        target=Phase.CREDITING,
        conditions=[
            lambda c: c.has_three_evaluators,
            lambda c: c.has_target_households,
        ],
    )
    def start_crediting(self) -> None:
        pass

    @transition(
        field=phase,
        source=Phase.CREDITING,
        target=Phase.FOLLOW_UP,
        conditions=[lambda c: c.has_no_pending_decisions],
    )
    def start_follow_up(self) -> None:
        pass


class CampaignEvaluator(models.Model):
    """One of the campaign's three back-to-back evaluators."""

    campaign = models.ForeignKey(
        VillageCreditCampaign, on_delete=models.CASCADE, related_name="evaluator_slots"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    slot = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["campaign", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="evaluator_once"),
            models.UniqueConstraint(fields=["campaign", "slot"], name="evaluator_slot_once"),
            models.CheckConstraint(
                condition=models.Q(slot__gte=1, slot__lte=3), name="evaluator_slot_1_to_3"
            ),
        ]


class CampaignHousehold(models.Model):
    """A household targeted by a campaign: screening, evaluation, reconciliation, signing."""

    class Exclusion(models.TextChoices):
        BAD_CREDIT = "bad_credit", _("Bad credit record")
        BLACKLIST = "blacklist", _("On the blacklist")
        MANUAL = "manual", _("Excluded by staff")

    class Outcome(models.TextChoices):
        CLOSE = "close", _("Close — mean limit")
        COMPROMISE = "compromise", _("Compromise — to the batch-credit group")

    class LimitRule(models.TextChoices):
        MEAN = "mean", _("Mean of the three, rounded down to ¥1,000")
        MEDIAN = "median", _("Median of the three")

    class RatingRule(models.TextChoices):
        MAJORITY = "majority", _("Majority")
        MIDDLE = "middle", _("Middle grade")

    class Signing(models.TextChoices):
        PENDING = "pending", _("Not signed yet")
        SIGNED = "signed", _("Signed")
        REFUSED = "refused", _("Refused")
        AWAY = "away", _("Away from home")

    class Channel(models.TextChoices):
        DOOR_TO_DOOR = "door_to_door", _("Door to door")
        CENTRALIZED = "centralized", _("Centralized")
        COUNTER = "counter", _("At the counter")

    campaign = models.ForeignKey(
        VillageCreditCampaign, on_delete=models.PROTECT, related_name="entries"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="campaign_entries",
    )

    # Screening: staff only, never on the public notice.
    excluded_reason = models.CharField(
        _("excluded"), max_length=12, choices=Exclusion.choices, blank=True
    )
    exclusion_note = models.CharField(_("exclusion note"), max_length=200, blank=True)
    excluded_at = models.DateTimeField(null=True, blank=True)
    excluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Back-to-back evaluation: only the count is public until all three have submitted.
    submitted_count = models.PositiveSmallIntegerField(default=0)
    evaluated_at = models.DateTimeField(_("all three evaluations in"), null=True, blank=True)

    # Reconciliation: the rule and its inputs are kept with the result.
    reconciled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    limit_rule = models.CharField(max_length=8, choices=LimitRule.choices, blank=True)
    rating_rule = models.CharField(max_length=10, choices=RatingRule.choices, blank=True)
    reconcile_inputs = models.JSONField(default=dict, blank=True)
    proposed_limit = models.DecimalField(_("proposed limit"), null=True, blank=True, **MONEY)
    proposed_rating = models.CharField(
        _("proposed rating"), max_length=10, choices=CreditRating.choices, blank=True
    )

    # The batch-credit group's decision on a compromise (网格批量授信小组).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)

    # The pre-credit (预授信): 0 means "not credited".
    limit = models.DecimalField(_("pre-credit limit"), null=True, blank=True, **MONEY)
    rating = models.CharField(
        _("credit rating"), max_length=10, choices=CreditRating.choices, blank=True
    )
    pre_credited_at = models.DateTimeField(_("pre-credited"), null=True, blank=True)

    # Signing.
    signing = models.CharField(
        _("signing"), max_length=10, choices=Signing.choices, default=Signing.PENDING
    )
    channel = models.CharField(_("channel"), max_length=14, choices=Channel.choices, blank=True)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=200, blank=True)
    away_note = models.CharField(_("where they are"), max_length=200, blank=True)
    away_follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_line = models.OneToOneField(
        "loans.CreditLine",
        verbose_name=_("credit line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="village_campaign_entry",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign household")
        verbose_name_plural = _("campaign households")
        ordering = ["campaign", "household__village_group", "household__head_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="campaign_household_once"
            ),
            models.CheckConstraint(
                condition=models.Q(submitted_count__lte=3), name="campaign_household_max_3"
            ),
            models.CheckConstraint(
                condition=models.Q(limit__isnull=True) | models.Q(limit__gte=0),
                name="campaign_household_limit_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(signing="signed") | models.Q(credit_line__isnull=False),
                name="campaign_household_signed_has_line",
            ),
        ]
        indexes = [
            models.Index(fields=["household"], name="campaign_household_household"),
            models.Index(fields=["campaign", "signing"], name="campaign_household_signing"),
        ]

    @property
    def is_excluded(self) -> bool:
        return bool(self.excluded_reason)

    @property
    def is_pre_credited(self) -> bool:
        return self.pre_credited_at is not None

    @property
    def awaits_decision(self) -> bool:
        return (
            self.outcome == self.Outcome.COMPROMISE
            and self.decided_at is None
            and not self.excluded_reason
        )

    @property
    def stage(self) -> str:
        """A short code for where the household stands, for badges and filters."""
        if self.excluded_reason:
            return "excluded"
        if self.evaluated_at is None:
            return "evaluating"
        if self.reconciled_at is None:
            return "to_reconcile"
        if self.awaits_decision:
            return "to_decide"
        if not self.pre_credited_at:
            return "not_credited"
        return self.signing


class Evaluation(models.Model):
    """One evaluator's rating and suggested limit for one household (背靠背评议)."""

    campaign = models.ForeignKey(
        VillageCreditCampaign, on_delete=models.CASCADE, related_name="evaluations"
    )
    entry = models.ForeignKey(
        CampaignHousehold, on_delete=models.CASCADE, related_name="evaluations"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    rating = models.CharField(_("credit rating"), max_length=10, choices=CreditRating.choices)
    suggested_limit = models.DecimalField(
        _("suggested limit"), validators=[MinValueValidator(Decimal("0"))], **MONEY
    )
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("submitted"))

    class Meta:
        verbose_name = _("household evaluation")
        verbose_name_plural = _("household evaluations")
        ordering = ["entry", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "evaluator"], name="evaluation_once"),
            models.CheckConstraint(
                condition=models.Q(suggested_limit__gte=0), name="evaluation_limit_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "evaluator"], name="evaluation_evaluator")]


class CampaignDayPlan(models.Model):
    """One day of the campaign plan (按日计划), measured weekly and monthly (seed 003)."""

    campaign = models.ForeignKey(
        VillageCreditCampaign, on_delete=models.CASCADE, related_name="plan_days"
    )
    day = models.DateField(_("day"))
    task = models.CharField(_("task"), max_length=200, blank=True)
    planned_evaluations = models.PositiveIntegerField(_("households to evaluate"), default=0)
    planned_signings = models.PositiveIntegerField(_("households to sign"), default=0)

    class Meta:
        verbose_name = _("plan day")
        verbose_name_plural = _("plan days")
        ordering = ["campaign", "day"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "day"], name="plan_day_once"),
        ]


class HouseholdFollowUp(models.Model):
    """A follow-up marketing contact due for a credited household in one period (seed 003).

    Credited but no card: one a calendar month; card issued but the credit unused: one a calendar
    quarter; away from home at signing: on the agreed day. Rows are created by the beat sweep
    ``grid.followups_plan`` (one per household, kind and period — the unique constraint makes a
    second sweep or two beats at once create nothing twice) and closed by a contact with the head
    of household in the period.
    """

    class Kind(models.TextChoices):
        NO_CARD = "no_card", _("Credited, no card yet")
        UNUSED = "unused", _("Card issued, credit unused")
        AWAY = "away", _("Away from home at signing")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("No longer needed")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="followups"
    )
    entry = models.ForeignKey(CampaignHousehold, on_delete=models.PROTECT, related_name="followups")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    period_start = models.DateField(_("period from"))
    due_by = models.DateField(_("due by"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        "customers.Visit",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=12, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("household follow-up")
        verbose_name_plural = _("household follow-ups")
        ordering = ["due_by", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind", "period_start"], name="followup_once_per_period"
            ),
        ]
        indexes = [
            models.Index(
                fields=["household", "due_by"],
                name="followup_open_household",
                condition=models.Q(status="open"),
            ),
            models.Index(fields=["status", "due_by"], name="followup_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.kind} {self.period_start}"
