"""Grids, their officers and villages; the blacklist; the filing requirements."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import OrgUnit, User
from coop.roles import Role, has_role
from coop.scoping import can_see_unit
from coop.services import ConflictError, DomainError, audit_record
from customers.models import Customer
from customers.validators import normalize_mobile, validate_mobile
from grid.models import BlacklistEntry, FilingRequirement, Grid, GridOfficer, Household, Village
from grid.services._common import clean_choice, clean_text, lock


def _check_account_manager(user: User | None, branch: OrgUnit, *, field: str) -> User:
    if user is None:
        raise DomainError(_("Choose the account manager."), field=field, code="required")
    if (
        not user.is_active
        or not has_role(user, Role.ACCOUNT_MANAGER)
        or not user.org_unit.path.startswith(branch.path)
    ):
        raise DomainError(
            _("The account manager must be an active account manager of this branch."),
            field=field,
            code="not_account_manager",
        )
    return user


@transaction.atomic
def grid_create(
    *,
    actor: User,
    branch: OrgUnit,
    code: str,
    name: str,
    account_manager: User | None,
    area: str = "",
) -> Grid:
    if branch is None or branch.kind != OrgUnit.Kind.BRANCH or not can_see_unit(actor, branch):
        raise DomainError(_("Choose a branch of yours."), field="branch", code="invalid_branch")
    code = clean_text(code, field="code", max_length=20, required=True).upper()
    name = clean_text(name, field="name", max_length=100, required=True)
    area = clean_text(area, field="area", max_length=200)
    _check_account_manager(account_manager, branch, field="account_manager")
    if Grid.objects.filter(code=code).exists():
        raise DomainError(
            _("The code %(code)s is already used.") % {"code": code}, field="code", code="taken"
        )
    try:
        with transaction.atomic():
            grid = Grid.objects.create(
                code=code, name=name, branch=branch, account_manager=account_manager, area=area
            )
    except IntegrityError:  # the same code created at the same moment by someone else
        raise DomainError(
            _("The code %(code)s is already used.") % {"code": code}, field="code", code="taken"
        ) from None
    audit_record(
        actor=actor,
        action="grid.create",
        obj=grid,
        to_state="active",
        data={"code": code, "account_manager_id": account_manager.pk},
    )
    return grid


@transaction.atomic
def grid_update(
    *,
    actor: User,
    grid: Grid,
    name: str,
    account_manager: User | None,
    area: str = "",
    is_active: bool = True,
) -> Grid:
    locked = lock(Grid, grid.pk, related=("branch",))
    name = clean_text(name, field="name", max_length=100, required=True)
    area = clean_text(area, field="area", max_length=200)
    _check_account_manager(account_manager, locked.branch, field="account_manager")
    was_active = locked.is_active
    previous_manager = locked.account_manager_id
    locked.name, locked.area, locked.is_active = name, area, bool(is_active)
    locked.account_manager = account_manager
    locked.save(update_fields=["name", "area", "is_active", "account_manager"])
    audit_record(
        actor=actor,
        action="grid.update",
        obj=locked,
        from_state="active" if was_active else "inactive",
        to_state="active" if locked.is_active else "inactive",
        data={
            "account_manager_from": previous_manager,
            "account_manager_to": account_manager.pk,
        },
    )
    return locked


@transaction.atomic
def grid_officer_add(
    *,
    actor: User,
    grid: Grid,
    role: str,
    name: str = "",
    user: User | None = None,
    mobile: str = "",
    duty: str = "",
) -> GridOfficer:
    locked = lock(Grid, grid.pk, related=("branch",))
    role = clean_choice(role, field="role", choices=GridOfficer.Role)
    duty = clean_text(duty, field="duty", max_length=200)
    if user is not None:
        if not user.is_active or not user.org_unit.path.startswith(locked.branch.path):
            raise DomainError(
                _("A staff officer must be active staff of the grid's branch."),
                field="user",
                code="wrong_branch",
            )
        if GridOfficer.objects.filter(grid=locked, user=user, is_active=True).exists():
            raise ConflictError(
                _("%(name)s is already an officer of this grid.") % {"name": user.display_name},
                code="duplicate",
            )
        name = name or user.display_name
    name = clean_text(name, field="name", max_length=50, required=True)
    mobile = normalize_mobile(mobile or "")
    if mobile:
        try:
            validate_mobile(mobile)
        except ValidationError as exc:
            raise DomainError(exc.messages[0], field="mobile", code="format") from None
    officer = GridOfficer.objects.create(
        grid=locked, user=user, name=name, mobile=mobile, role=role, duty=duty
    )
    # The mobile number stays out of the audit row (personal data).
    audit_record(
        actor=actor,
        action="grid_officer.add",
        obj=officer,
        to_state="on_duty",
        data={"grid_id": locked.pk, "role": role, "user_id": user.pk if user else None},
    )
    return officer


@transaction.atomic
def grid_officer_remove(*, actor: User, officer: GridOfficer, reason: str = "") -> GridOfficer:
    locked = lock(GridOfficer, officer.pk)
    if not locked.is_active:
        raise ConflictError(_("This officer is no longer on duty."), code="inactive")
    reason = clean_text(reason, field="reason", max_length=200)
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="grid_officer.remove",
        obj=locked,
        from_state="on_duty",
        to_state="off_duty",
        comment=reason,
    )
    return locked


@transaction.atomic
def village_create(*, actor: User, grid: Grid, town: str, name: str) -> Village:
    town = clean_text(town, field="town", max_length=50, required=True)
    name = clean_text(name, field="name", max_length=50, required=True)
    if Village.objects.filter(town=town, name=name).exists():
        raise DomainError(
            _("%(town)s already has a village called %(name)s.") % {"town": town, "name": name},
            field="name",
            code="taken",
        )
    try:
        with transaction.atomic():
            village = Village.objects.create(grid=grid, town=town, name=name)
    except IntegrityError:  # created at the same moment by someone else
        raise DomainError(
            _("%(town)s already has a village called %(name)s.") % {"town": town, "name": name},
            field="name",
            code="taken",
        ) from None
    audit_record(actor=actor, action="village.create", obj=village, data={"grid_id": grid.pk})
    return village


# --- blacklist --------------------------------------------------------------------------------


@transaction.atomic
def blacklist_add(
    *,
    actor: User,
    reason: str,
    customer: Customer | None = None,
    household: Household | None = None,
) -> BlacklistEntry:
    """Blacklist a customer, or a household whose head has no customer file (no ID on file)."""
    reason = clean_text(reason, field="reason", max_length=1000, required=True)
    if (customer is None) == (household is None):
        raise DomainError(
            _("Name either a customer or a household."), field="customer", code="required"
        )
    if customer is not None:
        if customer.kind != Customer.Kind.INDIVIDUAL:
            raise DomainError(
                _("Only individuals can be blacklisted here."), field="customer", code="kind"
            )
        branch = customer.branch
        duplicate = BlacklistEntry.objects.filter(customer=customer, is_active=True)
    else:
        branch = household.village.grid.branch
        duplicate = BlacklistEntry.objects.filter(household=household, is_active=True)
    if not can_see_unit(actor, branch):
        raise DomainError(_("Choose a customer of your branch."), field="customer")
    if duplicate.exists():
        raise ConflictError(_("Already on the blacklist."), code="duplicate")
    entry = BlacklistEntry.objects.create(
        branch=branch, customer=customer, household=household, reason=reason, added_by=actor
    )
    audit_record(
        actor=actor,
        action="blacklist.add",
        obj=entry,
        to_state="active",
        comment=reason,
        data={
            "customer_id": customer.pk if customer else None,
            "household_id": household.pk if household else None,
        },
    )
    return entry


@transaction.atomic
def blacklist_lift(*, actor: User, entry: BlacklistEntry, reason: str) -> BlacklistEntry:
    locked = lock(BlacklistEntry, entry.pk)
    if not locked.is_active:
        raise ConflictError(_("This entry has already been lifted."), code="inactive")
    reason = clean_text(reason, field="reason", max_length=1000, required=True)
    locked.is_active = False
    locked.lifted_by = actor
    locked.lifted_at = timezone.now()
    locked.lift_reason = reason
    locked.save(update_fields=["is_active", "lifted_by", "lifted_at", "lift_reason"])
    audit_record(
        actor=actor,
        action="blacklist.lift",
        obj=locked,
        from_state="active",
        to_state="lifted",
        comment=reason,
    )
    return locked


# --- filing requirements ----------------------------------------------------------------------


@transaction.atomic
def filing_requirement_update(
    *, actor: User, requirement: FilingRequirement, required: bool, weight: int
) -> FilingRequirement:
    from grid.services.households import households_recompute_completeness

    locked = lock(FilingRequirement, requirement.pk)
    if not isinstance(weight, int) or not 1 <= weight <= 10:
        raise DomainError(_("The weight is a whole number from 1 to 10."), field="weight")
    before = f"{'required' if locked.required else 'optional'}:{locked.weight}"
    locked.required, locked.weight = bool(required), weight
    locked.save(update_fields=["required", "weight"])
    audit_record(
        actor=actor,
        action="filing_requirement.update",
        obj=locked,
        from_state=before,
        to_state=f"{'required' if locked.required else 'optional'}:{locked.weight}",
    )
    # Every stored score depends on the requirements, so all of them follow in this transaction.
    households_recompute_completeness(Household.objects.all())
    return locked
