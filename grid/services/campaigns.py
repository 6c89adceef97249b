"""Whole-village credit campaigns (整村授信, seed 003).

preparation → crediting → follow-up. In preparation the project manager sets the three
evaluators and the target households; households with a bad credit record or on the blacklist
are screened out quietly. In crediting the three evaluators rate every household back-to-back,
the whole village is reconciled in one request, and the batch-credit group decides the
compromises. Signing is in ``grid.services.signing``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record
from customers.models import CreditRating
from grid.models import (
    BlacklistEntry,
    CampaignDayPlan,
    CampaignEvaluator,
    CampaignHousehold,
    Evaluation,
    Household,
    Village,
    VillageCreditCampaign,
)
from grid.reconciliation import reconcile
from grid.services._common import (
    audit_many,
    bulk_set,
    clean_amount,
    clean_choice,
    clean_text,
    lock,
)
from loans.models import NPL_CLASSES, Loan, LoanPolicy, Product

Phase = VillageCreditCampaign.Phase


def _check_grid_staff(user: User | None, village: Village, *, perm: str, field: str, message):
    from grid.selectors import grids_visible

    if (
        user is None
        or not user.is_active
        or not user.has_perm(perm)
        or not grids_visible(user).filter(pk=village.grid_id).exists()
    ):
        raise DomainError(message, field=field, code="not_grid_staff")


def _lock_campaign(campaign: VillageCreditCampaign) -> VillageCreditCampaign:
    return (
        VillageCreditCampaign.objects.select_for_update(of=("self",))
        .select_related("village", "village__grid", "product")
        .get(pk=campaign.pk)
    )


def _require_phase(campaign: VillageCreditCampaign, *phases: str) -> None:
    if campaign.phase not in phases:
        raise ConflictError(
            _("Not possible while the campaign is in the %(phase)s phase.")
            % {"phase": campaign.get_phase_display()},
            code="wrong_phase",
        )


# --- campaign ---------------------------------------------------------------------------------


def _check_product(product: Product | None) -> None:
    # Whole-village credit grants unsecured lines at signing (seed 000's farmer microcredit):
    # a product needing a guarantee contract could not be signed door to door.
    if (
        product is None
        or not product.is_active
        or product.customer_kind == Product.CustomerKind.CORPORATE
        or product.security != Product.Security.NONE
    ):
        raise DomainError(
            _("Choose an active unsecured product for individuals."),
            field="product",
            code="product",
        )


def _check_terms(
    *,
    village: Village,
    checking: frozenset[str] | None = None,
    name: str,
    project_manager: User | None,
    product: Product | None,
    starts_on: date,
    ends_on: date,
    tolerance: Decimal,
    credit_months: int,
) -> str:
    """The rules a campaign's terms keep, at creation (every rule) and at an edit (the rules of
    the ``checking`` fields, those that change). Returns the name, cleaned."""

    def check(*names: str) -> bool:
        return checking is None or any(name in checking for name in names)

    name = clean_text(name, field="name", max_length=100, required=True)
    if check("project_manager"):
        _check_grid_staff(
            project_manager,
            village,
            perm="grid.change_villagecreditcampaign",
            field="project_manager",
            message=_("The project manager must be staff of this grid who may run campaigns."),
        )
    if check("product"):
        _check_product(product)
    if check("starts_on", "ends_on"):
        if not isinstance(starts_on, date) or not isinstance(ends_on, date):
            raise DomainError(_("Give the campaign's dates."), field="starts_on", code="required")
        if ends_on < starts_on:
            raise DomainError(
                _("The planned end cannot be before the start."), field="ends_on", code="period"
            )
    if check("tolerance") and (
        not isinstance(tolerance, Decimal) or not Decimal(0) <= tolerance <= Decimal(1)
    ):
        raise DomainError(
            _("The tolerance is a fraction between 0 and 1 (0.20 = 20%)."), field="tolerance"
        )
    if check("credit_months") and (
        not isinstance(credit_months, int) or not 1 <= credit_months <= 60
    ):
        raise DomainError(_("Enter 1 to 60 months."), field="credit_months")
    return name


@transaction.atomic
def campaign_create(
    *,
    actor: User,
    village: Village,
    name: str,
    project_manager: User | None,
    product: Product | None,
    starts_on: date,
    ends_on: date,
    tolerance: Decimal = Decimal("0.20"),
    credit_months: int = 24,
) -> VillageCreditCampaign:
    village = (
        Village.objects.select_for_update(of=("self",)).select_related("grid").get(pk=village.pk)
    )
    terms = {
        "name": name,
        "project_manager": project_manager,
        "product": product,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "tolerance": tolerance,
        "credit_months": credit_months,
    }
    terms["name"] = _check_terms(village=village, **terms)
    if village.campaigns.filter(phase__in=[Phase.PREPARATION, Phase.CREDITING]).exists():
        raise ConflictError(
            _("This village already has a campaign in preparation or crediting."),
            code="open_campaign",
        )
    campaign = VillageCreditCampaign.objects.create(village=village, created_by=actor, **terms)
    audit_record(
        actor=actor,
        action="campaign.create",
        obj=campaign,
        to_state=Phase.PREPARATION,
        data={"village_id": village.pk, "tolerance": str(tolerance)},
    )
    return campaign


# Terms that may change in every phase, and those fixed once crediting starts (the evaluations,
# the reconciliation and the signed lines depend on them).
EDITABLE_ALWAYS = ("name", "project_manager", "ends_on")
EDITABLE_IN_PREPARATION = ("product", "starts_on", "tolerance", "credit_months")


@transaction.atomic
def campaign_update(*, actor: User, campaign: VillageCreditCampaign, **values):
    """Change a campaign's terms. The name, the project manager and the planned end change in
    any phase; the product, the start, the tolerance and the lines' validity only in
    preparation. The same rules as at creation; one audit row with the values before and
    after; nothing changes on a refusal."""
    if not actor.has_perm("grid.change_villagecreditcampaign"):
        raise PermissionDenied("grid.change_villagecreditcampaign")
    unknown = set(values) - set(EDITABLE_ALWAYS) - set(EDITABLE_IN_PREPARATION)
    if unknown:
        raise DomainError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    locked = _lock_campaign(campaign)
    fields = EDITABLE_ALWAYS + EDITABLE_IN_PREPARATION
    before = {name: getattr(locked, name) for name in fields}
    changed = {name: value for name, value in values.items() if value != before[name]}
    if not changed:
        return locked
    frozen = [name for name in EDITABLE_IN_PREPARATION if name in changed]
    if frozen and locked.phase != Phase.PREPARATION:
        raise ConflictError(
            _(
                "Once crediting has started, only the name, the project manager and the "
                "planned end can change."
            ),
            field=frozen[0],
            code="wrong_phase",
        )
    after = {**before, **changed}
    after["name"] = _check_terms(village=locked.village, checking=frozenset(changed), **after)
    for name in changed:
        setattr(locked, name, after[name])
    locked.save(update_fields=sorted(changed))

    def shown(value):
        return getattr(value, "pk", value) if value is not None else None

    audit_record(
        actor=actor,
        action="campaign.update",
        obj=locked,
        data={
            "before": {name: str(shown(before[name])) for name in sorted(changed)},
            "after": {name: str(shown(after[name])) for name in sorted(changed)},
        },
    )
    return locked


@transaction.atomic
def campaign_evaluators_set(
    *, actor: User, campaign: VillageCreditCampaign, evaluators: list[User]
) -> list[CampaignEvaluator]:
    """The three back-to-back evaluators (seed 003: three grid officers)."""
    locked = _lock_campaign(campaign)
    _require_phase(locked, Phase.PREPARATION)
    if len(evaluators) != 3 or len({user.pk for user in evaluators}) != 3:
        raise DomainError(
            _("Choose exactly three different evaluators."), field="evaluators", code="three"
        )
    for user in evaluators:
        _check_grid_staff(
            user,
            locked.village,
            perm="grid.evaluate_household",
            field="evaluators",
            message=_("%(name)s cannot evaluate households of this grid.")
            % {"name": user.display_name},
        )
    before = list(locked.evaluator_slots.order_by("slot").values_list("user_id", flat=True))
    locked.evaluator_slots.all().delete()
    slots = CampaignEvaluator.objects.bulk_create(
        [
            CampaignEvaluator(campaign=locked, user=user, slot=number)
            for number, user in enumerate(evaluators, start=1)
        ]
    )
    audit_record(
        actor=actor,
        action="campaign.evaluators",
        obj=locked,
        data={"from": before, "to": [user.pk for user in evaluators]},
    )
    return slots


def _screen(campaign: VillageCreditCampaign, actor: User | None) -> int:
    """Exclude households with a bad credit record or on the blacklist; returns how many.

    Set-based: the offending households are found with three queries and marked in one UPDATE.
    A household counts as its head and its filed members ("avoid households with bad credit",
    seed 003). Signed households are left alone: their credit line exists already and is the
    post-loan process's business.
    """
    open_entries = campaign.entries.filter(excluded_reason="").exclude(
        signing=CampaignHousehold.Signing.SIGNED
    )
    households = Household.objects.filter(pk__in=open_entries.values("household_id"))
    policy = LoanPolicy.objects.order_by("pk").first()
    substandard_from = policy.substandard_from_days if policy else 91
    bad_customers = Loan.objects.filter(
        Q(classification__in=NPL_CLASSES) | Q(days_past_due__gte=substandard_from)
    ).values("customer_id")
    blacklisted_customers = BlacklistEntry.objects.filter(
        is_active=True, customer__isnull=False
    ).values("customer_id")
    blacklisted = set(
        households.filter(
            Q(head_id__in=blacklisted_customers)
            | Q(members__customer_id__in=blacklisted_customers)
            | Q(blacklist_entries__is_active=True)
        ).values_list("pk", flat=True)
    )
    bad_credit = set(
        households.filter(
            Q(head_id__in=bad_customers) | Q(members__customer_id__in=bad_customers)
        ).values_list("pk", flat=True)
    )
    flagged = blacklisted | bad_credit
    if not flagged:
        return 0
    now = timezone.now()
    entries = list(open_entries.filter(household_id__in=flagged).select_for_update(of=("self",)))
    for entry in entries:
        entry.excluded_reason = (
            CampaignHousehold.Exclusion.BLACKLIST
            if entry.household_id in blacklisted
            else CampaignHousehold.Exclusion.BAD_CREDIT
        )
        entry.excluded_at = now
        entry.excluded_by = actor
    for entry in entries:
        entry.updated_at = now
    bulk_set(
        CampaignHousehold, entries, ["excluded_reason", "excluded_at", "excluded_by", "updated_at"]
    )
    audit_many(
        actor=actor,
        action="campaign_household.screen",
        rows=[(entry, "", entry.excluded_reason, {}) for entry in entries],
    )
    return len(entries)


@transaction.atomic
def campaign_households_add(
    *,
    actor: User,
    campaign: VillageCreditCampaign,
    households: list[Household] | None = None,
) -> int:
    """Target ``households`` (all of the village's when ``None``); returns how many were new.

    New targets are screened at once, so a household with a bad record never reaches the
    evaluators' lists.
    """
    locked = _lock_campaign(campaign)
    _require_phase(locked, Phase.PREPARATION, Phase.CREDITING)
    candidates = Household.objects.filter(village_id=locked.village_id)
    if households is not None:
        wanted = {household.pk for household in households}
        if candidates.filter(pk__in=wanted).count() != len(wanted):
            raise DomainError(
                _("Only households of the campaign's village can be targeted."),
                field="households",
                code="other_village",
            )
        candidates = candidates.filter(pk__in=wanted)
    existing = set(locked.entries.values_list("household_id", flat=True))
    new = [
        CampaignHousehold(campaign=locked, household_id=pk)
        for pk in candidates.order_by("pk").values_list("pk", flat=True)
        if pk not in existing
    ]
    CampaignHousehold.objects.bulk_create(new, batch_size=1000)
    audit_record(
        actor=actor, action="campaign.households_add", obj=locked, data={"added": len(new)}
    )
    _screen(locked, actor)
    return len(new)


@transaction.atomic
def campaign_screen(*, actor: User, campaign: VillageCreditCampaign) -> int:
    locked = _lock_campaign(campaign)
    _require_phase(locked, Phase.PREPARATION, Phase.CREDITING)
    excluded = _screen(locked, actor)
    audit_record(actor=actor, action="campaign.screen", obj=locked, data={"excluded": excluded})
    return excluded


@transaction.atomic
def campaign_household_exclude(
    *, actor: User, entry: CampaignHousehold, note: str
) -> CampaignHousehold:
    """Staff exclude a household for a reason of their own (recorded, never published)."""
    note = clean_text(note, field="note", max_length=200, required=True)
    locked = lock(CampaignHousehold, entry.pk, related=("campaign",))
    _require_phase(locked.campaign, Phase.PREPARATION, Phase.CREDITING)
    if locked.excluded_reason:
        raise ConflictError(_("This household is excluded already."), code="excluded")
    if locked.signing == CampaignHousehold.Signing.SIGNED:
        raise ConflictError(_("This household has signed already."), code="signed")
    locked.excluded_reason = CampaignHousehold.Exclusion.MANUAL
    locked.exclusion_note = note
    locked.excluded_at = timezone.now()
    locked.excluded_by = actor
    locked.save(
        update_fields=[
            "excluded_reason",
            "exclusion_note",
            "excluded_at",
            "excluded_by",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="campaign_household.exclude",
        obj=locked,
        from_state=_stage_before_exclusion(locked),
        to_state="excluded",
        comment=note,
    )
    return locked


def _stage_before_exclusion(entry: CampaignHousehold) -> str:
    """The stage an entry was in before its exclusion (for the audit row)."""
    if entry.evaluated_at is None:
        return "evaluating"
    return "reconciled" if entry.reconciled_at else "to_reconcile"


@transaction.atomic
def campaign_start_crediting(*, actor: User, campaign: VillageCreditCampaign):
    locked = _lock_campaign(campaign)
    _require_phase(locked, Phase.PREPARATION)
    if not locked.has_three_evaluators:
        raise ConflictError(
            _("Choose the three evaluators before crediting starts."), code="evaluators"
        )
    if not locked.has_target_households:
        raise ConflictError(
            _("Add the target households before crediting starts."), code="no_households"
        )
    if not can_proceed(locked.start_crediting):
        raise ConflictError(_("The campaign cannot start crediting now."), code="transition")
    locked.start_crediting()
    locked.phase_changed_at = timezone.now()
    locked.save(update_fields=["phase", "phase_changed_at"])
    # Records change between preparation and the first evaluation: screen once more.
    excluded = _screen(locked, actor)
    audit_record(
        actor=actor,
        action="campaign.start_crediting",
        obj=locked,
        from_state=Phase.PREPARATION,
        to_state=Phase.CREDITING,
        data={"excluded": excluded},
    )
    return locked


@transaction.atomic
def campaign_start_follow_up(*, actor: User, campaign: VillageCreditCampaign):
    locked = _lock_campaign(campaign)
    _require_phase(locked, Phase.CREDITING)
    if not locked.has_no_pending_decisions:
        raise ConflictError(
            _("The batch-credit group has households still to decide."), code="pending_decisions"
        )
    if not can_proceed(locked.start_follow_up):
        raise ConflictError(_("The campaign cannot move to follow-up now."), code="transition")
    locked.start_follow_up()
    locked.phase_changed_at = timezone.now()
    locked.save(update_fields=["phase", "phase_changed_at"])
    audit_record(
        actor=actor,
        action="campaign.start_follow_up",
        obj=locked,
        from_state=Phase.CREDITING,
        to_state=Phase.FOLLOW_UP,
    )
    return locked


# --- back-to-back evaluation -----------------------------------------------------------------


@transaction.atomic
def evaluation_submit(
    *,
    actor: User,
    entry: CampaignHousehold,
    rating: str,
    suggested_limit,
    comment: str = "",
) -> Evaluation:
    """Record (or correct) the actor's own evaluation of a household.

    An evaluator may correct their entry until the third evaluator has submitted; from then on
    all three are open to view and final. The audit row names the entry, never the values: the
    audit trail must not become a way round the back-to-back rule.
    """
    rating = clean_choice(rating, field="rating", choices=CreditRating)
    suggested_limit = clean_amount(suggested_limit, field="suggested_limit")
    comment = clean_text(comment, field="comment", max_length=200)
    locked = lock(CampaignHousehold, entry.pk, related=("campaign",))
    campaign = locked.campaign
    if not campaign.evaluator_slots.filter(user_id=actor.pk).exists():
        raise PermissionDenied(_("You are not an evaluator of this campaign."))
    _require_phase(campaign, Phase.CREDITING)
    if locked.excluded_reason:
        raise ConflictError(_("This household is not being evaluated."), code="excluded")
    if locked.evaluated_at is not None:
        raise ConflictError(
            _("All three evaluations are in; they can no longer be changed."), code="final"
        )
    now = timezone.now()
    evaluation = Evaluation.objects.filter(entry=locked, evaluator=actor).first()
    if evaluation is None:
        evaluation = Evaluation.objects.create(
            campaign=campaign,
            entry=locked,
            evaluator=actor,
            rating=rating,
            suggested_limit=suggested_limit,
            comment=comment,
            submitted_at=now,
        )
        locked.submitted_count += 1
        if locked.submitted_count == 3:
            locked.evaluated_at = now
        locked.save(update_fields=["submitted_count", "evaluated_at", "updated_at"])
        action = "evaluation.submit"
    else:
        evaluation.rating = rating
        evaluation.suggested_limit = suggested_limit
        evaluation.comment = comment
        evaluation.submitted_at = now
        evaluation.save(update_fields=["rating", "suggested_limit", "comment", "submitted_at"])
        action = "evaluation.correct"
    audit_record(
        actor=actor,
        action=action,
        obj=evaluation,
        to_state=f"{locked.submitted_count}/3",
        data={"entry_id": locked.pk},
    )
    return evaluation


# --- reconciliation ---------------------------------------------------------------------------


@transaction.atomic
def campaign_reconcile(*, actor: User, campaign: VillageCreditCampaign) -> dict[str, int]:
    """Reconcile every household whose three evaluations are in, in one go.

    Set-based: one read of the evaluations, one bulk UPDATE of the households, one INSERT of
    the audit rows, whatever the size of the village (800 households take well under a second;
    ``scripts/bench_village.py`` measures it). A close result becomes the pre-credit at once;
    a compromise waits for the batch-credit group.
    """
    locked = _lock_campaign(campaign)
    _require_phase(locked, Phase.CREDITING)
    entries = list(
        locked.entries.filter(
            excluded_reason="", evaluated_at__isnull=False, reconciled_at__isnull=True
        )
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    by_entry: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for entry_id, rating, limit in (
        Evaluation.objects.filter(entry__in=[e.pk for e in entries])
        .order_by("entry_id", "evaluator_id")
        .values_list("entry_id", "rating", "suggested_limit")
    ):
        by_entry[entry_id].append((rating, limit))
    now = timezone.now()
    counts = {"reconciled": 0, "close": 0, "compromise": 0, "pre_credited": 0}
    audit_rows = []
    for entry in entries:
        inputs = by_entry[entry.pk]
        result = reconcile(
            [limit for _rating, limit in inputs],
            [rating for rating, _limit in inputs],
            locked.tolerance,
        )
        entry.reconciled_at = entry.updated_at = now
        entry.outcome = result.outcome
        entry.limit_rule = result.limit_rule
        entry.rating_rule = result.rating_rule
        entry.reconcile_inputs = result.as_inputs()
        entry.proposed_limit = result.proposed_limit
        entry.proposed_rating = result.proposed_rating
        counts["reconciled"] += 1
        counts[result.outcome] += 1
        if result.outcome == CampaignHousehold.Outcome.CLOSE:
            entry.limit = result.proposed_limit
            entry.rating = result.proposed_rating
            if entry.limit > 0:
                entry.pre_credited_at = now
                counts["pre_credited"] += 1
        audit_rows.append((entry, "to_reconcile", entry.stage, {"rule": result.limit_rule}))
    bulk_set(
        CampaignHousehold,
        entries,
        [
            "updated_at",
            "reconciled_at",
            "outcome",
            "limit_rule",
            "rating_rule",
            "reconcile_inputs",
            "proposed_limit",
            "proposed_rating",
            "limit",
            "rating",
            "pre_credited_at",
        ],
    )
    audit_many(actor=actor, action="campaign_household.reconcile", rows=audit_rows)
    audit_record(actor=actor, action="campaign.reconcile", obj=locked, data=counts)
    return counts


@transaction.atomic
def campaign_household_decide(
    *,
    actor: User,
    entry: CampaignHousehold,
    limit,
    rating: str,
    comment: str,
) -> CampaignHousehold:
    """The batch-credit group's decision on a compromise: the limit (0 = no credit), the rating
    and a comment. Segregation of duties: no evaluator of the campaign decides."""
    comment = clean_text(comment, field="comment", max_length=2000, required=True)
    limit = clean_amount(limit, field="limit")
    rating = clean_choice(rating, field="rating", choices=CreditRating, required=limit > 0)
    locked = lock(CampaignHousehold, entry.pk, related=("campaign",))
    _require_phase(locked.campaign, Phase.CREDITING)
    if locked.campaign.evaluator_slots.filter(user_id=actor.pk).exists():
        raise PermissionDenied(_("An evaluator of this campaign cannot decide its households."))
    if not locked.awaits_decision:
        raise ConflictError(
            _("This household is not waiting for the batch-credit group."), code="not_referred"
        )
    now = timezone.now()
    locked.decided_by = actor
    locked.decided_at = now
    locked.decision_comment = comment
    locked.limit = limit
    locked.rating = rating
    locked.pre_credited_at = now if limit > 0 else None
    locked.save(
        update_fields=[
            "decided_by",
            "decided_at",
            "decision_comment",
            "limit",
            "rating",
            "pre_credited_at",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="campaign_household.decide",
        obj=locked,
        from_state="to_decide",
        to_state=locked.stage,
        comment=comment,
        data={"limit": str(limit), "rating": rating, "proposed": str(locked.proposed_limit)},
    )
    return locked


# --- day-by-day plan --------------------------------------------------------------------------


@transaction.atomic
def campaign_plan_day_set(
    *,
    actor: User,
    campaign: VillageCreditCampaign,
    day: date,
    task: str = "",
    planned_evaluations: int = 0,
    planned_signings: int = 0,
) -> CampaignDayPlan:
    locked = _lock_campaign(campaign)
    if not isinstance(day, date) or not locked.starts_on <= day <= locked.ends_on:
        raise DomainError(
            _("The day must lie within the campaign, from %(start)s to %(end)s.")
            % {"start": locked.starts_on, "end": locked.ends_on},
            field="day",
            code="outside",
        )
    task = clean_text(task, field="task", max_length=200)
    for field, value in (
        ("planned_evaluations", planned_evaluations),
        ("planned_signings", planned_signings),
    ):
        if not isinstance(value, int) or not 0 <= value <= 10_000:
            raise DomainError(_("Enter a number from 0 to 10,000."), field=field)
    try:
        with transaction.atomic():
            plan, created = CampaignDayPlan.objects.update_or_create(
                campaign=locked,
                day=day,
                defaults={
                    "task": task,
                    "planned_evaluations": planned_evaluations,
                    "planned_signings": planned_signings,
                },
            )
    except IntegrityError:
        raise ConflictError(_("Someone else changed this day; try again."), code="race") from None
    audit_record(
        actor=actor,
        action="campaign.plan_day",
        obj=locked,
        data={
            "day": str(day),
            "created": created,
            "evaluations": planned_evaluations,
            "signings": planned_signings,
        },
    )
    return plan


@transaction.atomic
def campaign_plan_day_delete(*, actor: User, plan: CampaignDayPlan) -> None:
    locked = _lock_campaign(plan.campaign)
    deleted, _rows = CampaignDayPlan.objects.filter(pk=plan.pk, campaign=locked).delete()
    if not deleted:
        raise ConflictError(_("This day is no longer in the plan."), code="gone")
    audit_record(
        actor=actor, action="campaign.plan_day_delete", obj=locked, data={"day": str(plan.day)}
    )
