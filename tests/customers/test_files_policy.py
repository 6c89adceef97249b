"""Differentiated policy by class, managing level and categories (seed 002), table-driven."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation

from customers.models import (
    Customer,
    CustomerCategory,
    CustomerClass,
    IndustryCategory,
    ManagingLevel,
)
from customers.policy import customer_policy

SUPPORT = "Strengthen marketing and support"
CAUTIOUS = "Strengthen management, strictly control new financing"
EXIT = "Accelerate reduction and recover funds"
NAME_LIST = "Name-list management"
HEAD_OFFICE = "Managed by head office"


def category_line(category: str, industry: str) -> list[str]:
    """The seed's rule for the category line, written independently of the implementation."""
    if category in ("key", "moderate") and industry in ("guaranteed", "key"):
        return [SUPPORT]
    if category == "cautious":
        return [CAUTIOUS]
    if category == "exit":
        return [EXIT]
    return []


CASES = [
    # (class, level, industry, category) -> lines
    (("maintenance", "branch", "guaranteed", "key"), [SUPPORT]),
    (("maintenance", "branch", "key", "moderate"), [SUPPORT]),
    (("maintenance", "branch", "moderate", "key"), []),
    (("maintenance", "branch", "cautious", "moderate"), []),
    (("partner", "branch", "moderate", "cautious"), [CAUTIOUS]),
    (("partner", "branch", "cautious", "exit"), [EXIT]),
    (("strategic", "branch", "moderate", "moderate"), [NAME_LIST]),
    (("strategic", "head_office", "key", "key"), [SUPPORT, NAME_LIST, HEAD_OFFICE]),
    (("maintenance", "head_office", "cautious", "exit"), [EXIT, HEAD_OFFICE]),
    (("strategic", "head_office", "guaranteed", "cautious"), [CAUTIOUS, NAME_LIST, HEAD_OFFICE]),
]


def customer(customer_class, managing_level, industry_category, customer_category) -> Customer:
    return Customer(
        kind="individual",
        name="x",
        customer_class=customer_class,
        managing_level=managing_level,
        industry_category=industry_category,
        customer_category=customer_category,
    )


@pytest.mark.parametrize(("grades", "expected"), CASES)
def test_policy_lines_for_chosen_gradings(grades, expected):
    with translation.override("en"):
        assert customer_policy(customer(*grades)) == expected


@pytest.mark.parametrize(
    "grades",
    list(
        itertools.product(
            CustomerClass.values,
            ManagingLevel.values,
            IndustryCategory.values,
            CustomerCategory.values,
        )
    ),
)
def test_policy_for_every_combination(grades):
    customer_class, level, industry, category = grades
    expected = category_line(category, industry)
    if customer_class == "strategic":
        expected.append(NAME_LIST)
    if level == "head_office":
        expected.append(HEAD_OFFICE)

    with translation.override("en"):
        assert customer_policy(customer(*grades)) == expected
