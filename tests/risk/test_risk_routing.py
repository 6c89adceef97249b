"""Routing rules: the seeded defaults send each kind of application down the route seed 000/001
describes; every condition works; rules are versioned and each case keeps the rule and version
that chose its route."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from coop.roles import Role
from coop.services import DomainError
from customers.models import CustomerCategory, IndustryCategory
from loans.models import Contract, Loan, LoanApplication
from risk import services
from risk.models import ApprovalCase, RoutingRule, RoutingRuleSet
from risk.routing import RoutingFacts, rule_matches

D = Decimal


@pytest.mark.parametrize(
    ("customer", "product", "amount", "route", "rule"),
    [
        ({}, "farmer-microcredit", "4000", "low", "评级额度内的农户小额信用贷款"),
        (
            {"credit_rating": "excellent"},
            "farmer-microcredit",
            "9000",
            "low",
            "评级额度内的农户小额信用贷款",
        ),
        ({}, "white-collar", "50000", "medium", "限额以内的其他个人贷款"),
        ({}, "merchant", "300000", "medium", "限额以内的其他个人贷款"),
        ({}, "golden-home", "400000", "high", "大额贷款"),
        ({"kind": "corporate"}, "small-enterprise", "200000", "high", "公司客户"),
        (
            {"category": CustomerCategory.CAUTIOUS},
            "farmer-microcredit",
            "4000",
            "high",
            "谨慎类或退出类客户",
        ),
        (
            {"category": CustomerCategory.EXIT},
            "white-collar",
            "20000",
            "high",
            "谨慎类或退出类客户",
        ),
        (
            {"industry": IndustryCategory.CAUTIOUS},
            "farmer-microcredit",
            "4000",
            "high",
            "谨慎进入类行业",
        ),
    ],
)
def test_default_rules_choose_the_seeded_routes(
    make_customer, make_application, team, customer, product, amount, route, rule
):
    application = make_application(make_customer(**customer), product, amount)

    case = services.approval_case_open(application=application, actor=team.am_a)

    assert case.route == route
    assert case.rule.name == rule
    assert case.ruleset.version == 1
    assert case.routing_facts["amount"] == f"{D(amount):.2f}"


def _loan(customer, application: LoanApplication, *, outstanding, days_past_due=0, state="active"):
    contract = Contract.objects.create(
        number=f"HT{application.pk}",
        application=application,
        customer=customer,
        branch=customer.branch,
        amount=application.amount,
        term_months=12,
        annual_rate=application.annual_rate,
        repayment_method=application.repayment_method,
        created_by=customer.owner,
    )
    return Loan.objects.create(
        number=f"DK{application.pk}",
        contract=contract,
        customer=customer,
        branch=customer.branch,
        product=application.product,
        account_manager=customer.owner,
        principal=application.amount,
        annual_rate=application.annual_rate,
        term_months=12,
        repayment_method=application.repayment_method,
        state=state,
        outstanding_principal=D(outstanding),
        days_past_due=days_past_due,
    )


def test_overdue_history_keeps_microcredit_off_the_low_route(make_customer, make_application, team):
    customer = make_customer()
    earlier = make_application(customer, "farmer-microcredit", "3500")
    _loan(customer, earlier, outstanding="1000", days_past_due=12, state="overdue")
    LoanApplication.objects.filter(pk=earlier.pk).update(state="contracted")

    case = services.approval_case_open(
        application=make_application(customer, "farmer-microcredit", "4000"), actor=team.am_a
    )

    assert (case.route, case.rule.name) == ("medium", "有逾期记录的个人客户")
    assert case.routing_facts["has_overdue_history"] is True


def test_large_existing_exposure_takes_the_high_route(make_customer, make_application, team):
    customer = make_customer()
    earlier = make_application(customer, "golden-home", "950000")
    _loan(customer, earlier, outstanding="900000")
    LoanApplication.objects.filter(pk=earlier.pk).update(state="contracted")

    case = services.approval_case_open(
        application=make_application(customer, "white-collar", "200000"), actor=team.am_a
    )

    assert (case.route, case.rule.name) == ("high", "风险敞口较大")
    assert case.routing_facts["existing_exposure"] == "900000.00"
    assert case.routing_facts["total_exposure"] == "1100000.00"


def test_without_a_matching_rule_the_products_default_route_applies(
    make_customer, make_application, team
):
    director = _director(team)
    services.routing_ruleset_publish(
        actor=director,
        rules=[{"name": "只有公司", "route": "high", "customer_kind": "corporate"}],
    )

    case = services.approval_case_open(
        application=make_application(make_customer(), "white-collar", "50000"), actor=team.am_a
    )

    assert case.rule is None
    assert case.route == "medium"  # white-collar's default route
    assert case.ruleset.version == 2


def _director(team):
    from coop.services import staff_create

    return staff_create(
        username="director",
        name="Director",
        org_unit=team.hq_risk1.org_unit,
        roles=[Role.MANAGEMENT],
        password="pw-Secret-123",
    )


def test_publishing_creates_a_new_version_and_open_cases_keep_theirs(
    make_customer, make_application, team
):
    before = open_low = services.approval_case_open(
        application=make_application(make_customer(), "farmer-microcredit", "4000"),
        actor=team.am_a,
    )
    v1_rules = list(RoutingRule.objects.filter(ruleset__version=1).values_list("name", "route"))

    v2 = services.routing_ruleset_publish(
        actor=_director(team),
        rules=[
            {"name": "所有个人小额", "route": "medium", "customer_kind": "individual"},
            {"name": "其他", "route": "high"},
        ],
        comment="收紧",
    )
    after = services.approval_case_open(
        application=make_application(make_customer(), "farmer-microcredit", "4000"),
        actor=team.am_a,
    )

    assert v2.version == 2
    assert list(RoutingRule.objects.filter(ruleset__version=1).values_list("name", "route")) == (
        v1_rules
    )
    open_low.refresh_from_db()
    assert (before.route, open_low.ruleset.version, open_low.rule.name) == (
        "low",
        1,
        "评级额度内的农户小额信用贷款",
    )
    assert (after.route, after.ruleset.version, after.rule.name) == ("medium", 2, "所有个人小额")


@pytest.mark.parametrize(
    ("rules", "field_in_message"),
    [
        ([], "rule"),
        ([{"name": "", "route": "low"}], "name"),
        ([{"name": "坏", "route": "fast"}], "route"),
        ([{"name": "坏", "route": "low", "product_codes": ["no-such-product"]}], "no-such-product"),
        ([{"name": "空", "route": "low", "amount_above": "500", "amount_up_to": "100"}], "range"),
        ([{"name": "坏", "route": "low", "credit_ratings": ["platinum"]}], "platinum"),
        ([{"name": "坏", "route": "low", "colour": "red"}], "colour"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_published(team, rules, field_in_message):
    director = _director(team)
    before = RoutingRuleSet.objects.count()

    with pytest.raises(DomainError) as refused:
        services.routing_ruleset_publish(actor=director, rules=rules)

    assert field_in_message in refused.value.message.lower() or refused.value.field == "rules"
    assert RoutingRuleSet.objects.count() == before


def test_only_head_office_management_publishes_rules(team, make_staff):
    branch_manager = make_staff(Role.BRANCH_MANAGER)
    before = RoutingRuleSet.objects.count()

    with pytest.raises(services.NotAllowedError):
        services.routing_ruleset_publish(
            actor=branch_manager, rules=[{"name": "x", "route": "low"}]
        )
    with pytest.raises(services.NotAllowedError):
        services.routing_ruleset_publish(actor=team.hq_risk1, rules=[{"name": "x", "route": "low"}])
    assert RoutingRuleSet.objects.count() == before


FACTS = RoutingFacts(
    product_code="farmer-microcredit",
    product_kind="credit",
    customer_kind="individual",
    amount=D("4000"),
    within_rating_tier=True,
    credit_rating="good",
    customer_class="maintenance",
    customer_category="moderate",
    industry_category="moderate",
    existing_exposure=D("0"),
    total_exposure=D("4000"),
    has_overdue_history=False,
)


@pytest.mark.parametrize(
    ("condition", "matching", "not_matching"),
    [
        ({"product_codes": ["farmer-microcredit"]}, {}, {"product_code": "merchant"}),
        ({"product_kinds": ["credit"]}, {}, {"product_kind": "mortgage"}),
        ({"customer_kind": "individual"}, {}, {"customer_kind": "corporate"}),
        ({"amount_above": D("3999.99")}, {}, {"amount": D("3999.99")}),
        ({"amount_up_to": D("4000")}, {}, {"amount": D("4000.01")}),
        ({"within_rating_tier": True}, {}, {"within_rating_tier": False}),
        ({"credit_ratings": ["good", "excellent"]}, {}, {"credit_rating": "general"}),
        ({"customer_classes": ["maintenance"]}, {}, {"customer_class": "strategic"}),
        ({"customer_categories": ["moderate"]}, {}, {"customer_category": "exit"}),
        ({"industry_categories": ["moderate"]}, {}, {"industry_category": "cautious"}),
        ({"exposure_above": D("3999")}, {}, {"total_exposure": D("3999")}),
        ({"has_overdue_history": False}, {}, {"has_overdue_history": True}),
    ],
)
def test_each_condition(condition, matching, not_matching):
    rule = RoutingRule(name="r", route="low", position=1, **condition)

    assert rule_matches(rule, replace(FACTS, **matching)) is True
    assert rule_matches(rule, replace(FACTS, **not_matching)) is False


def test_a_rule_without_conditions_matches_everything():
    assert rule_matches(RoutingRule(name="all", route="high", position=1), FACTS) is True


def test_every_case_records_its_rule_and_version(open_case):
    case = open_case("high")

    stored = ApprovalCase.objects.select_related("rule", "ruleset").get(pk=case.pk)

    assert (stored.rule.name, stored.ruleset.version) == ("公司客户", 1)
    assert stored.routing_facts["customer_kind"] == "corporate"
