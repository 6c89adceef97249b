"""The post-loan inspections section of the customer 360 page (registered with customers'
profile sections, so customers never imports risk)."""

from __future__ import annotations

from customers.profile_sections import Section, register
from risk.inspection_selectors import inspection_list

SECTION_SIZE = 10


def inspections_context(*, user, customer) -> dict | None:
    if not user.has_perm("risk.view_inspection"):
        return None
    rows = list(
        inspection_list(user=user, status="all").filter(customer=customer)[: SECTION_SIZE + 1]
    )
    if not rows:
        return None
    return {"inspections": rows[:SECTION_SIZE], "more": len(rows) > SECTION_SIZE}


register(
    Section(
        key="inspections",
        template="risk/inspection_customer_section.html",
        context=inspections_context,
        order=120,
    )
)
