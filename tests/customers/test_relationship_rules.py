"""The segment rule compiler: every operator, ages exact to the birthday, whitelist only."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from coop.roles import Role
from coop.services import DomainError
from customers.models import Customer
from customers.segment_rules import (
    compile_rules,
    describe_rule,
    format_value_text,
    parse_value_text,
    validate_rules,
)
from tests.customers.test_relationship_support import (
    born_years_ago,
    make_customer,
    roles_synced,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("roles_synced")

ON = date(2026, 6, 15)


def names(rules, on=ON) -> set[str]:
    return set(Customer.objects.filter(compile_rules(rules, on=on)).values_list("name", flat=True))


@pytest.fixture
def am(make_staff):
    return make_staff(Role.ACCOUNT_MANAGER, unit="B01")


@pytest.fixture
def balances(am):
    for name, balance in (("low", "100"), ("mid", "500000"), ("high", "600000.50")):
        make_customer(am, name=name, deposit_balance=balance)


# --- amounts: each operator ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "500000", {"mid"}),
        ("ne", 500000, {"low", "high"}),
        ("in", ["100", "600000.50"], {"low", "high"}),
        ("gte", 500000, {"mid", "high"}),
        ("lte", "500000.00", {"low", "mid"}),
        ("between", ["100.00", 500000], {"low", "mid"}),
        ("between", ["500000.01", "600000.50"], {"high"}),
    ],
)
def test_each_operator_on_an_amount(balances, op, value, expected):
    rules = [{"attribute": "deposit_balance", "op": op, "value": value}]

    assert names(rules) == expected


def test_amounts_are_stored_as_two_decimal_strings():
    rules = [
        {"attribute": "deposit_balance", "op": "gte", "value": 500000},
        {"attribute": "profit_contribution", "op": "between", "value": ["0.1", 2000]},
        {"attribute": "deposit_flow", "op": "in", "value": [1, "1.00", 2]},
    ]

    assert validate_rules(rules) == [
        {"attribute": "deposit_balance", "op": "gte", "value": "500000.00"},
        {"attribute": "profit_contribution", "op": "between", "value": ["0.10", "2000.00"]},
        {"attribute": "deposit_flow", "op": "in", "value": ["1.00", "2.00"]},
    ]


# --- choices ------------------------------------------------------------------------------------


@pytest.fixture
def workers(am):
    make_customer(am, name="away-farmer", workplace="away", occupation="farmer")
    make_customer(am, name="home-farmer", workplace="home", occupation="farmer")
    make_customer(am, name="away-migrant", workplace="away", occupation="migrant_worker")
    make_customer(am, name="home-merchant", workplace="home", occupation="merchant")


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "away", {"away-farmer", "away-migrant"}),
        ("ne", "away", {"home-farmer", "home-merchant"}),
        ("in", ["away", "home"], {"away-farmer", "away-migrant", "home-farmer", "home-merchant"}),
    ],
)
def test_each_operator_on_a_choice(workers, op, value, expected):
    assert names([{"attribute": "workplace", "op": op, "value": value}]) == expected


def test_all_rules_must_hold(workers):
    rules = [
        {"attribute": "workplace", "op": "eq", "value": "away"},
        {"attribute": "occupation", "op": "in", "value": ["farmer", "merchant"]},
    ]

    assert names(rules) == {"away-farmer"}


def test_income_bands_are_ranked(am):
    for band in ("lt20k", "20k_50k", "50k_100k", "100k_300k", "gt300k"):
        make_customer(am, name=band, income_band=band)
    make_customer(am, name="unknown")  # no band recorded

    assert names([{"attribute": "income_band", "op": "gte", "value": "100k_300k"}]) == {
        "100k_300k",
        "gt300k",
    }
    assert names([{"attribute": "income_band", "op": "lte", "value": "20k_50k"}]) == {
        "lt20k",
        "20k_50k",
    }
    assert names(
        [{"attribute": "income_band", "op": "between", "value": ["20k_50k", "100k_300k"]}]
    ) == {"20k_50k", "50k_100k", "100k_300k"}


def test_class_category_and_kind(am):
    make_customer(am, name="strategic-key", customer_class="strategic", customer_category="key")
    make_customer(am, name="partner-exit", customer_class="partner", customer_category="exit")
    make_customer(am, name="firm", kind="corporate")

    assert names([{"attribute": "customer_class", "op": "eq", "value": "strategic"}]) == {
        "strategic-key"
    }
    assert names([{"attribute": "customer_category", "op": "ne", "value": "moderate"}]) == {
        "strategic-key",
        "partner-exit",
    }
    assert names([{"attribute": "kind", "op": "eq", "value": "corporate"}]) == {"firm"}


def test_branch_includes_its_outlets_and_excludes_other_branches(org, make_staff):
    am1 = make_staff(Role.ACCOUNT_MANAGER, unit="B01")
    am2 = make_staff(Role.ACCOUNT_MANAGER, unit="B02")
    make_customer(am1, name="b01")
    make_customer(am1, name="b01-outlet", branch=org["B01-01"])
    make_customer(am2, name="b02")

    assert names([{"attribute": "branch", "op": "eq", "value": "B01"}]) == {"b01", "b01-outlet"}
    assert names([{"attribute": "branch", "op": "ne", "value": "B01"}]) == {"b02"}
    assert names([{"attribute": "branch", "op": "in", "value": ["B01", "B02"]}]) == {
        "b01",
        "b01-outlet",
        "b02",
    }


# --- ages: exact to the birthday ------------------------------------------------------------------


@pytest.fixture
def ages(am):
    make_customer(am, name="18-today", birth_date=born_years_ago(18, ON))
    make_customer(am, name="17-until-tomorrow", birth_date=born_years_ago(18, ON, days_later=1))
    make_customer(am, name="35-last-day", birth_date=born_years_ago(36, ON, days_later=1))
    make_customer(am, name="36-today", birth_date=born_years_ago(36, ON))
    make_customer(am, name="no-birth-date")


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gte", 18, {"18-today", "35-last-day", "36-today"}),
        ("lte", 35, {"18-today", "17-until-tomorrow", "35-last-day"}),
        ("between", [18, 35], {"18-today", "35-last-day"}),
        ("eq", 17, {"17-until-tomorrow"}),
        ("eq", 36, {"36-today"}),
        ("ne", 18, {"17-until-tomorrow", "35-last-day", "36-today"}),  # no birth date: no match
        ("in", [17, 36], {"17-until-tomorrow", "36-today"}),
    ],
)
def test_age_boundaries_fall_on_the_birthday(ages, op, value, expected):
    assert names([{"attribute": "age", "op": op, "value": value}]) == expected


def test_age_rule_agrees_with_customer_age_around_29_february(am):
    # Given birthdays around the leap day and dates around it in leap and common years
    births = [date(2004, 2, 28), date(2004, 2, 29), date(2004, 3, 1), date(2005, 2, 28)]
    customers = [make_customer(am, birth_date=b) for b in births]
    days = [date(2022, 2, 28), date(2022, 3, 1), date(2024, 2, 28), date(2024, 2, 29)]

    for on in days:
        for years in (16, 17, 18, 19, 20):
            # When the rule is compiled for that day
            selected = set(
                Customer.objects.filter(
                    compile_rules([{"attribute": "age", "op": "eq", "value": years}], on=on)
                ).values_list("pk", flat=True)
            )
            # Then it selects exactly those whose age that day is `years`
            expected = {c.pk for c in customers if c.age(on) == years}
            assert selected == expected, (on, years)


def test_age_counts_in_shanghai_time(am, monkeypatch):
    # 2026-06-14 17:00 UTC is already 2026-06-15 01:00 in Beijing: the birthday has come.
    from datetime import UTC, datetime

    from django.utils import timezone

    from customers import segment_rules

    make_customer(am, name="birthday", birth_date=date(2008, 6, 15))
    monkeypatch.setattr(
        timezone, "now", lambda: datetime(2026, 6, 14, 17, 0, tzinfo=UTC), raising=True
    )

    assert segment_rules.today_in_shanghai() == date(2026, 6, 15)
    rule = [{"attribute": "age", "op": "gte", "value": 18}]
    assert names(rule, on=segment_rules.today_in_shanghai()) == {"birthday"}


# --- the whitelist --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "code", "named"),
    [
        ([{"attribute": "name__icontains", "op": "eq", "value": "x"}], "unknown_attribute", "name"),
        ([{"attribute": "id_number", "op": "eq", "value": "1"}], "unknown_attribute", "id_number"),
        ([{"attribute": "age", "op": "like", "value": 3}], "unknown_operator", "like"),
        ([{"attribute": "workplace", "op": "gte", "value": "away"}], "unknown_operator", "gte"),
        ([{"attribute": "workplace", "op": "eq", "value": "moon"}], "bad_value", "Workplace"),
        ([{"attribute": "age", "op": "between", "value": [35, 18]}], "bad_value", "Age"),
        ([{"attribute": "age", "op": "gte", "value": "eighteen"}], "bad_value", "Age"),
        ([{"attribute": "age", "op": "gte", "value": True}], "bad_value", "Age"),
        ([{"attribute": "age", "op": "gte", "value": 151}], "bad_value", "Age"),
        ([{"attribute": "deposit_balance", "op": "gte", "value": "1.234"}], "bad_value", "Deposit"),
        ([{"attribute": "deposit_balance", "op": "in", "value": []}], "bad_value", "Deposit"),
        ([{"attribute": "deposit_balance", "op": "eq", "value": ["1"]}], "bad_value", "Deposit"),
        ([{"attribute": "branch", "op": "eq", "value": "B99"}], "unknown_branch", "B99"),
        ([{"attribute": "age", "op": "eq", "value": 3, "extra": 1}], "bad_rule", ""),
        ([], "no_rules", ""),
        ({"attribute": "age"}, "rules_not_a_list", ""),
    ],
)
def test_anything_outside_the_whitelist_is_refused_by_name(org, rules, code, named):
    with translation.override("en"), pytest.raises(DomainError) as refused:
        validate_rules(rules)

    assert refused.value.code == code
    assert refused.value.field == "rules"
    assert named in refused.value.message
    with translation.override("en"), pytest.raises(DomainError):
        compile_rules(rules, on=ON)


def test_unknown_attribute_message():
    with translation.override("en"), pytest.raises(DomainError) as refused:
        validate_rules([{"attribute": "salary", "op": "eq", "value": 1}])

    assert refused.value.message == "Unknown attribute “salary”."


# --- text for people ------------------------------------------------------------------------------


def test_describe_rule_in_english_and_chinese():
    rule = {"attribute": "deposit_balance", "op": "gte", "value": "500000.00"}
    with translation.override("en"):
        assert describe_rule(rule) == "Deposit balance at least ¥500,000.00"
        assert (
            describe_rule({"attribute": "age", "op": "between", "value": [18, 35]})
            == "Age between 18 and 35"
        )
        assert (
            describe_rule({"attribute": "workplace", "op": "eq", "value": "away"})
            == "Workplace is Working away from home"
        )
        assert describe_rule({"attribute": "bogus", "op": "eq", "value": 1}) == "Invalid rule"


def test_rule_builder_text_round_trip():
    with translation.override("en"):
        assert parse_value_text("workplace", "eq", "Working away from home") == "away"
        assert parse_value_text("workplace", "in", "away, home") == ["away", "home"]
        assert parse_value_text("age", "between", "18至35") == ["18", "35"]
        assert parse_value_text("deposit_balance", "gte", "¥500,000") == "500000"
        assert format_value_text("occupation", "in", ["farmer", "merchant"]) == (
            "Farmer, Merchant / self-employed"
        )
        assert format_value_text("age", "between", [18, 35]) == "18, 35"
        bands = format_value_text("income_band", "between", ["20k_50k", "100k_300k"])
        assert bands == "¥20,000–50,000 a year, ¥100,000–300,000 a year"
        assert parse_value_text("income_band", "between", bands) == ["20k_50k", "100k_300k"]
    with translation.override("zh-hans"):
        label = str(Customer._meta.get_field("workplace").choices[1][1])
        assert parse_value_text("workplace", "eq", label) == "away"
