"""Choosing an application's route from the routing rules (data, versioned).

The facts a rule can test are gathered once per application (``facts_for``) and stored on the
case, so the page can always show why a case took its route, even after the customer's data or
the rules changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q

from customers.models import Customer
from loans.models import Classification, Installment, Loan, LoanApplication, RiskRoute
from loans.selectors_origination import customer_exposure, tier_for
from risk.models import RoutingRule, RoutingRuleSet


@dataclass(frozen=True)
class RoutingFacts:
    product_code: str
    product_kind: str
    customer_kind: str
    amount: Decimal
    within_rating_tier: bool
    credit_rating: str
    customer_class: str
    customer_category: str
    industry_category: str
    existing_exposure: Decimal
    total_exposure: Decimal
    has_overdue_history: bool

    def as_json(self) -> dict:
        return {
            key: str(value) if isinstance(value, Decimal) else value
            for key, value in asdict(self).items()
        }


def has_overdue_history(customer_id: int) -> bool:
    """Overdue now (days past due, overdue state, or classified below normal) or ever paid an
    installment late. One query."""
    late_installment = Installment.objects.filter(
        loan__customer_id=OuterRef("pk"), settled_on__gt=F("due_date")
    )
    overdue_loan = Loan.objects.filter(customer_id=OuterRef("pk")).filter(
        Q(days_past_due__gt=0)
        | Q(state=Loan.State.OVERDUE)
        | ~Q(classification=Classification.NORMAL)
    )
    return (
        Customer.objects.filter(pk=customer_id)
        .filter(Exists(late_installment) | Exists(overdue_loan))
        .exists()
    )


def facts_for(application: LoanApplication) -> RoutingFacts:
    customer = application.customer
    product = application.product
    tier = tier_for(product, customer)
    within = tier is not None and tier.min_amount <= application.amount <= tier.max_amount
    exposure = customer_exposure(customer)
    others = sum(
        (
            a.approved_amount
            if a.state == LoanApplication.State.APPROVED and a.approved_amount is not None
            else a.amount
            for a in exposure["applications"]
            if a.pk != application.pk
        ),
        Decimal("0.00"),
    )
    existing = exposure["outstanding_principal"] + others
    return RoutingFacts(
        product_code=product.code,
        product_kind=product.kind,
        customer_kind=customer.kind,
        amount=application.amount,
        within_rating_tier=within,
        credit_rating=customer.credit_rating,
        customer_class=customer.customer_class,
        customer_category=customer.customer_category,
        industry_category=customer.industry_category,
        existing_exposure=existing,
        total_exposure=existing + application.amount,
        has_overdue_history=has_overdue_history(customer.pk),
    )


def rule_matches(rule: RoutingRule, facts: RoutingFacts) -> bool:
    """Every condition the rule sets must hold; an unset condition holds for everything."""
    checks = [
        not rule.product_codes or facts.product_code in rule.product_codes,
        not rule.product_kinds or facts.product_kind in rule.product_kinds,
        not rule.customer_kind or facts.customer_kind == rule.customer_kind,
        rule.amount_above is None or facts.amount > rule.amount_above,
        rule.amount_up_to is None or facts.amount <= rule.amount_up_to,
        rule.within_rating_tier is None or facts.within_rating_tier == rule.within_rating_tier,
        not rule.credit_ratings or facts.credit_rating in rule.credit_ratings,
        not rule.customer_classes or facts.customer_class in rule.customer_classes,
        not rule.customer_categories or facts.customer_category in rule.customer_categories,
        not rule.industry_categories or facts.industry_category in rule.industry_categories,
        rule.exposure_above is None or facts.total_exposure > rule.exposure_above,
        rule.has_overdue_history is None or facts.has_overdue_history == rule.has_overdue_history,
    ]
    return all(checks)


def active_ruleset() -> RoutingRuleSet | None:
    return RoutingRuleSet.objects.order_by("-version").first()


@dataclass(frozen=True)
class RouteChoice:
    route: str
    rule: RoutingRule | None
    ruleset: RoutingRuleSet
    facts: RoutingFacts


def choose_route(application: LoanApplication, ruleset: RoutingRuleSet) -> RouteChoice:
    """The first rule of ``ruleset`` (in order) that matches; the product's default route when
    none does."""
    facts = facts_for(application)
    for rule in ruleset.rules.order_by("position"):
        if rule_matches(rule, facts):
            return RouteChoice(route=rule.route, rule=rule, ruleset=ruleset, facts=facts)
    route = application.product.default_route or RiskRoute.HIGH
    return RouteChoice(route=route, rule=None, ruleset=ruleset, facts=facts)
