"""Helpers shared by the grid services: input checks, row locks and audit rows in bulk."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from coop.models import User
from coop.services import DomainError, audit_record_many

MAX_AMOUNT = Decimal("99999999999999.99")


def clean_text(value, *, field: str, max_length: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), field=field, code="required")
    if len(text) > max_length:
        raise DomainError(
            _("At most %(count)s characters.") % {"count": max_length},
            field=field,
            code="too_long",
        )
    return text


def clean_choice(value, *, field: str, choices, required: bool = True) -> str:
    value = value or ""
    if not value and not required:
        return ""
    if value not in choices.values:
        raise DomainError(_("Choose one of the listed values."), field=field, code="invalid_choice")
    return value


def clean_amount(value, *, field: str, required: bool = True) -> Decimal | None:
    """A non-negative amount in yuan with at most two decimals; never a float."""
    if value is None or value == "":
        if required:
            raise DomainError(_("This field is required."), field=field, code="required")
        return None
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a Decimal or a string.")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(_("Enter an amount."), field=field, code="invalid") from None
    if not amount.is_finite() or amount < 0:
        raise DomainError(_("The amount cannot be negative."), field=field, code="negative")
    if amount != amount.quantize(Decimal("0.01")):
        raise DomainError(_("At most two decimals (fen)."), field=field, code="precision")
    if amount > MAX_AMOUNT:
        raise DomainError(_("The amount is too large."), field=field, code="too_large")
    return amount.quantize(Decimal("0.01"))


def today() -> date:
    return timezone.localdate()


def lock(model: type[models.Model], pk, *, related: tuple[str, ...] = ()) -> models.Model:
    """The row, locked until the transaction ends (``of=self`` so joined rows stay unlocked)."""
    queryset = model.objects.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    return queryset.get(pk=pk)


def audit_many(
    *,
    actor: User | None,
    action: str,
    rows: list[tuple[models.Model, str, str, dict]],
    comment: str = "",
) -> None:
    """One audit row per (object, from state, to state, data), written in one INSERT.

    The same rows ``coop.services.audit_record`` writes one at a time; batch operations over a
    whole village (hundreds of households) must not pay one round trip per household.
    """
    audit_record_many(
        {
            "actor": actor,
            "action": action,
            "object_type": obj._meta.label_lower,
            "object_id": obj.pk,
            "from_state": from_state,
            "to_state": to_state,
            "comment": comment,
            "data": data,
        }
        for obj, from_state, to_state, data in rows
    )


def bulk_set(model: type[models.Model], objs: list, fields: list[str], page: int = 1000) -> None:
    """Write ``fields`` of ``objs`` with one ``UPDATE … FROM (VALUES …)`` per page of rows.

    Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` per field and row, which costs
    seconds of Python for a village of 800 households; a VALUES list is one row per household.
    Values go through each field's own ``get_db_prep_value`` and are cast to its column type.
    """
    if not objs:
        return
    quote = connection.ops.quote_name
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    names = ", ".join(quote(f.column) for f in [pk, *columns])
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    row_sql = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in [pk, *columns]) + ")"
    for start in range(0, len(objs), page):
        chunk = objs[start : start + page]
        params: list = []
        for obj in chunk:
            params.append(obj.pk)
            params.extend(f.get_db_prep_value(getattr(obj, f.attname), connection) for f in columns)
        # Only quoted identifiers from the model's metadata are formatted in; values are params.
        sql = (
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
            f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v ({names}) "
            f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
