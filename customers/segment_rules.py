"""Segment rules: validation, compilation to a Django ``Q``, and text for people.

A segment's ``rules`` is a list of conditions that must all hold (see ``customers.models.Segment``):
``[{"attribute": "age", "op": "between", "value": [18, 35]}, ...]``. Only the attributes in
``ATTRIBUTES`` and the operators in ``OPERATORS`` exist: rules are data typed in by management and
must never reach the ORM as arbitrary lookups. Compiled rules run inside one ``INSERT … SELECT``
(``customers.services.relationship.segment_recompute``), so everything here compiles to SQL
conditions, never to a Python filter over rows.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import reduce
from zoneinfo import ZoneInfo

from django.db.models import Q, TextChoices
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coop.models import OrgUnit
from coop.money import format_yuan
from coop.services import DomainError
from customers.models import (
    Customer,
    CustomerCategory,
    CustomerClass,
    IncomeBand,
    IndustryCategory,
    ManagingLevel,
    Occupation,
    Workplace,
)

# The issue fixes the bank's calendar: ages and "today" are counted in Beijing time, whatever the
# server's clock or the process's active time zone.
SHANGHAI = ZoneInfo("Asia/Shanghai")

MAX_RULES = 20
MAX_AGE = 150
# Amount columns are DECIMAL(16, 2): anything of 14 integer digits or more cannot be stored.
MAX_AMOUNT = Decimal("99999999999999.99")
MAX_LIST_VALUES = 50

EQ, NE, IN, GTE, LTE, BETWEEN = "eq", "ne", "in", "gte", "lte", "between"

OPERATORS: dict[str, Promise] = {
    EQ: gettext_lazy("equals"),
    NE: gettext_lazy("does not equal"),
    IN: gettext_lazy("is one of"),
    GTE: gettext_lazy("at least (≥)"),
    LTE: gettext_lazy("at most (≤)"),
    BETWEEN: gettext_lazy("between"),
}
_ALL_OPS = (EQ, NE, IN, GTE, LTE, BETWEEN)
_SET_OPS = (EQ, NE, IN)

AGE, AMOUNT, CHOICE, BRANCH = "age", "amount", "choice", "branch"


@dataclass(frozen=True)
class Attribute:
    key: str
    label: Promise
    kind: str  # AGE, AMOUNT, CHOICE or BRANCH
    field: str  # the Customer column the condition is on
    ops: tuple[str, ...]
    choices: type[TextChoices] | None = None
    # Choices whose declaration order is a ranking (income bands), so ≥ / ≤ / between make sense.
    ordered: bool = False


ATTRIBUTES: dict[str, Attribute] = {
    a.key: a
    for a in (
        Attribute("age", gettext_lazy("Age"), AGE, "birth_date", _ALL_OPS),
        Attribute(
            "income_band",
            gettext_lazy("Income level"),
            CHOICE,
            "income_band",
            _ALL_OPS,
            IncomeBand,
            ordered=True,
        ),
        Attribute(
            "deposit_balance", gettext_lazy("Deposit balance"), AMOUNT, "deposit_balance", _ALL_OPS
        ),
        Attribute(
            "deposit_flow", gettext_lazy("Monthly deposit flow"), AMOUNT, "deposit_flow", _ALL_OPS
        ),
        Attribute(
            "profit_contribution",
            gettext_lazy("Profit contribution"),
            AMOUNT,
            "profit_contribution",
            _ALL_OPS,
        ),
        Attribute(
            "occupation", gettext_lazy("Occupation"), CHOICE, "occupation", _SET_OPS, Occupation
        ),
        Attribute("workplace", gettext_lazy("Workplace"), CHOICE, "workplace", _SET_OPS, Workplace),
        Attribute("kind", gettext_lazy("Customer type"), CHOICE, "kind", _SET_OPS, Customer.Kind),
        Attribute(
            "customer_class",
            gettext_lazy("Customer class"),
            CHOICE,
            "customer_class",
            _SET_OPS,
            CustomerClass,
        ),
        Attribute(
            "customer_category",
            gettext_lazy("Customer category"),
            CHOICE,
            "customer_category",
            _SET_OPS,
            CustomerCategory,
        ),
        Attribute(
            "industry_category",
            gettext_lazy("Industry entry category"),
            CHOICE,
            "industry_category",
            _SET_OPS,
            IndustryCategory,
        ),
        Attribute(
            "managing_level",
            gettext_lazy("Managing level"),
            CHOICE,
            "managing_level",
            _SET_OPS,
            ManagingLevel,
        ),
        Attribute("branch", gettext_lazy("Branch"), BRANCH, "branch", _SET_OPS),
    )
}


def today_in_shanghai() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


# --- validation and normalisation ------------------------------------------------------------


def _error(message: str, code: str) -> DomainError:
    return DomainError(message, field="rules", code=code)


def _shown(value) -> str:
    # Rule values are management's own words, never personal data, but keep messages short.
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _as_int(attribute: Attribute, value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"\d{1,3}", value):
            raise ValueError
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_AGE:
        raise ValueError
    return value


def _as_amount(attribute: Attribute, value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError
    try:
        # str() first: a JSON float such as 0.1 must mean the decimal 0.1, not its binary twin.
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError from None
    if (
        not amount.is_finite()
        or abs(amount) > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValueError
    return str(amount.quantize(Decimal("0.01")))


def _as_choice(attribute: Attribute, value) -> str:
    if not isinstance(value, str) or value not in attribute.choices.values:
        raise ValueError
    return value


def _as_branch_code(attribute: Attribute, value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 20:
        raise ValueError
    return value.strip()


_SCALAR = {AGE: _as_int, AMOUNT: _as_amount, CHOICE: _as_choice, BRANCH: _as_branch_code}


def _sort_key(attribute: Attribute):
    if attribute.kind == CHOICE:
        order = list(attribute.choices.values)
        return order.index
    if attribute.kind == AMOUNT:
        return Decimal
    return lambda v: v


def _normalise_value(attribute: Attribute, op: str, value):
    scalar = _SCALAR[attribute.kind]
    if op in (EQ, NE, GTE, LTE):
        if isinstance(value, list | tuple | dict):
            raise ValueError
        return scalar(attribute, value)
    if op == BETWEEN:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError
        low, high = scalar(attribute, value[0]), scalar(attribute, value[1])
        key = _sort_key(attribute)
        if key(low) > key(high):
            raise ValueError
        return [low, high]
    # IN
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_LIST_VALUES:
        raise ValueError
    unique = []
    for item in value:
        normalised = scalar(attribute, item)
        if normalised not in unique:
            unique.append(normalised)
    return unique


def _normalise(rules) -> list[dict]:
    if not isinstance(rules, list):
        raise _error(_("Rules must be a list of conditions."), "rules_not_a_list")
    if not rules:
        raise _error(_("A segment needs at least one rule."), "no_rules")
    if len(rules) > MAX_RULES:
        raise _error(
            _("A segment has at most %(count)s rules.") % {"count": MAX_RULES}, "too_many_rules"
        )
    normalised = []
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) - {"attribute", "op", "value"}:
            raise _error(
                _("Each rule has exactly an attribute, an operator and a value."), "bad_rule"
            )
        key = rule.get("attribute")
        attribute = ATTRIBUTES.get(key) if isinstance(key, str) else None
        if attribute is None:
            raise _error(
                _("Unknown attribute “%(attribute)s”.") % {"attribute": _shown(key)},
                "unknown_attribute",
            )
        op = rule.get("op")
        if not isinstance(op, str) or op not in attribute.ops:
            raise _error(
                _("The operator “%(op)s” is not allowed for %(attribute)s.")
                % {"op": _shown(op), "attribute": attribute.label},
                "unknown_operator",
            )
        try:
            value = _normalise_value(attribute, op, rule.get("value"))
        except ValueError:
            raise _error(_value_hint(attribute, op), "bad_value") from None
        normalised.append({"attribute": attribute.key, "op": op, "value": value})
    return normalised


def _value_hint(attribute: Attribute, op: str) -> str:
    params = {"attribute": attribute.label, "op": OPERATORS[op]}
    if attribute.kind == AGE:
        return (
            _("%(attribute)s %(op)s: give whole years from 0 to 150 (lowest first for a range).")
            % params
        )
    if attribute.kind == AMOUNT:
        return (
            _("%(attribute)s %(op)s: give amounts in yuan with at most 2 decimals (lowest first).")
            % params
        )
    if attribute.kind == BRANCH:
        return _("%(attribute)s %(op)s: give branch codes such as B01.") % params
    return _("%(attribute)s %(op)s: the value must be one of: %(choices)s.") % {
        **params,
        "choices": ", ".join(attribute.choices.values),
    }


def _branch_codes(rules: list[dict]) -> set[str]:
    codes: set[str] = set()
    for rule in rules:
        if ATTRIBUTES[rule["attribute"]].kind == BRANCH:
            value = rule["value"]
            codes.update(value if isinstance(value, list) else [value])
    return codes


def _branch_paths(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    found = dict(
        OrgUnit.objects.filter(code__in=codes, kind=OrgUnit.Kind.BRANCH).values_list("code", "path")
    )
    missing = sorted(codes - set(found))
    if missing:
        raise _error(
            _("Unknown branch code: %(codes)s.") % {"codes": _shown(", ".join(missing))},
            "unknown_branch",
        )
    return found


def validate_rules(rules) -> list[dict]:
    """The rules in their stored form, or ``DomainError`` naming what is wrong (field ``rules``).

    Amounts become strings with two decimals (JSON has no decimal type), lists lose duplicates.
    Runs one query when a rule names branches (they must exist).
    """
    normalised = _normalise(rules)
    _branch_paths(_branch_codes(normalised))
    return normalised


# --- compilation -----------------------------------------------------------------------------


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        # 29 February in a year without one: someone born on the 28th is already a year older.
        return on.replace(year=on.year - years, day=28)


def _age_at_least(years: int, on: date) -> Q:
    return Q(birth_date__lte=_years_before(on, years))


def _age_at_most(years: int, on: date) -> Q:
    # age ≤ n ⇔ not (age ≥ n + 1); a positive lookup, so customers without a birth date never match.
    return Q(birth_date__gt=_years_before(on, years + 1))


def _age_exactly(years: int, on: date) -> Q:
    return _age_at_least(years, on) & _age_at_most(years, on)


def _compile_age(op: str, value, on: date) -> Q:
    if op == EQ:
        return _age_exactly(value, on)
    if op == NE:
        # Written as two ranges rather than ~Q so that a missing birth date is not "not 30".
        other = _age_at_least(value + 1, on)
        return other | _age_at_most(value - 1, on) if value > 0 else other
    if op == IN:
        return reduce(operator.or_, (_age_exactly(years, on) for years in value))
    if op == GTE:
        return _age_at_least(value, on)
    if op == LTE:
        return _age_at_most(value, on)
    return _age_at_least(value[0], on) & _age_at_most(value[1], on)


def _compile_scalar(attribute: Attribute, op: str, value) -> Q:
    field = attribute.field
    if attribute.kind == AMOUNT:
        value = [Decimal(v) for v in value] if isinstance(value, list) else Decimal(value)
    if attribute.kind == CHOICE and attribute.ordered and op in (GTE, LTE, BETWEEN):
        order = list(attribute.choices.values)
        if op == GTE:
            low, high = value, order[-1]
        elif op == LTE:
            low, high = order[0], value
        else:
            low, high = value
        return Q(**{f"{field}__in": order[order.index(low) : order.index(high) + 1]})
    if op == EQ:
        return Q(**{field: value})
    if op == NE:
        return ~Q(**{field: value})
    if op == IN:
        return Q(**{f"{field}__in": value})
    if op == GTE:
        return Q(**{f"{field}__gte": value})
    if op == LTE:
        return Q(**{f"{field}__lte": value})
    return Q(**{f"{field}__range": (value[0], value[1])})


def _compile_branch(op: str, value, paths: dict[str, str]) -> Q:
    # By path, so a customer filed at one of the branch's outlets belongs to the branch too.
    codes = value if isinstance(value, list) else [value]
    combined = reduce(operator.or_, (Q(branch__path__startswith=paths[code]) for code in codes))
    return ~combined if op == NE else combined


def compile_rules(rules, *, on: date) -> Q:
    """A ``Q`` on ``Customer`` selecting the customers that meet every rule on the date ``on``.

    Validates first (``DomainError`` for anything outside the whitelist). Runs one query when a
    rule names branches; everything else is pure.
    """
    normalised = _normalise(rules)
    paths = _branch_paths(_branch_codes(normalised))
    combined = Q()
    for rule in normalised:
        attribute = ATTRIBUTES[rule["attribute"]]
        if attribute.kind == AGE:
            combined &= _compile_age(rule["op"], rule["value"], on)
        elif attribute.kind == BRANCH:
            combined &= _compile_branch(rule["op"], rule["value"], paths)
        else:
            combined &= _compile_scalar(attribute, rule["op"], rule["value"])
    return combined


# --- text for the rule builder and for display -----------------------------------------------

_SEPARATORS = re.compile(r"\s*(?:[,，、;；~～]|至|到)\s*")


def _choice_from_text(attribute: Attribute, text: str) -> str:
    wanted = text.strip().casefold()
    for code, label in attribute.choices.choices:
        if wanted in (code.casefold(), str(label).casefold()):
            return code
    return text.strip()  # validation names the allowed codes


def parse_value_text(attribute_key: str, op: str, text: str):
    """The JSON value for a rule typed into the rule builder's single text box.

    Ranges and lists are separated by commas (also ``，``, ``、``, ``~`` or ``至``); choices may be
    typed as their code or their label in either language. The result still goes through
    ``validate_rules``.
    """
    attribute = ATTRIBUTES.get(attribute_key)
    text = (text or "").strip()
    if attribute is not None and attribute.kind == CHOICE and op in (IN, BETWEEN):
        # Labels may contain separators ("¥20,000–50,000 a year"): turn them into codes first.
        for code, label in sorted(attribute.choices.choices, key=lambda c: -len(str(c[1]))):
            text = text.replace(str(label), code)
    parts = [p for p in _SEPARATORS.split(text) if p] if op in (IN, BETWEEN) else [text]
    if attribute is not None and attribute.kind == CHOICE:
        parts = [_choice_from_text(attribute, p) for p in parts]
    elif attribute is not None and attribute.kind == AMOUNT:
        parts = [p.replace(",", "").replace("¥", "").replace("￥", "") for p in parts]
    return parts if op in (IN, BETWEEN) else parts[0]


def _value_text(attribute: Attribute, value) -> str:
    if attribute.kind == CHOICE:
        return str(attribute.choices(value).label)
    if attribute.kind == AMOUNT:
        return format_yuan(value)
    return str(value)


def format_value_text(attribute_key: str, op: str, value) -> str:
    """The rule builder's text for a stored value (labels for choices), the inverse of parsing."""
    attribute = ATTRIBUTES[attribute_key]
    values = value if isinstance(value, list) else [value]
    if attribute.kind == CHOICE:
        return ", ".join(str(attribute.choices(v).label) for v in values)
    return ", ".join(str(v) for v in values)


def describe_rule(rule: dict) -> str:
    """One line for people: "Age between 18 and 35", "Deposit balance at least ¥500,000.00"."""
    attribute = ATTRIBUTES.get(rule.get("attribute"))
    op = rule.get("op")
    if attribute is None or op not in OPERATORS:
        return _("Invalid rule")
    value = rule.get("value")
    try:
        if op == BETWEEN:
            return _("%(attribute)s between %(low)s and %(high)s") % {
                "attribute": attribute.label,
                "low": _value_text(attribute, value[0]),
                "high": _value_text(attribute, value[1]),
            }
        if op == IN:
            shown = "、".join(_value_text(attribute, v) for v in value)
        else:
            shown = _value_text(attribute, value)
    except (ValueError, TypeError, IndexError, KeyError):
        return _("Invalid rule")
    templates = {
        EQ: _("%(attribute)s is %(value)s"),
        NE: _("%(attribute)s is not %(value)s"),
        IN: _("%(attribute)s is one of %(value)s"),
        GTE: _("%(attribute)s at least %(value)s"),
        LTE: _("%(attribute)s at most %(value)s"),
    }
    return templates[op] % {"attribute": attribute.label, "value": shown}


def attribute_reference() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(key, label, [(code, label), …]) per attribute, for the builder's help table."""
    rows = []
    for attribute in ATTRIBUTES.values():
        allowed = (
            [(code, str(label)) for code, label in attribute.choices.choices]
            if attribute.choices
            else []
        )
        rows.append((attribute.key, str(attribute.label), allowed))
    return rows
