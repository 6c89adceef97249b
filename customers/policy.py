"""Differentiated policy by classification and grading (seed 002).

Seed 002: "对保证进入类行业、重点进入类行业中的重点类客户和适度类客户，应加强客户营销，强化客户支持
政策；对战略合作客户实行名单制管理 … 谨慎类客户，应加强客户管理，严格控制客户融资需求 … 退出类
客户，应加快压退并尽快收回融资", and grading by managing level (head office / branch).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from customers.models import (
    Customer,
    CustomerCategory,
    CustomerClass,
    IndustryCategory,
    ManagingLevel,
)

_SUPPORTED_INDUSTRIES = {IndustryCategory.GUARANTEED, IndustryCategory.KEY}
_SUPPORTED_CATEGORIES = {CustomerCategory.KEY, CustomerCategory.MODERATE}


def customer_policy(customer: Customer) -> list[str]:
    """The policy lines that apply to the customer's current class, level and categories,
    translated into the active language, most business-relevant first."""
    lines: list[str] = []
    if (
        customer.customer_category in _SUPPORTED_CATEGORIES
        and customer.industry_category in _SUPPORTED_INDUSTRIES
    ):
        lines.append(_("Strengthen marketing and support"))
    elif customer.customer_category == CustomerCategory.CAUTIOUS:
        lines.append(_("Strengthen management, strictly control new financing"))
    elif customer.customer_category == CustomerCategory.EXIT:
        lines.append(_("Accelerate reduction and recover funds"))
    if customer.customer_class == CustomerClass.STRATEGIC:
        lines.append(_("Name-list management"))
    if customer.managing_level == ManagingLevel.HEAD_OFFICE:
        lines.append(_("Managed by head office"))
    return lines
