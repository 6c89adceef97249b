from django import template

from coop.money import format_yuan

register = template.Library()


@register.filter
def yuan(value) -> str:
    """{{ amount|yuan }} → ¥1,234.56"""
    return format_yuan(value)
