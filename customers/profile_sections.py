"""Sections that other apps add to the customer 360 page.

Apps that depend on customers (loans, grid, surveys) must not be imported by it; instead each
registers a section in its own ``customer_sections.py``: a template and a function that returns
the section's context for (user, customer), or ``None`` when the user may not see it. Each
function runs a fixed number of queries, so the page's query count does not grow with the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Section:
    key: str
    template: str
    context: Callable[..., dict | None]
    order: int = 100


_SECTIONS: dict[str, Section] = {}
_discovered = False


def register(section: Section) -> None:
    _SECTIONS[section.key] = section


def sections_for(user, customer, request=None) -> list[str]:
    """The rendered HTML of the sections this user may see, in order."""
    global _discovered
    if not _discovered:
        autodiscover_modules("customer_sections")
        _discovered = True
    shown = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key)):
        context = section.context(user=user, customer=customer)
        if context is not None:
            context = {**context, "customer": customer}
            shown.append(render_to_string(section.template, context, request=request))
    return shown
