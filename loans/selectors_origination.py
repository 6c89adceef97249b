"""Reads for loan origination: the product catalogue, product eligibility, applications and a
customer's exposure ("one household, several loans", 一户多贷).

Applications are scoped through their customer (``customer_scope_q``), so an account manager sees
the applications of the customers they own or back up, branch staff those of their branch, head
office all of them. Products are the bank's catalogue and visible to everyone holding
``loans.view_product``; inactive ones only to those who maintain the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404

from customers.models import Customer
from customers.selectors import customer_scope_q
from loans.models import CreditLine, Loan, LoanApplication, Product, ProductTier

ZERO = Decimal("0.00")

# An application still counts against the customer until it is decided against, withdrawn, or
# turned into a contract (whose loan then counts instead).
OPEN_APPLICATION_STATES = (
    LoanApplication.State.DRAFT,
    LoanApplication.State.SUBMITTED,
    LoanApplication.State.APPROVED,
)
LIVE_LOAN_STATES = (Loan.State.CONTRACTED, Loan.State.ACTIVE, Loan.State.OVERDUE)


def format_rate(rate: Decimal | None) -> str:
    """0.0435 → "4.35%": rates are stored as fractions and shown as percentages, with at least
    two decimals and no trailing zeros beyond them (0.043525 → "4.3525%")."""
    if rate is None:
        return ""
    text = f"{(rate * 100).quantize(Decimal('0.0001')):f}"
    whole, fraction = text.split(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}%"


# --- products -----------------------------------------------------------------------------------


def products_visible(user) -> QuerySet[Product]:
    """The catalogue for ``user``: everything for catalogue editors, active products otherwise."""
    if not user.has_perm("loans.view_product") and not user.has_perm("loans.manage_products"):
        return Product.objects.none()
    queryset = Product.objects.prefetch_related("tiers")
    if not user.has_perm("loans.manage_products"):
        queryset = queryset.filter(is_active=True)
    return queryset


def product_get(*, user, pk) -> Product:
    try:
        return products_visible(user).get(pk=pk)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _tiers_of(product: Product) -> list[ProductTier]:
    # Prefetched tiers when the caller prefetched them, one query otherwise.
    return list(product.tiers.all())


def tier_for(product: Product, customer: Customer) -> ProductTier | None:
    if not customer.credit_rating:
        return None
    for tier in _tiers_of(product):
        if tier.rating == customer.credit_rating:
            return tier
    return None


def product_is_eligible(product: Product, customer: Customer) -> bool:
    if not product.is_active:
        return False
    if product.customer_kind not in (Product.CustomerKind.ANY, customer.kind):
        return False
    # No eligible ratings listed = open to every rating, and to unrated customers.
    return not product.eligible_ratings or customer.credit_rating in product.eligible_ratings


@dataclass(frozen=True)
class AmountRange:
    min_amount: Decimal
    max_amount: Decimal
    tier: ProductTier | None


def amount_range_for(product: Product, customer: Customer) -> AmountRange:
    """What ``customer`` may borrow under ``product``: their rating's tier if the product has
    one for it, else the product's own range (eligibility is checked separately)."""
    tier = tier_for(product, customer)
    if tier is not None:
        return AmountRange(tier.min_amount, tier.max_amount, tier)
    return AmountRange(product.min_amount, product.max_amount, None)


def eligible_products(customer: Customer) -> list[tuple[Product, Decimal, Decimal]]:
    """(product, min amount, max amount) for every product ``customer`` may apply for: active,
    for their kind of customer, and — when the product lists eligible ratings — for their rating.
    Two queries whatever the catalogue size (products, then their tiers)."""
    queryset = Product.objects.filter(
        is_active=True,
        customer_kind__in=[Product.CustomerKind.ANY, customer.kind],
    ).prefetch_related("tiers")
    result = []
    for product in queryset:
        # The rating rule stays in one place (product_is_eligible); the catalogue is small.
        if not product_is_eligible(product, customer):
            continue
        limits = amount_range_for(product, customer)
        result.append((product, limits.min_amount, limits.max_amount))
    return result


# --- applications -------------------------------------------------------------------------------


def applications_visible(user) -> QuerySet[LoanApplication]:
    scope = customer_scope_q(user, "customer__")
    if scope is None:
        return LoanApplication.objects.none()
    return LoanApplication.objects.filter(scope)


def application_list(
    *,
    user,
    state: str = "",
    product_id: int | None = None,
    customer_id: int | None = None,
    query: str = "",
) -> QuerySet[LoanApplication]:
    queryset = applications_visible(user).select_related(
        "customer", "product", "branch", "prepared_by"
    )
    if state:
        queryset = queryset.filter(state=state)
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    if customer_id:
        queryset = queryset.filter(customer_id=customer_id)
    if query:
        queryset = queryset.filter(Q(number__icontains=query) | Q(customer__name__icontains=query))
    return queryset.order_by("-created_at", "-id")


def application_get(*, user, pk) -> LoanApplication:
    """The application, or 404 when it does not exist or its customer is out of scope."""
    try:
        return (
            applications_visible(user)
            .select_related("customer", "customer__owner", "product", "branch", "prepared_by")
            .prefetch_related("guarantors", "collaterals", "product__tiers")
            .get(pk=pk)
        )
    except (LoanApplication.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- exposure -----------------------------------------------------------------------------------


def customer_exposure(customer: Customer) -> dict:
    """What ``customer`` already owes or has asked for: live loans, open applications and active
    credit lines, with the totals the application pages show.

    ``total_exposure`` = outstanding principal of live loans + amounts of open applications
    (the approved amount once an application is approved). The grid issue widens this to the
    whole household; ``customers`` lists whose exposure it is, so callers need not change.
    Three queries whatever the number of rows.
    """
    customers = [customer]
    loans = list(
        Loan.objects.filter(customer__in=customers, state__in=LIVE_LOAN_STATES)
        .select_related("product")
        .order_by("-created_at", "-id")
    )
    applications = list(
        LoanApplication.objects.filter(customer__in=customers, state__in=OPEN_APPLICATION_STATES)
        .select_related("product")
        .order_by("-created_at", "-id")
    )
    credit_lines = list(
        CreditLine.objects.filter(customer__in=customers, status=CreditLine.Status.ACTIVE)
        .select_related("product")
        .order_by("-created_at", "-id")
    )
    outstanding = sum((loan.outstanding_principal for loan in loans), ZERO)
    open_amount = sum(
        (
            app.approved_amount
            if app.state == LoanApplication.State.APPROVED and app.approved_amount is not None
            else app.amount
            for app in applications
        ),
        ZERO,
    )
    credit_limit = sum((line.limit for line in credit_lines), ZERO)
    credit_drawn = sum((line.drawn_total for line in credit_lines), ZERO)
    return {
        "customers": customers,
        "loans": loans,
        "applications": applications,
        "credit_lines": credit_lines,
        "outstanding_principal": outstanding,
        "open_application_amount": open_amount,
        "credit_limit": credit_limit,
        "credit_drawn": credit_drawn,
        "total_exposure": outstanding + open_amount,
    }


def customers_for_application(*, user, query: str = "", limit: int = 20) -> list[Customer]:
    """Step 1 of a new application: customers in scope, searched by name."""
    scope = customer_scope_q(user)
    if scope is None:
        return []
    queryset = Customer.objects.filter(scope).select_related("branch", "owner")
    if query:
        queryset = queryset.filter(name__icontains=query)
    return list(queryset.order_by("name", "id")[:limit])
