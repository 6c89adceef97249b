"""Household files (建档): the household, its members, its completeness score, its card.

The completeness score is stored on the household and recomputed here whenever the file or the
members change, so that lists and metrics read one column. Which items count is data
(``FilingRequirement``): head office may decide that, say, the annual income is required too.

The friction seed 003 names — filing the elderly and children — is met by asking only name,
relation and birth year of any member (plus where they work, for members working away).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from coop.models import User
from coop.services import ConflictError, DomainError, audit_record
from customers.models import Customer, Occupation
from customers.selectors import customers_visible
from grid.models import FilingRequirement, Household, HouseholdMember, IncomeSource, Village
from grid.services._common import clean_amount, clean_choice, clean_text, lock, today

HOUSEHOLD_FIELDS = (
    "head_name",
    "head",
    "village_group",
    "address",
    "income_sources",
    "annual_income",
    "assets",
    "asset_value",
    "labour_count",
    "notes",
)


# --- completeness -----------------------------------------------------------------------------


def _item_present(item: str, household: Household, members: list[HouseholdMember]) -> bool:
    Item = FilingRequirement.Item
    return {
        Item.HEAD_CUSTOMER: household.head_id is not None,
        Item.VILLAGE_GROUP: bool(household.village_group),
        Item.ADDRESS: bool(household.address),
        Item.INCOME_SOURCES: bool(household.income_sources),
        Item.ANNUAL_INCOME: household.annual_income is not None,
        Item.ASSETS: bool(household.assets),
        Item.LABOUR_COUNT: household.labour_count is not None,
        Item.MEMBERS: bool(members) and all(m.is_minimally_filed for m in members),
    }[item]


def completeness_of(
    household: Household,
    members: list[HouseholdMember],
    requirements: list[FilingRequirement],
) -> int:
    """Percentage of the required weight present, rounded DOWN so that only a complete file
    scores 100 (a household is *filed* at 100)."""
    required = [r for r in requirements if r.required]
    total = sum(r.weight for r in required)
    if total == 0:
        return 100
    present = sum(r.weight for r in required if _item_present(r.item, household, members))
    return present * 100 // total


def missing_items(household: Household, members: list[HouseholdMember]) -> list[str]:
    """Labels of the required items the file still lacks, for the household page."""
    return [
        r.get_item_display()
        for r in FilingRequirement.objects.filter(required=True)
        if not _item_present(r.item, household, members)
    ]


def _refresh_counts(household: Household) -> None:
    """Recompute the stored member counts and score of a locked household, and save them."""
    members = list(household.members.all())
    household.member_count = len(members)
    household.migrant_count = sum(1 for m in members if m.is_migrant)
    household.completeness = completeness_of(
        household, members, list(FilingRequirement.objects.all())
    )
    household.save(update_fields=["member_count", "migrant_count", "completeness", "updated_at"])


def households_recompute_completeness(households: QuerySet[Household], chunk: int = 2000) -> int:
    """Recompute the stored scores of ``households`` (after the requirements changed).

    Runs inside the caller's transaction; one read and one bulk UPDATE per chunk.
    """
    requirements = list(FilingRequirement.objects.all())
    changed = 0
    ids = list(households.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        batch = list(
            Household.objects.filter(pk__in=ids[start : start + chunk]).prefetch_related("members")
        )
        updates = []
        for household in batch:
            score = completeness_of(household, list(household.members.all()), requirements)
            if score != household.completeness:
                household.completeness = score
                updates.append(household)
        Household.objects.bulk_update(updates, ["completeness"], batch_size=1000)
        changed += len(updates)
    return changed


# --- input checks -----------------------------------------------------------------------------


def _check_head(actor: User, village: Village, head: Customer | None, household_pk=None) -> None:
    if head is None:
        return
    if head.kind != Customer.Kind.INDIVIDUAL:
        raise DomainError(
            _("The head of household must be an individual customer."), field="head", code="kind"
        )
    if not customers_visible(actor).filter(pk=head.pk).exists():
        raise DomainError(_("Choose a customer of yours."), field="head", code="not_visible")
    if head.branch_id != village.grid.branch_id:
        raise DomainError(
            _("The customer belongs to another branch than the village's grid."),
            field="head",
            code="wrong_branch",
        )
    other_households = Household.objects.filter(head=head).exclude(pk=household_pk)
    # Any membership but the head row of this very household (which the head link updates).
    other_memberships = HouseholdMember.objects.filter(customer=head).exclude(
        household_id=household_pk, relation=HouseholdMember.Relation.HEAD
    )
    if other_households.exists() or other_memberships.exists():
        raise DomainError(
            _("This customer is already a member of a household."),
            field="head",
            code="other_household",
        )


def _clean_household_fields(fields: dict) -> dict:
    cleaned = {}
    if "head_name" in fields:
        cleaned["head_name"] = clean_text(
            fields["head_name"], field="head_name", max_length=50, required=True
        )
    for name, length in (("village_group", 20), ("address", 200), ("assets", 300)):
        if name in fields:
            cleaned[name] = clean_text(fields[name], field=name, max_length=length)
    if "notes" in fields:
        cleaned["notes"] = clean_text(fields["notes"], field="notes", max_length=2000)
    if "income_sources" in fields:
        sources = list(dict.fromkeys(fields["income_sources"] or []))
        for source in sources:
            clean_choice(source, field="income_sources", choices=IncomeSource)
        cleaned["income_sources"] = sources
    for name in ("annual_income", "asset_value"):
        if name in fields:
            cleaned[name] = clean_amount(fields[name], field=name, required=False)
    if "labour_count" in fields:
        value = fields["labour_count"]
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 50):
            raise DomainError(
                _("Enter a number from 0 to 50."), field="labour_count", code="invalid"
            )
        cleaned["labour_count"] = value
    if "head" in fields:
        cleaned["head"] = fields["head"]
    return cleaned


# --- households -------------------------------------------------------------------------------


@transaction.atomic
def household_create(
    *,
    actor: User,
    village: Village,
    head_name: str,
    head: Customer | None = None,
    village_group: str = "",
    address: str = "",
    income_sources: Iterable[str] = (),
    annual_income=None,
    assets: str = "",
    asset_value=None,
    labour_count: int | None = None,
    notes: str = "",
) -> Household:
    fields = _clean_household_fields(
        {
            "head_name": head_name,
            "head": head,
            "village_group": village_group,
            "address": address,
            "income_sources": list(income_sources),
            "annual_income": annual_income,
            "assets": assets,
            "asset_value": asset_value,
            "labour_count": labour_count,
            "notes": notes,
        }
    )
    _check_head(actor, village, head)
    household = Household.objects.create(village=village, created_by=actor, **fields)
    # The head is also the first member, so the members list is the whole family.
    HouseholdMember.objects.create(
        household=household,
        name=household.head_name,
        relation=HouseholdMember.Relation.HEAD,
        gender=head.gender if head else "",
        birth_year=head.birth_date.year if head and head.birth_date else None,
        occupation=head.occupation if head else "",
        is_migrant=bool(head and head.workplace == "away"),
        works_in=head.work_location if head else "",
        customer=head,
    )
    _refresh_counts(household)
    audit_record(
        actor=actor,
        action="household.create",
        obj=household,
        to_state=f"completeness:{household.completeness}",
        data={"village_id": village.pk, "head_customer_id": head.pk if head else None},
    )
    return household


@transaction.atomic
def household_update(*, actor: User, household: Household, **fields) -> Household:
    """Change the given fields (any of ``HOUSEHOLD_FIELDS``); missing ones stay as they are."""
    unknown = set(fields) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise TypeError(f"Unknown household fields: {sorted(unknown)}")
    locked = lock(Household, household.pk, related=("village", "village__grid"))
    cleaned = _clean_household_fields(fields)
    if "head" in cleaned and cleaned["head"] != locked.head:
        if locked.head_id is not None and cleaned["head"] is None:
            raise DomainError(
                _("A filed head of household cannot be unlinked; correct the customer instead."),
                field="head",
                code="unlink",
            )
        _check_head(actor, locked.village, cleaned["head"], household_pk=locked.pk)
    before = locked.completeness
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        head_member = locked.members.filter(relation=HouseholdMember.Relation.HEAD).first()
        if head_member is not None and ("head" in changed or "head_name" in changed):
            head_member.name = locked.head_name
            if locked.head is not None:
                head_member.customer = locked.head
                head_member.gender = head_member.gender or locked.head.gender
                if head_member.birth_year is None and locked.head.birth_date:
                    head_member.birth_year = locked.head.birth_date.year
            head_member.save()
    _refresh_counts(locked)
    audit_record(
        actor=actor,
        action="household.update",
        obj=locked,
        from_state=f"completeness:{before}",
        to_state=f"completeness:{locked.completeness}",
        data={"changed": sorted(changed)},
    )
    return locked


@transaction.atomic
def household_card_record(*, actor: User, household: Household, issued_on: date) -> Household:
    """Record the debit card issued to the household (a core-banking fact, seed 003)."""
    locked = lock(Household, household.pk)
    if not isinstance(issued_on, date):
        raise DomainError(_("Give the date the card was issued."), field="issued_on")
    if issued_on > today():
        raise DomainError(_("The date cannot be in the future."), field="issued_on", code="future")
    before = str(locked.card_issued_on or "")
    locked.card_issued_on = issued_on
    locked.save(update_fields=["card_issued_on", "updated_at"])
    audit_record(
        actor=actor,
        action="household.card",
        obj=locked,
        from_state=before,
        to_state=str(issued_on),
    )
    return locked


# --- members ----------------------------------------------------------------------------------

MEMBER_FIELDS = (
    "name",
    "relation",
    "gender",
    "birth_year",
    "occupation",
    "is_migrant",
    "works_in",
    "customer",
    "note",
)


def _clean_member_fields(fields: dict) -> dict:
    cleaned = {}
    if "name" in fields:
        cleaned["name"] = clean_text(fields["name"], field="name", max_length=50, required=True)
    if "relation" in fields:
        cleaned["relation"] = clean_choice(
            fields["relation"], field="relation", choices=HouseholdMember.Relation
        )
    if "gender" in fields:
        cleaned["gender"] = clean_choice(
            fields["gender"], field="gender", choices=Customer.Gender, required=False
        )
    if "occupation" in fields:
        cleaned["occupation"] = clean_choice(
            fields["occupation"], field="occupation", choices=Occupation, required=False
        )
    if "birth_year" in fields:
        year = fields["birth_year"]
        if year is not None and (not isinstance(year, int) or not 1900 <= year <= today().year):
            raise DomainError(
                _("Enter a birth year between 1900 and this year."),
                field="birth_year",
                code="invalid",
            )
        cleaned["birth_year"] = year
    if "is_migrant" in fields:
        cleaned["is_migrant"] = bool(fields["is_migrant"])
    if "works_in" in fields:
        cleaned["works_in"] = clean_text(fields["works_in"], field="works_in", max_length=100)
    if "note" in fields:
        cleaned["note"] = clean_text(fields["note"], field="note", max_length=200)
    if "customer" in fields:
        cleaned["customer"] = fields["customer"]
    return cleaned


def _check_member_customer(
    actor: User, household: Household, customer: Customer | None, member_pk=None
) -> None:
    if customer is None:
        return
    if customer.kind != Customer.Kind.INDIVIDUAL:
        raise DomainError(
            _("A family member must be an individual customer."), field="customer", code="kind"
        )
    if not customers_visible(actor).filter(pk=customer.pk).exists():
        raise DomainError(_("Choose a customer of yours."), field="customer", code="not_visible")
    elsewhere = HouseholdMember.objects.filter(customer=customer).exclude(pk=member_pk)
    if (
        elsewhere.exists()
        or Household.objects.filter(head=customer).exclude(pk=household.pk).exists()
    ):
        raise DomainError(
            _("This customer is already a member of a household."),
            field="customer",
            code="other_household",
        )


@transaction.atomic
def household_member_add(*, actor: User, household: Household, **fields) -> HouseholdMember:
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown member fields: {sorted(unknown)}")
    locked = lock(Household, household.pk)
    cleaned = _clean_member_fields({"name": "", "relation": "", **fields})
    if cleaned["relation"] == HouseholdMember.Relation.HEAD:
        raise DomainError(
            _("The household already has its head; choose another relation."),
            field="relation",
            code="second_head",
        )
    _check_member_customer(actor, locked, cleaned.get("customer"))
    try:
        with transaction.atomic():
            member = HouseholdMember.objects.create(household=locked, **cleaned)
    except IntegrityError:
        raise ConflictError(
            _("This customer is already a member of a household."), code="other_household"
        ) from None
    _refresh_counts(locked)
    audit_record(
        actor=actor,
        action="household_member.add",
        obj=member,
        data={"household_id": locked.pk, "relation": member.relation},
    )
    return member


@transaction.atomic
def household_member_update(*, actor: User, member: HouseholdMember, **fields) -> HouseholdMember:
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown member fields: {sorted(unknown)}")
    household = lock(Household, member.household_id)
    locked = lock(HouseholdMember, member.pk)
    cleaned = _clean_member_fields(fields)
    relation = cleaned.get("relation", locked.relation)
    if (relation == HouseholdMember.Relation.HEAD) != (
        locked.relation == HouseholdMember.Relation.HEAD
    ):
        raise DomainError(
            _("The head of household is changed on the household itself."),
            field="relation",
            code="head",
        )
    if "customer" in cleaned and cleaned["customer"] != locked.customer:
        if locked.relation == HouseholdMember.Relation.HEAD:
            raise DomainError(
                _("The head of household is changed on the household itself."),
                field="customer",
                code="head",
            )
        _check_member_customer(actor, household, cleaned["customer"], member_pk=locked.pk)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=changed)
    _refresh_counts(household)
    audit_record(
        actor=actor,
        action="household_member.update",
        obj=locked,
        data={"household_id": household.pk, "changed": sorted(changed)},
    )
    return locked


@transaction.atomic
def household_member_remove(*, actor: User, member: HouseholdMember) -> None:
    household = lock(Household, member.household_id)
    locked = lock(HouseholdMember, member.pk)
    if locked.relation == HouseholdMember.Relation.HEAD:
        raise DomainError(
            _("The head of household cannot be removed from the household."),
            field="relation",
            code="head",
        )
    audit_record(
        actor=actor,
        action="household_member.remove",
        obj=locked,
        data={"household_id": household.pk, "relation": locked.relation},
    )
    locked.delete()
    _refresh_counts(household)
