"""Writes for loan origination: the product catalogue and loan applications.

Every rule lives here so the pages, the API, the demo seed and the risk app refuse the same input
with the same message. Forms and serializers call ``application_errors`` to show every problem at
once; the services check again because they never trust their caller.

Application states move only through the model's FSM transitions, inside one transaction, on a
row locked with ``select_for_update``; an illegal move, or one that lost a race, is a
``ConflictError`` (HTTP 409). The risk app calls ``loan_application_approve`` /
``loan_application_reject``; it never writes the application itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied
from django.core.validators import validate_slug
from django.db import connection, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from coop.models import User
from coop.money import FEN, format_yuan
from coop.services import ConflictError, DomainError, audit_record
from customers.models import CreditRating, Customer
from customers.selectors import customers_visible
from loans.models import (
    Collateral,
    Guarantor,
    LoanApplication,
    Product,
    ProductTier,
    RepaymentMethod,
    RiskRoute,
)
from loans.selectors_origination import amount_range_for, format_rate, product_is_eligible

# DecimalField(max_digits=16, decimal_places=2): amounts must stay below 10^14.
MAX_MONEY = Decimal("1E14")
MAX_TERM_MONTHS = 360  # the schedule engine's limit
MAX_REVOLVING_YEARS = 10
MAX_SORT_ORDER = 32767

# Which security a product of each kind may ask for: a mortgage product without collateral, or a
# credit product asking for a guarantor, would be catalogue errors the application rules trip over.
SECURITY_BY_KIND = {
    Product.Kind.CREDIT: (Product.Security.NONE,),
    Product.Kind.GUARANTEED: (
        Product.Security.GUARANTOR,
        Product.Security.MAX_AMOUNT_GUARANTEE,
        Product.Security.GUARANTEE_COMPANY,
    ),
    Product.Kind.MORTGAGE: (Product.Security.COLLATERAL,),
    Product.Kind.PLEDGE: (Product.Security.PLEDGE,),
}
# A maximum-amount guarantee contract (最高额保证合同) is signed by a guarantor too, so the
# application names them like any other guaranteed loan.
GUARANTOR_SECURITIES = (
    Product.Security.GUARANTOR,
    Product.Security.MAX_AMOUNT_GUARANTEE,
    Product.Security.GUARANTEE_COMPANY,
)
COLLATERAL_SECURITIES = (Product.Security.COLLATERAL, Product.Security.PLEDGE)


class ProductFields(TypedDict, total=False):
    """What a caller may set on a product. On update a missing key means "leave as it is"."""

    code: str
    name: str
    name_en: str
    description: str
    kind: str
    customer_kind: str
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    min_rate: Decimal
    max_rate: Decimal
    repayment_methods: list[str]
    security: str
    eligible_ratings: list[str]
    revolving: bool
    revolving_years: int
    default_route: str
    is_active: bool
    sort_order: int


class TierFields(TypedDict):
    rating: str
    min_amount: Decimal
    max_amount: Decimal


class GuarantorFields(TypedDict, total=False):
    name: str
    is_company: bool
    customer: Customer | None
    relationship: str


class CollateralFields(TypedDict, total=False):
    description: str
    appraised_value: Decimal


PRODUCT_FIELDS = (
    "name",
    "name_en",
    "description",
    "kind",
    "customer_kind",
    "min_amount",
    "max_amount",
    "min_term_months",
    "max_term_months",
    "min_rate",
    "max_rate",
    "repayment_methods",
    "security",
    "eligible_ratings",
    "revolving",
    "revolving_years",
    "default_route",
    "is_active",
    "sort_order",
)


# --- value checks -------------------------------------------------------------------------------


def _money(value: Any, field: str) -> Decimal:
    """A positive amount with at most two decimals, below the column's limit."""
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a Decimal or a string.")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter an amount."), field=field) from None
    if not amount.is_finite():
        raise DomainError(_("Enter an amount."), field=field)
    if amount <= 0:
        raise DomainError(_("The amount must be greater than zero."), field=field)
    # Range before quantize: quantizing 1E+100 to the fen would overflow the context.
    if amount >= MAX_MONEY:
        raise DomainError(_("The amount is too large."), field=field)
    if amount.quantize(FEN) != amount:
        raise DomainError(_("Amounts have at most two decimals (fen)."), field=field)
    return amount.quantize(FEN)


def _rate(value: Any, field: str) -> Decimal:
    """An annual rate as a fraction (0.0435), 0 <= rate < 1, at most six decimals."""
    if isinstance(value, float):
        raise TypeError("Rates must not be floats; pass a Decimal or a string.")
    try:
        rate = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter a rate."), field=field) from None
    if not rate.is_finite():
        raise DomainError(_("Enter a rate."), field=field)
    if not Decimal(0) <= rate < 1:
        raise DomainError(_("The rate must be at least 0% and below 100%."), field=field)
    if rate.quantize(Decimal("0.000001")) != rate:
        raise DomainError(_("Enter a rate with at most four decimals in percent."), field=field)
    return rate


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise DomainError(_("Enter a whole number."), field=field) from None
    if not low <= value <= high:
        raise DomainError(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high},
            field=field,
        )
    return value


def _text(value: Any, field: str, limit: int, *, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), field=field, code="required")
    if len(text) > limit:
        raise DomainError(
            _("At most %(limit)d characters.") % {"limit": limit}, field=field, code="max_length"
        )
    return text


def _choice(value: Any, field: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise DomainError(_("Not one of the available choices."), field=field)
    return value


def _choices(values: Any, field: str, allowed: Sequence[str], *, required: bool) -> list[str]:
    chosen = list(values or [])
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise DomainError(_("Not one of the available choices."), field=field)
    if required and not chosen:
        raise DomainError(_("Choose at least one."), field=field, code="required")
    # Stored in the choices' own order, so an unchanged selection compares equal.
    return [v for v in allowed if v in chosen]


def _require_perm(actor: User, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied


# --- products -----------------------------------------------------------------------------------


def _clean_product(values: dict[str, Any]) -> dict[str, Any]:
    v = dict(values)
    v["name"] = _text(v.get("name"), "name", 100, required=True)
    v["name_en"] = _text(v.get("name_en"), "name_en", 100, required=False)
    v["description"] = _text(v.get("description"), "description", 2000, required=False)
    v["kind"] = _choice(v.get("kind"), "kind", Product.Kind.values)
    v["customer_kind"] = _choice(
        v.get("customer_kind"), "customer_kind", Product.CustomerKind.values
    )
    v["min_amount"] = _money(v.get("min_amount"), "min_amount")
    v["max_amount"] = _money(v.get("max_amount"), "max_amount")
    if v["max_amount"] < v["min_amount"]:
        raise DomainError(
            _("The maximum amount must not be below the minimum."), field="max_amount"
        )
    v["min_term_months"] = _whole(v.get("min_term_months"), "min_term_months", 1, MAX_TERM_MONTHS)
    v["max_term_months"] = _whole(v.get("max_term_months"), "max_term_months", 1, MAX_TERM_MONTHS)
    if v["max_term_months"] < v["min_term_months"]:
        raise DomainError(
            _("The maximum term must not be below the minimum."), field="max_term_months"
        )
    v["min_rate"] = _rate(v.get("min_rate"), "min_rate")
    v["max_rate"] = _rate(v.get("max_rate"), "max_rate")
    if v["max_rate"] < v["min_rate"]:
        raise DomainError(_("The maximum rate must not be below the minimum."), field="max_rate")
    v["repayment_methods"] = _choices(
        v.get("repayment_methods"), "repayment_methods", RepaymentMethod.values, required=True
    )
    v["security"] = _choice(v.get("security"), "security", Product.Security.values)
    allowed_security = SECURITY_BY_KIND[v["kind"]]
    if v["security"] not in allowed_security:
        raise DomainError(
            _("A product of this kind needs security of: %(allowed)s.")
            % {"allowed": ", ".join(str(Product.Security(s).label) for s in allowed_security)},
            field="security",
        )
    v["eligible_ratings"] = _choices(
        v.get("eligible_ratings"), "eligible_ratings", CreditRating.values, required=False
    )
    v["revolving"] = bool(v.get("revolving"))
    if v["revolving"]:
        v["revolving_years"] = _whole(
            v.get("revolving_years"), "revolving_years", 1, MAX_REVOLVING_YEARS
        )
    else:
        v["revolving_years"] = 0
    v["default_route"] = _choice(v.get("default_route"), "default_route", RiskRoute.values)
    v["is_active"] = bool(v.get("is_active"))
    v["sort_order"] = _whole(v.get("sort_order", 100), "sort_order", 0, MAX_SORT_ORDER)
    return v


def _clean_tiers(tiers: Sequence[TierFields], product: dict[str, Any]) -> list[TierFields]:
    cleaned: list[TierFields] = []
    seen: set[str] = set()
    for tier in tiers:
        rating = _choice(tier.get("rating"), "tiers", CreditRating.values)
        label = CreditRating(rating).label
        if rating in seen:
            raise DomainError(
                _("The rating %(rating)s has two tiers; give each rating one tier.")
                % {"rating": label},
                field="tiers",
            )
        seen.add(rating)
        low = _money(tier.get("min_amount"), "tiers")
        high = _money(tier.get("max_amount"), "tiers")
        if high < low:
            raise DomainError(
                _("The %(rating)s tier's maximum is below its minimum.") % {"rating": label},
                field="tiers",
            )
        if low < product["min_amount"] or high > product["max_amount"]:
            raise DomainError(
                _("The %(rating)s tier must lie within the product's range, %(min)s to %(max)s.")
                % {
                    "rating": label,
                    "min": format_yuan(product["min_amount"]),
                    "max": format_yuan(product["max_amount"]),
                },
                field="tiers",
            )
        cleaned.append({"rating": rating, "min_amount": low, "max_amount": high})
    if cleaned:
        # A tiered product without eligible ratings would let unrated customers borrow the
        # whole product range and bypass the tiers.
        if not product["eligible_ratings"]:
            raise DomainError(
                _("A product with tiers must list its eligible credit ratings."),
                field="eligible_ratings",
            )
        outside = [t["rating"] for t in cleaned if t["rating"] not in product["eligible_ratings"]]
        if outside:
            raise DomainError(
                _("Each tier's rating must be one of the eligible credit ratings."),
                field="tiers",
            )
    return sorted(cleaned, key=lambda t: t["max_amount"])


def _audit_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_audit_value(v) for v in value]
    return value


def _tiers_for_audit(tiers: Sequence[TierFields]) -> list[dict[str, str]]:
    return [
        {
            "rating": t["rating"],
            "min_amount": str(t["min_amount"]),
            "max_amount": str(t["max_amount"]),
        }
        for t in tiers
    ]


def _write_tiers(product: Product, tiers: Sequence[TierFields]) -> None:
    product.tiers.all().delete()
    ProductTier.objects.bulk_create(
        ProductTier(
            product=product,
            rating=t["rating"],
            min_amount=t["min_amount"],
            max_amount=t["max_amount"],
        )
        for t in tiers
    )


@transaction.atomic
def product_create(
    *, actor: User | None, data: ProductFields, tiers: Sequence[TierFields] = ()
) -> Product:
    """A new product. ``actor`` None is the system itself (the demo seed), as in coop.services."""
    if actor is not None:
        _require_perm(actor, "loans.manage_products")
    code = _text(data.get("code"), "code", 40, required=True)
    try:
        validate_slug(code)
    except Exception:
        raise DomainError(
            _("Use letters, digits, hyphens and underscores only."), field="code"
        ) from None
    values = _clean_product({f: data.get(f) for f in PRODUCT_FIELDS if f in data})
    cleaned_tiers = _clean_tiers(tiers, values)
    if Product.objects.filter(code=code).exists():
        raise DomainError(_("The code %(code)s is already used.") % {"code": code}, field="code")
    product = Product(code=code, **values)
    product.save()
    _write_tiers(product, cleaned_tiers)
    audit_record(
        actor=actor,
        action="product.create",
        obj=product,
        data={
            "code": code,
            "values": {k: _audit_value(v) for k, v in values.items()},
            "tiers": _tiers_for_audit(cleaned_tiers),
        },
    )
    return product


@transaction.atomic
def product_update(
    *,
    actor: User,
    product: Product,
    data: ProductFields,
    tiers: Sequence[TierFields] | None = None,
) -> Product:
    """Change a product; ``tiers`` (when given) replaces all its tiers. The code is its natural
    key (seeds and integrations find products by it) and does not change."""
    _require_perm(actor, "loans.manage_products")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    current = {f: getattr(locked, f) for f in PRODUCT_FIELDS}
    merged = {**current, **{f: data[f] for f in PRODUCT_FIELDS if f in data}}
    values = _clean_product(merged)
    old_tiers: list[TierFields] = [
        {"rating": t.rating, "min_amount": t.min_amount, "max_amount": t.max_amount}
        for t in locked.tiers.all()
    ]
    new_tiers = _clean_tiers(old_tiers if tiers is None else tiers, values)
    changed = [f for f in PRODUCT_FIELDS if values[f] != current[f]]
    tiers_changed = _tiers_for_audit(new_tiers) != _tiers_for_audit(
        sorted(old_tiers, key=lambda t: t["max_amount"])
    )
    if not changed and not tiers_changed:
        return locked
    for field in changed:
        setattr(locked, field, values[field])
    if changed:
        locked.save(update_fields=changed)
    if tiers_changed:
        _write_tiers(locked, new_tiers)
    audit_record(
        actor=actor,
        action="product.update",
        obj=locked,
        data={
            "changed": {f: [_audit_value(current[f]), _audit_value(values[f])] for f in changed},
            **(
                {"tiers": [_tiers_for_audit(old_tiers), _tiers_for_audit(new_tiers)]}
                if tiers_changed
                else {}
            ),
        },
    )
    product.refresh_from_db()
    return locked


def product_check_eligible(*, product: Product, customer: Customer) -> None:
    if product_is_eligible(product, customer):
        return
    if not product.is_active:
        message = _("%(product)s is no longer offered.")
    elif product.customer_kind not in (Product.CustomerKind.ANY, customer.kind):
        message = _("%(product)s is not offered to this type of customer.")
    else:
        message = _("%(product)s is not offered at this customer's credit rating.")
    raise DomainError(message % {"product": product.name}, field="product", code="ineligible")


def product_check_amount(*, product: Product, customer: Customer, amount: Decimal) -> None:
    """Refuse an amount outside what ``customer`` may borrow under ``product`` — the tier of their
    rating for tiered products, else the product's range — naming the limit that applies."""
    product_check_eligible(product=product, customer=customer)
    limits = amount_range_for(product, customer)
    if limits.min_amount <= amount <= limits.max_amount:
        return
    params = {
        "product": product.name,
        "min": format_yuan(limits.min_amount),
        "max": format_yuan(limits.max_amount),
    }
    if limits.tier is not None:
        # The rating's label in lower case reads naturally inside the sentence in English
        # ("the 'good' tier"); Chinese labels are unaffected.
        params["tier"] = str(CreditRating(limits.tier.rating).label).lower()
        message = _("The '%(tier)s' tier of %(product)s allows %(min)s to %(max)s.") % params
    else:
        message = _("%(product)s allows %(min)s to %(max)s.") % params
    raise DomainError(message, field="amount", code="amount_out_of_range")


# --- applications: validation -------------------------------------------------------------------


def _clean_guarantors(
    guarantors: Sequence[GuarantorFields], borrower: Customer
) -> list[GuarantorFields]:
    cleaned: list[GuarantorFields] = []
    for g in guarantors:
        customer = g.get("customer")
        if customer is not None and customer.pk == borrower.pk:
            raise DomainError(
                _("The borrower cannot guarantee their own loan."), field="guarantors"
            )
        name = (g.get("name") or "").strip() or (customer.name if customer else "")
        if not name:
            raise DomainError(_("Give each guarantor's name."), field="guarantors")
        if len(name) > 100:
            raise DomainError(
                _("A guarantor's name has at most 100 characters."), field="guarantors"
            )
        relationship = (g.get("relationship") or "").strip()
        if len(relationship) > 50:
            raise DomainError(_("A relationship has at most 50 characters."), field="guarantors")
        is_company = (
            customer.kind == Customer.Kind.CORPORATE if customer else bool(g.get("is_company"))
        )
        cleaned.append(
            {
                "name": name,
                "is_company": is_company,
                "customer": customer,
                "relationship": relationship,
            }
        )
    return cleaned


def _clean_collaterals(collaterals: Sequence[CollateralFields]) -> list[CollateralFields]:
    cleaned: list[CollateralFields] = []
    for c in collaterals:
        description = (c.get("description") or "").strip()
        if not description:
            raise DomainError(_("Describe each collateral item."), field="collaterals")
        if len(description) > 200:
            raise DomainError(
                _("A collateral description has at most 200 characters."), field="collaterals"
            )
        try:
            value = _money(c.get("appraised_value"), "collaterals")
        except DomainError:
            raise DomainError(
                _("Give each collateral item an appraised value above zero."),
                field="collaterals",
            ) from None
        cleaned.append({"description": description, "appraised_value": value})
    return cleaned


def application_errors(
    *,
    customer: Customer,
    product: Product,
    amount: Any,
    term_months: Any,
    annual_rate: Any,
    repayment_method: Any,
    purpose: Any,
    guarantors: Sequence[GuarantorFields],
    collaterals: Sequence[CollateralFields],
) -> list[DomainError]:
    """Every problem with these application terms, one error per field, in form order. Empty
    when the application may be saved (and submitted)."""
    errors: list[DomainError] = []

    def check(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except DomainError as exc:
            errors.append(exc)
            return None

    check(lambda: product_check_eligible(product=product, customer=customer))
    eligible = not errors
    money = check(lambda: _money(amount, "amount"))
    if eligible and money is not None:
        check(lambda: product_check_amount(product=product, customer=customer, amount=money))
    term = check(lambda: _whole(term_months, "term_months", 1, MAX_TERM_MONTHS))
    if term is not None and not product.min_term_months <= term <= product.max_term_months:
        errors.append(
            DomainError(
                _("%(product)s runs from %(min)d to %(max)d months.")
                % {
                    "product": product.name,
                    "min": product.min_term_months,
                    "max": product.max_term_months,
                },
                field="term_months",
            )
        )
    rate = check(lambda: _rate(annual_rate, "annual_rate"))
    if rate is not None and not product.min_rate <= rate <= product.max_rate:
        errors.append(
            DomainError(
                _("The annual rate of %(product)s is from %(min)s to %(max)s.")
                % {
                    "product": product.name,
                    "min": format_rate(product.min_rate),
                    "max": format_rate(product.max_rate),
                },
                field="annual_rate",
            )
        )
    if repayment_method not in product.repayment_methods:
        errors.append(
            DomainError(
                _("%(product)s is repaid by: %(methods)s.")
                % {
                    "product": product.name,
                    "methods": ", ".join(
                        str(RepaymentMethod(m).label) for m in product.repayment_methods
                    ),
                },
                field="repayment_method",
            )
        )
    check(lambda: _text(purpose, "purpose", 200, required=True))
    cleaned_guarantors = check(lambda: _clean_guarantors(guarantors, customer))
    if cleaned_guarantors is not None and product.security in GUARANTOR_SECURITIES:
        if product.security == Product.Security.GUARANTEE_COMPANY:
            if not any(g["is_company"] for g in cleaned_guarantors):
                errors.append(
                    DomainError(
                        _("%(product)s needs a guarantee company as guarantor.")
                        % {"product": product.name},
                        field="guarantors",
                        code="required",
                    )
                )
        elif not cleaned_guarantors:
            errors.append(
                DomainError(
                    _("%(product)s needs at least one guarantor.") % {"product": product.name},
                    field="guarantors",
                    code="required",
                )
            )
    cleaned_collaterals = check(lambda: _clean_collaterals(collaterals))
    needs_collateral = product.security in COLLATERAL_SECURITIES or product.kind in (
        Product.Kind.MORTGAGE,
        Product.Kind.PLEDGE,
    )
    if cleaned_collaterals is not None and needs_collateral and not cleaned_collaterals:
        errors.append(
            DomainError(
                _("%(product)s needs at least one collateral item.") % {"product": product.name},
                field="collaterals",
                code="required",
            )
        )
    return errors


def _raise_first(errors: list[DomainError]) -> None:
    if errors:
        raise errors[0]


def _require_in_scope(actor: User, customer: Customer) -> None:
    if not customers_visible(actor).filter(pk=customer.pk).exists():
        # The same answer as for a customer that does not exist: nothing about other
        # branches' customers leaks.
        raise DomainError(_("Choose one of your customers."), field="customer")


def _next_application_number() -> str:
    """SQ + yyyymmdd + a daily sequence (SQ202601150001). An advisory lock held to the end of
    the transaction serialises numbering per day, so two clerks never draw the same number."""
    prefix = f"SQ{timezone.localdate():%Y%m%d}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [prefix])
    last = (
        LoanApplication.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def _write_security(
    application: LoanApplication,
    guarantors: Sequence[GuarantorFields] | None,
    collaterals: Sequence[CollateralFields] | None,
) -> None:
    if guarantors is not None:
        application.guarantors.all().delete()
        Guarantor.objects.bulk_create(
            Guarantor(
                application=application,
                name=g["name"],
                is_company=g["is_company"],
                customer=g.get("customer"),
                relationship=g.get("relationship", ""),
            )
            for g in guarantors
        )
    if collaterals is not None:
        application.collaterals.all().delete()
        Collateral.objects.bulk_create(
            Collateral(
                application=application,
                description=c["description"],
                appraised_value=c["appraised_value"],
            )
            for c in collaterals
        )


def _terms_for_audit(application: LoanApplication) -> dict[str, str]:
    return {
        "product": application.product.code,
        "amount": str(application.amount),
        "term_months": str(application.term_months),
        "annual_rate": str(application.annual_rate),
        "repayment_method": application.repayment_method,
    }


# --- applications: writes -----------------------------------------------------------------------


@transaction.atomic
def loan_application_create(
    *,
    actor: User,
    customer: Customer,
    product: Product,
    amount: Decimal,
    term_months: int,
    annual_rate: Decimal,
    repayment_method: str,
    purpose: str,
    guarantors: Sequence[GuarantorFields] = (),
    collaterals: Sequence[CollateralFields] = (),
) -> LoanApplication:
    """A draft application, prepared by ``actor`` for a customer in their scope."""
    _require_perm(actor, "loans.add_loanapplication")
    _require_in_scope(actor, customer)
    _raise_first(
        application_errors(
            customer=customer,
            product=product,
            amount=amount,
            term_months=term_months,
            annual_rate=annual_rate,
            repayment_method=repayment_method,
            purpose=purpose,
            guarantors=guarantors,
            collaterals=collaterals,
        )
    )
    application = LoanApplication(
        number=_next_application_number(),
        customer=customer,
        branch=customer.branch,
        product=product,
        amount=_money(amount, "amount"),
        term_months=_whole(term_months, "term_months", 1, MAX_TERM_MONTHS),
        annual_rate=_rate(annual_rate, "annual_rate"),
        repayment_method=repayment_method,
        purpose=purpose.strip(),
        prepared_by=actor,
    )
    application.save()
    _write_security(
        application,
        _clean_guarantors(guarantors, customer),
        _clean_collaterals(collaterals),
    )
    audit_record(
        actor=actor,
        action="loan_application.create",
        obj=application,
        to_state=application.state,
        data={"number": application.number, **_terms_for_audit(application)},
    )
    return application


def _lock(application: LoanApplication) -> LoanApplication:
    return (
        LoanApplication.objects.select_for_update(of=("self",))
        .select_related("customer", "product")
        .get(pk=application.pk)
    )


def _stored_guarantors(application: LoanApplication) -> list[GuarantorFields]:
    return [
        {
            "name": g.name,
            "is_company": g.is_company,
            "customer": g.customer,
            "relationship": g.relationship,
        }
        for g in application.guarantors.select_related("customer")
    ]


def _stored_collaterals(application: LoanApplication) -> list[CollateralFields]:
    return [
        {"description": c.description, "appraised_value": c.appraised_value}
        for c in application.collaterals.all()
    ]


@transaction.atomic
def loan_application_update(
    *,
    actor: User,
    application: LoanApplication,
    product: Product | None = None,
    amount: Decimal | None = None,
    term_months: int | None = None,
    annual_rate: Decimal | None = None,
    repayment_method: str | None = None,
    purpose: str | None = None,
    guarantors: Sequence[GuarantorFields] | None = None,
    collaterals: Sequence[CollateralFields] | None = None,
) -> LoanApplication:
    """Change a draft. ``None`` leaves a field as it is; ``guarantors`` / ``collaterals`` given
    replace the whole list."""
    _require_perm(actor, "loans.change_loanapplication")
    locked = _lock(application)
    _require_in_scope(actor, locked.customer)
    if locked.state != LoanApplication.State.DRAFT:
        raise ConflictError(
            _("Only a draft application can be changed; this one is %(state)s.")
            % {"state": locked.get_state_display()},
            code="invalid_state",
        )
    new = {
        "product": product if product is not None else locked.product,
        "amount": amount if amount is not None else locked.amount,
        "term_months": term_months if term_months is not None else locked.term_months,
        "annual_rate": annual_rate if annual_rate is not None else locked.annual_rate,
        "repayment_method": repayment_method
        if repayment_method is not None
        else locked.repayment_method,
        "purpose": purpose if purpose is not None else locked.purpose,
    }
    final_guarantors = _stored_guarantors(locked) if guarantors is None else list(guarantors)
    final_collaterals = _stored_collaterals(locked) if collaterals is None else list(collaterals)
    _raise_first(
        application_errors(
            customer=locked.customer,
            guarantors=final_guarantors,
            collaterals=final_collaterals,
            **new,
        )
    )
    new["amount"] = _money(new["amount"], "amount")
    new["term_months"] = _whole(new["term_months"], "term_months", 1, MAX_TERM_MONTHS)
    new["annual_rate"] = _rate(new["annual_rate"], "annual_rate")
    new["purpose"] = new["purpose"].strip()
    before = _terms_for_audit(locked)
    changed = [f for f, value in new.items() if getattr(locked, f) != value]
    for field in changed:
        setattr(locked, field, new[field])
    if changed:
        locked.save(update_fields=changed)
    _write_security(
        locked,
        None if guarantors is None else _clean_guarantors(guarantors, locked.customer),
        None if collaterals is None else _clean_collaterals(collaterals),
    )
    audit_record(
        actor=actor,
        action="loan_application.update",
        obj=locked,
        data={
            "changed": changed,
            "before": before,
            "after": _terms_for_audit(locked),
            "guarantors_replaced": guarantors is not None,
            "collaterals_replaced": collaterals is not None,
        },
    )
    application.refresh_from_db()
    return locked


def _conflict(action: str, application: LoanApplication) -> ConflictError:
    state = application.get_state_display()
    messages = {
        "submit": _("Only a draft application can be submitted; this one is %(state)s."),
        "approve": _("Only a submitted application can be approved; this one is %(state)s."),
        "reject": _("Only a submitted application can be rejected; this one is %(state)s."),
        "withdraw": _(
            "Only a draft or submitted application can be withdrawn; this one is %(state)s."
        ),
    }
    return ConflictError(messages[action] % {"state": state}, code="invalid_state")


def _transition(
    *,
    application: LoanApplication,
    actor: User,
    action: str,
    comment: str = "",
    prepare: Callable[[LoanApplication], list[str]] | None = None,
    data: dict | None = None,
) -> LoanApplication:
    """Lock, check the transition may run, let ``prepare`` validate and set the other fields,
    transition, save, audit — one step of the application's life, all or nothing."""
    locked = _lock(application)
    transition = getattr(locked, action)
    if not can_proceed(transition):
        raise _conflict(action, locked)
    # The transitions declare no permission today; honouring the hook keeps a later
    # ``permission=`` on the model effective without touching this service.
    if not has_transition_perm(transition, actor):
        raise PermissionDenied
    from_state = locked.state
    fields = prepare(locked) if prepare else []
    transition()
    try:
        locked.save(update_fields=["state", *fields])
    except ConcurrentTransition:
        # Someone else moved the application between our read and our write.
        raise ConflictError(
            _("The application was changed by someone else; reload and try again."),
            code="concurrent",
        ) from None
    audit_record(
        actor=actor,
        action=f"loan_application.{action}",
        obj=locked,
        from_state=from_state,
        to_state=locked.state,
        comment=comment,
        data=data,
    )
    application.refresh_from_db()
    return locked


@transaction.atomic
def loan_application_submit(
    *, application: LoanApplication, actor: User, open_case: bool = True
) -> LoanApplication:
    """Draft → submitted, into the risk workflow. The terms are checked again: the customer's
    rating or the product may have changed since the draft was saved."""
    _require_perm(actor, "loans.change_loanapplication")

    def prepare(locked: LoanApplication) -> list[str]:
        _require_in_scope(actor, locked.customer)
        _raise_first(
            application_errors(
                customer=locked.customer,
                product=locked.product,
                amount=locked.amount,
                term_months=locked.term_months,
                annual_rate=locked.annual_rate,
                repayment_method=locked.repayment_method,
                purpose=locked.purpose,
                guarantors=_stored_guarantors(locked),
                collaterals=_stored_collaterals(locked),
            )
        )
        locked.submitted_at = timezone.now()
        return ["submitted_at"]

    submitted = _transition(application=application, actor=actor, action="submit", prepare=prepare)
    # A submitted application enters the risk-routed approval workflow in the same transaction
    # (the risk app depends on loans, hence the import here). Opening is idempotent; the risk
    # app's own opening service submits a draft with open_case=False and then opens the case.
    if open_case:
        from risk.services import approval_case_open

        approval_case_open(application=submitted, actor=actor)
    return submitted


def _segregated(actor: User, locked: LoanApplication) -> None:
    # DESIGN.md: no one approves (or turns down) what they prepared.
    if locked.prepared_by_id == actor.pk:
        raise PermissionDenied(_("You cannot decide on an application you prepared."))


@transaction.atomic
def loan_application_approve(
    *,
    application: LoanApplication,
    actor: User,
    approved_amount: Decimal | None = None,
    comment: str = "",
) -> LoanApplication:
    """Submitted → approved, for the risk app. ``approved_amount`` defaults to the amount applied
    for and may be lower, never higher."""
    comment = (comment or "").strip()

    def prepare(locked: LoanApplication) -> list[str]:
        _segregated(actor, locked)
        amount = (
            locked.amount if approved_amount is None else _money(approved_amount, "approved_amount")
        )
        if amount > locked.amount:
            raise DomainError(
                _("The approved amount cannot exceed the %(amount)s applied for.")
                % {"amount": format_yuan(locked.amount)},
                field="approved_amount",
            )
        locked.approved_amount = amount
        locked.decision_comment = comment
        locked.decided_at = timezone.now()
        return ["approved_amount", "decision_comment", "decided_at"]

    return _transition(
        application=application,
        actor=actor,
        action="approve",
        comment=comment,
        prepare=prepare,
        data={"approved_amount": str(approved_amount) if approved_amount is not None else None},
    )


@transaction.atomic
def loan_application_reject(
    *, application: LoanApplication, actor: User, comment: str
) -> LoanApplication:
    """Submitted → rejected, for the risk app; the reason is required."""
    comment = (comment or "").strip()

    def prepare(locked: LoanApplication) -> list[str]:
        _segregated(actor, locked)
        if not comment:
            raise DomainError(
                _("Give the reason for turning the application down."),
                field="comment",
                code="required",
            )
        locked.decision_comment = comment
        locked.decided_at = timezone.now()
        return ["decision_comment", "decided_at"]

    return _transition(
        application=application, actor=actor, action="reject", comment=comment, prepare=prepare
    )


@transaction.atomic
def loan_application_withdraw(
    *, application: LoanApplication, actor: User, comment: str
) -> LoanApplication:
    """Draft or submitted → withdrawn (the customer no longer wants the loan); reason required.

    A submitted application is withdrawn through its approval case (risk app), which records the
    stage it left and then calls this service; withdrawing it here directly would leave the
    case open."""
    comment = (comment or "").strip()

    def prepare(locked: LoanApplication) -> list[str]:
        from risk.models import ApprovalCase

        if not comment:
            raise DomainError(
                _("Give the reason for withdrawing the application."),
                field="comment",
                code="required",
            )
        open_case = ApprovalCase.objects.filter(application_id=locked.pk).exclude(state="withdrawn")
        if open_case.exists():
            raise ConflictError(
                _("This application is in approval: withdraw it from its approval case."),
                code="in_approval",
            )
        locked.decision_comment = comment
        locked.decided_at = timezone.now()
        return ["decision_comment", "decided_at"]

    return _transition(
        application=application, actor=actor, action="withdraw", comment=comment, prepare=prepare
    )
