"""Signing the pre-credit (签约): the credit line, the customer's rating, refusals, households
away from home.

Door-to-door signing is the default channel: seed 003 chose it over centralized and counter
signing because it spares households with poor credit the villagers' talk. Each household is
signed in its own transaction — the credit line, the customer's rating and the household's
status change together or not at all — and a batch of signings is a loop of such transactions,
so one household's problem never undoes the others'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record
from customers.models import CreditRating, Customer
from grid.models import CampaignHousehold, VillageCreditCampaign
from grid.services._common import clean_choice, clean_text, lock, today
from loans.models import CreditLine, Product
from loans.services.lifecycle import credit_line_grant

Signing = CampaignHousehold.Signing
Phase = VillageCreditCampaign.Phase
SIGNABLE_PHASES = (Phase.CREDITING, Phase.FOLLOW_UP)


@transaction.atomic
def customer_credit_rating_set(
    *, actor: User, customer: Customer, rating: str, rated_on: date
) -> Customer:
    """Set a customer's farmer credit rating from a whole-village evaluation.

    Touches only ``credit_rating`` and ``credit_rated_on`` (the customers app owns every other
    field), with an audit row naming the old and new rating.
    """
    rating = clean_choice(rating, field="rating", choices=CreditRating)
    # With its branch: the credit line granted next is booked to the customer's branch.
    locked = lock(Customer, customer.pk, related=("branch",))
    before = locked.credit_rating
    locked.credit_rating = rating
    locked.credit_rated_on = rated_on
    locked.save(update_fields=["credit_rating", "credit_rated_on"])
    audit_record(
        actor=actor,
        action="customer.credit_rating",
        obj=locked,
        from_state=before,
        to_state=rating,
        data={"source": "village_campaign", "rated_on": str(rated_on)},
    )
    return locked


def _lock_entry(entry: CampaignHousehold) -> CampaignHousehold:
    return (
        CampaignHousehold.objects.select_for_update(of=("self",))
        .select_related("campaign", "campaign__product", "household", "household__head")
        .get(pk=entry.pk)
    )


def _require_signable(entry: CampaignHousehold, *, allowed: tuple[str, ...]) -> None:
    if entry.campaign.phase not in SIGNABLE_PHASES:
        raise ConflictError(_("Signing starts when the campaign is crediting."), code="wrong_phase")
    if entry.excluded_reason or entry.pre_credited_at is None:
        raise ConflictError(_("This household has no pre-credit to sign."), code="not_pre_credited")
    if entry.signing not in allowed:
        raise ConflictError(
            _("This household's signing is already recorded as: %(status)s.")
            % {"status": entry.get_signing_display()},
            code="signing_state",
        )


@transaction.atomic
def campaign_household_sign(
    *,
    actor: User,
    entry: CampaignHousehold,
    channel: str = CampaignHousehold.Channel.DOOR_TO_DOOR,
    product: Product | None = None,
) -> CampaignHousehold:
    """The household signs its pre-credit: the head's credit line is granted (source
    "village_campaign") and the head's credit rating becomes the campaign's.

    ``product`` may pass the campaign's product with its tiers prefetched (batch signing reads
    them once instead of once per household); it must be the campaign's.
    """
    channel = clean_choice(channel, field="channel", choices=CampaignHousehold.Channel)
    locked = _lock_entry(entry)
    # A refusal is not final: a household that changes its mind signs the same pre-credit.
    _require_signable(locked, allowed=(Signing.PENDING, Signing.AWAY, Signing.REFUSED))
    head = locked.household.head
    if head is None:
        raise DomainError(
            _("File the head of household as a customer first."),
            field="household",
            code="head_not_filed",
        )
    campaign = locked.campaign
    if product is None or product.pk != campaign.product_id:
        product = campaign.product
    signed_on = today()
    # The rating first: the product's eligibility and tier follow the customer's rating, so the
    # loans service must see the customer as updated here, not the copy read before.
    head = customer_credit_rating_set(
        actor=actor, customer=head, rating=locked.rating, rated_on=signed_on
    )
    line = credit_line_grant(
        actor=actor,
        customer=head,
        product=product,
        limit=locked.limit,
        valid_from=signed_on,
        valid_to=signed_on + relativedelta(months=campaign.credit_months) - timedelta(days=1),
        revolving=product.revolving,
        guarantee_contract=None,
        source=CreditLine.Source.VILLAGE_CAMPAIGN,
    )
    before = locked.signing
    locked.signing = Signing.SIGNED
    locked.channel = channel
    locked.signed_at = timezone.now()
    locked.signed_by = actor
    locked.credit_line = line
    locked.save(
        update_fields=["signing", "channel", "signed_at", "signed_by", "credit_line", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="campaign_household.sign",
        obj=locked,
        from_state=before,
        to_state=Signing.SIGNED,
        data={"channel": channel, "credit_line_id": line.pk},
    )
    return locked


@dataclass
class BatchSigning:
    signed: list[CampaignHousehold] = field(default_factory=list)
    failed: list[tuple[CampaignHousehold, str]] = field(default_factory=list)


def campaign_sign_many(
    *,
    actor: User,
    campaign: VillageCreditCampaign,
    entries: list[CampaignHousehold],
    channel: str,
) -> BatchSigning:
    """Sign several households (a centralized signing session, say), each in its own
    transaction, and report each refusal with its reason instead of stopping at the first."""
    clean_choice(channel, field="channel", choices=CampaignHousehold.Channel)
    if any(entry.campaign_id != campaign.pk for entry in entries):
        raise DomainError(_("All households must belong to this campaign."), field="entries")
    product = Product.objects.prefetch_related("tiers").get(pk=campaign.product_id)
    result = BatchSigning()
    for entry in entries:
        try:
            result.signed.append(
                campaign_household_sign(actor=actor, entry=entry, channel=channel, product=product)
            )
        except DomainError as exc:
            result.failed.append((entry, exc.message))
    return result


@transaction.atomic
def campaign_household_refuse(
    *, actor: User, entry: CampaignHousehold, reason: str
) -> CampaignHousehold:
    reason = clean_text(reason, field="reason", max_length=200, required=True)
    locked = _lock_entry(entry)
    _require_signable(locked, allowed=(Signing.PENDING, Signing.AWAY))
    before = locked.signing
    locked.signing = Signing.REFUSED
    locked.refusal_reason = reason
    locked.save(update_fields=["signing", "refusal_reason", "updated_at"])
    audit_record(
        actor=actor,
        action="campaign_household.refuse",
        obj=locked,
        from_state=before,
        to_state=Signing.REFUSED,
        comment=reason,
    )
    return locked


@transaction.atomic
def campaign_household_away(
    *, actor: User, entry: CampaignHousehold, note: str, follow_up_on: date
) -> CampaignHousehold:
    """Migrant households away from home (seed 003's "regional problem"): record where they
    are and when to follow up; the follow-up appears among the account manager's due contacts."""
    note = clean_text(note, field="note", max_length=200, required=True)
    if not isinstance(follow_up_on, date):
        raise DomainError(_("Give the follow-up date."), field="follow_up_on", code="required")
    if follow_up_on < today():
        raise DomainError(
            _("The follow-up date cannot be in the past."), field="follow_up_on", code="past"
        )
    locked = _lock_entry(entry)
    _require_signable(locked, allowed=(Signing.PENDING, Signing.AWAY))
    before = locked.signing
    locked.signing = Signing.AWAY
    locked.away_note = note
    locked.away_follow_up_on = follow_up_on
    locked.save(update_fields=["signing", "away_note", "away_follow_up_on", "updated_at"])
    audit_record(
        actor=actor,
        action="campaign_household.away",
        obj=locked,
        from_state=before,
        to_state=Signing.AWAY,
        comment=note,
        data={"follow_up_on": str(follow_up_on)},
    )
    return locked
