"""Customer files: create and update individual and corporate customers, reveal personal data.

Every rule lives here, so the page, the API and any later import refuse the same input with the
same message. Forms and serializers call the same helpers (``id_number_mismatch``,
``account_managers_of``) to show every field error at once; the service checks again because it
must never trust its caller.

ID and mobile numbers never leave this module in a message, an audit row or a log line: audit rows
name the changed fields only.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from coop.models import OrgUnit, User
from coop.roles import Role, has_role
from coop.scoping import can_see_unit, scope_root, sees_whole_bank
from coop.services import DomainError, audit_record
from customers.models import (
    Customer,
    IncomeBand,
    Occupation,
    PersonalDataAccess,
    Workplace,
)
from customers.selectors import (
    BRANCH_WIDE_ROLES,
    can_see_full_personal_data,
    customers_visible,
)
from customers.validators import (
    id_number_birth_date,
    id_number_gender,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)


class CustomerFields(TypedDict, total=False):
    """What a caller may set. On update a missing key means "leave as it is"."""

    kind: str
    name: str
    branch: OrgUnit | None
    owner: User | None
    b_manager: User | None
    # individuals
    id_number: str
    gender: str
    birth_date: date | None
    occupation: str
    workplace: str
    work_location: str
    income_band: str
    # corporates
    credit_code: str
    legal_representative: str
    finance_contact: str
    industry: str
    # both
    mobile: str
    address: str


INDIVIDUAL_FIELDS = (
    "name",
    "id_number",
    "gender",
    "birth_date",
    "occupation",
    "workplace",
    "work_location",
    "income_band",
    "mobile",
    "address",
)
CORPORATE_FIELDS = (
    "name",
    "credit_code",
    "legal_representative",
    "finance_contact",
    "industry",
    "mobile",
    "address",
)
# Free-text fields and their model lengths, checked here because ``save()`` does not validate.
_TEXT_FIELDS = {
    "name": 100,
    "work_location": 100,
    "legal_representative": 50,
    "finance_contact": 50,
    "industry": 60,
    "address": 200,
}
_CHOICE_FIELDS = {
    "gender": Customer.Gender.values,
    "occupation": Occupation.values,
    "workplace": Workplace.values,
    "income_band": IncomeBand.values,
}


class DuplicateCustomerError(DomainError):
    """The ID number or credit code is already filed.

    ``existing`` is the customer holding it when the actor may see that customer, else ``None``:
    a user must not learn who is filed at another branch or with another account manager.
    """

    def __init__(self, message: str, *, field: str, existing: Customer | None):
        super().__init__(message, field=field, code="duplicate")
        self.existing = existing


# --- helpers shared with forms and serializers --------------------------------------------------


def id_number_mismatch(
    number: str, *, gender: str = "", birth_date: date | None = None
) -> tuple[str, str] | None:
    """(field, message) when the entered gender or birth date contradicts a valid ID number.

    GB 11643: digits 7–14 are the birth date, the 17th digit is odd for men and even for women.
    The messages never quote the number or the date it encodes.
    """
    if birth_date and birth_date != id_number_birth_date(number):
        return "birth_date", _(
            "The birth date does not match the one in the ID number; please check both."
        )
    if gender and gender != id_number_gender(number):
        return "gender", _(
            "The gender does not match the ID number (its 17th digit is odd for men and even "
            "for women); please check both."
        )
    return None


def account_managers_of(branch: OrgUnit) -> QuerySet[User]:
    """Active account managers working in ``branch`` or one of its outlets."""
    return (
        User.objects.filter(
            is_active=True,
            groups__name=Role.ACCOUNT_MANAGER,
            org_unit__path__startswith=branch.path,
        )
        .distinct()
        .order_by("name", "username")
    )


def creation_branch(actor: User) -> OrgUnit | None:
    """The branch a new customer of ``actor`` belongs to; ``None`` when they must choose one
    (head-office staff, who work for every branch)."""
    if sees_whole_bank(actor):
        return None
    return scope_root(actor)


def acts_branch_wide(actor: User) -> bool:
    return has_role(actor, *BRANCH_WIDE_ROLES)


# --- validation ---------------------------------------------------------------------------------


def _field_error(exc: ValidationError, field: str) -> DomainError:
    return DomainError(exc.messages[0], field=field, code=exc.code or "invalid")


def _clean_text(data: CustomerFields, field: str, values: dict[str, Any]) -> None:
    if field not in data:
        return
    value = (data[field] or "").strip()  # type: ignore[literal-required]
    limit = _TEXT_FIELDS[field]
    if len(value) > limit:
        raise DomainError(
            _("At most %(limit)d characters.") % {"limit": limit}, field=field, code="max_length"
        )
    values[field] = value


def _clean_choice(data: CustomerFields, field: str, values: dict[str, Any]) -> None:
    if field not in data:
        return
    value = data[field] or ""  # type: ignore[literal-required]
    if not value and field == "workplace":
        value = Workplace.HOME  # the model's default: "away" is what needs saying
    if value and value not in _CHOICE_FIELDS[field]:
        raise DomainError(_("Not one of the available choices."), field=field, code="invalid")
    values[field] = value


def _clean_individual(data: CustomerFields, current: Customer | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in ("name", "work_location", "address"):
        _clean_text(data, field, values)
    for field in ("gender", "occupation", "workplace", "income_band"):
        _clean_choice(data, field, values)
    if data.get("credit_code"):
        raise DomainError(
            _("An individual customer has no unified social credit code."),
            field="credit_code",
            code="not_applicable",
        )

    if "id_number" in data:
        number = normalize_id_number(data["id_number"] or "")
        if not number:
            raise DomainError(
                _("The ID number is required for an individual customer."),
                field="id_number",
                code="required",
            )
        try:
            validate_id_number(number)
        except ValidationError as exc:
            raise _field_error(exc, "id_number") from None
        values["id_number"] = number
    number = values.get("id_number") or (current.id_number if current else None)
    if not number:
        raise DomainError(
            _("The ID number is required for an individual customer."),
            field="id_number",
            code="required",
        )

    # What was entered is checked against the number; what was left out is taken from it.
    gender = values.get("gender", "")
    birth_date = data.get("birth_date")
    mismatch = id_number_mismatch(number, gender=gender, birth_date=birth_date)
    if mismatch:
        raise DomainError(mismatch[1], field=mismatch[0], code="id_number_mismatch")
    if "id_number" in values or "gender" in data or current is None:
        values["gender"] = id_number_gender(number)
    if "id_number" in values or "birth_date" in data or current is None:
        values["birth_date"] = id_number_birth_date(number)

    if "mobile" in data:
        values["mobile"] = _clean_mobile(data["mobile"])
    return values


def _clean_corporate(data: CustomerFields, current: Customer | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in ("name", "legal_representative", "finance_contact", "industry", "address"):
        _clean_text(data, field, values)
    if data.get("id_number"):
        raise DomainError(
            _("A corporate customer has no resident ID number."),
            field="id_number",
            code="not_applicable",
        )
    if "credit_code" in data:
        code = normalize_credit_code(data["credit_code"] or "")
        if not code:
            raise DomainError(
                _("The unified social credit code is required for a corporate customer."),
                field="credit_code",
                code="required",
            )
        try:
            validate_credit_code(code)
        except ValidationError as exc:
            raise _field_error(exc, "credit_code") from None
        values["credit_code"] = code
    if not (values.get("credit_code") or (current.credit_code if current else None)):
        raise DomainError(
            _("The unified social credit code is required for a corporate customer."),
            field="credit_code",
            code="required",
        )
    if "mobile" in data:
        values["mobile"] = _clean_mobile(data["mobile"])
    return values


def _clean_mobile(raw: str | None) -> str:
    mobile = normalize_mobile(raw or "")
    if mobile:
        try:
            validate_mobile(mobile)
        except ValidationError as exc:
            raise _field_error(exc, "mobile") from None
    return mobile


def _require_name(values: dict[str, Any], current: Customer | None) -> None:
    if not values.get("name", current.name if current else ""):
        raise DomainError(_("The name is required."), field="name", code="required")


def _resolve_branch(actor: User, data: CustomerFields) -> OrgUnit:
    branch = creation_branch(actor)
    if branch is not None:
        return branch
    chosen = data.get("branch")
    if chosen is None:
        raise DomainError(
            _("Choose the branch the customer belongs to."), field="branch", code="required"
        )
    if (
        chosen.kind != OrgUnit.Kind.BRANCH
        or not chosen.is_active
        or not can_see_unit(actor, chosen)
    ):
        raise DomainError(_("Choose one of the bank's branches."), field="branch", code="invalid")
    return chosen


def _resolve_managers(
    actor: User, branch: OrgUnit, data: CustomerFields
) -> tuple[User, User | None]:
    owner = data.get("owner")
    if owner is None:
        if not has_role(actor, Role.ACCOUNT_MANAGER):
            raise DomainError(
                _("Choose the account manager who will manage the customer."),
                field="owner",
                code="required",
            )
        owner = actor
    elif owner != actor and not acts_branch_wide(actor):
        # An account manager files customers for themselves; handing a customer to a colleague
        # is a transfer, which a branch-wide role decides.
        raise DomainError(
            _("You can only file customers that you manage yourself."),
            field="owner",
            code="not_allowed",
        )
    eligible = account_managers_of(branch)
    if not eligible.filter(pk=owner.pk).exists():
        raise DomainError(
            _("The account manager must be an account manager of the customer's branch."),
            field="owner",
            code="invalid",
        )
    b_manager = data.get("b_manager")
    if b_manager is not None:
        if b_manager == owner:
            raise DomainError(
                _("The B-role manager must be someone other than the account manager."),
                field="b_manager",
                code="same_as_owner",
            )
        if not eligible.filter(pk=b_manager.pk).exists():
            raise DomainError(
                _("The B-role manager must be an account manager of the customer's branch."),
                field="b_manager",
                code="invalid",
            )
    return owner, b_manager


def _duplicate_error(
    *, actor: User, field: str, existing: Customer, branch_id: int
) -> DuplicateCustomerError:
    visible = customers_visible(actor).filter(pk=existing.pk).exists()
    if visible:
        if field == "id_number":
            message = _("This ID number is already filed as %(name)s, managed by %(owner)s.")
        else:
            message = _("This credit code is already filed as %(name)s, managed by %(owner)s.")
        message %= {"name": existing.name, "owner": existing.owner.display_name}
        return DuplicateCustomerError(message, field=field, existing=existing)
    if existing.branch_id != branch_id:
        if field == "id_number":
            message = _("This ID number is already filed at another branch.")
        else:
            message = _("This credit code is already filed at another branch.")
    elif field == "id_number":
        message = _("This ID number is already filed in this branch by another account manager.")
    else:
        message = _("This credit code is already filed in this branch by another account manager.")
    return DuplicateCustomerError(message, field=field, existing=None)


def _find_duplicate(
    *, actor: User, values: dict[str, Any], branch_id: int, exclude_pk: int | None = None
) -> DuplicateCustomerError | None:
    for field in ("id_number", "credit_code"):
        number = values.get(field)
        if not number:
            continue
        existing = (
            Customer.objects.select_related("owner")
            .filter(**{field: number})
            .exclude(pk=exclude_pk)
            .first()
        )
        if existing is not None:
            return _duplicate_error(
                actor=actor, field=field, existing=existing, branch_id=branch_id
            )
    return None


def _save_or_duplicate(
    customer: Customer,
    *,
    actor: User,
    values: dict[str, Any],
    update_fields: list[str] | None = None,
) -> None:
    """Save; a concurrent insert of the same number loses on the unique constraint and gets the
    same message as the check before it."""
    try:
        with transaction.atomic():  # a savepoint, so the outer transaction stays usable
            customer.save(update_fields=update_fields)
    except IntegrityError:
        duplicate = _find_duplicate(
            actor=actor, values=values, branch_id=customer.branch_id, exclude_pk=customer.pk
        )
        if duplicate is None:
            raise
        raise duplicate from None


# --- services ----------------------------------------------------------------------------------


@transaction.atomic
def customer_create(*, actor: User, data: CustomerFields) -> Customer:
    """File a new customer. The actor's branch becomes the customer's branch (head-office staff
    choose one); the owner defaults to the actor when they are an account manager."""
    kind = data.get("kind")
    if kind not in Customer.Kind.values:
        raise DomainError(
            _("Choose whether the customer is an individual or a corporate customer."),
            field="kind",
            code="invalid",
        )
    if kind == Customer.Kind.INDIVIDUAL:
        values = _clean_individual(data, None)
    else:
        values = _clean_corporate(data, None)
    _require_name(values, None)
    branch = _resolve_branch(actor, data)
    owner, b_manager = _resolve_managers(actor, branch, data)

    duplicate = _find_duplicate(actor=actor, values=values, branch_id=branch.pk)
    if duplicate is not None:
        raise duplicate

    customer = Customer(
        kind=kind,
        branch=branch,
        owner=owner,
        b_manager=b_manager,
        created_by=actor,
        **values,
    )
    _save_or_duplicate(customer, actor=actor, values=values)
    audit_record(
        actor=actor,
        action="customer.create",
        obj=customer,
        to_state=kind,
        data={
            "fields": sorted(values) + ["branch", "owner"] + (["b_manager"] if b_manager else [])
        },
    )
    return customer


@transaction.atomic
def customer_update(*, actor: User, customer: Customer, data: CustomerFields) -> Customer:
    """Change a customer's profile. Keys missing from ``data`` stay as they are. Branch, account
    managers and grades are not changed here: they move by transfer and approved grade change."""
    # Lock the row: two clerks saving the same file must not lose each other's changes.
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if "kind" in data and data["kind"] != current.kind:
        raise DomainError(
            _("The customer type cannot be changed; file a new customer instead."),
            field="kind",
            code="immutable",
        )
    allowed = INDIVIDUAL_FIELDS if current.is_individual else CORPORATE_FIELDS
    relevant: CustomerFields = {k: v for k, v in data.items() if k in allowed}  # type: ignore[assignment]
    for identifier in ("id_number", "credit_code"):
        if data.get(identifier) and identifier not in allowed:
            relevant[identifier] = data[identifier]  # type: ignore[literal-required]
    if current.is_individual:
        values = _clean_individual(relevant, current)
    else:
        values = _clean_corporate(relevant, current)
    _require_name(values, current)

    changed = [field for field, value in values.items() if getattr(current, field) != value]
    if not changed:
        return current
    duplicate = _find_duplicate(
        actor=actor,
        values={f: values[f] for f in changed if f in ("id_number", "credit_code")},
        branch_id=current.branch_id,
        exclude_pk=current.pk,
    )
    if duplicate is not None:
        raise duplicate
    for field in changed:
        setattr(current, field, values[field])
    _save_or_duplicate(current, actor=actor, values=values, update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor, action="customer.update", obj=current, data={"fields": sorted(changed)}
    )
    return current


@transaction.atomic
def personal_data_reveal(*, actor: User, customer: Customer, field: str, channel: str) -> str:
    """The full ID or mobile number, for a user allowed to see it; each view leaves a row in
    ``PersonalDataAccess`` (who, whose, which field, which channel)."""
    if not can_see_full_personal_data(actor):
        raise PermissionDenied
    if not customers_visible(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied
    if field not in PersonalDataAccess.Field.values:
        raise DomainError(_("Unknown field."), field="field", code="invalid")
    if channel not in ("page", "api"):
        raise DomainError(_("Unknown channel."), field="channel", code="invalid")
    value = Customer.objects.values_list(field, flat=True).get(pk=customer.pk) or ""
    if not value:
        raise DomainError(_("There is no number to show."), field="field", code="empty")
    PersonalDataAccess.objects.create(user=actor, customer=customer, field=field, channel=channel)
    return value
