"""The account manager's workbench panel of open due contacts (contact plans)."""

from __future__ import annotations

from coop.roles import Role
from coop.workbench import Panel, register_panel
from customers.segment_rules import today_in_shanghai
from customers.selectors_relationship import due_contacts_for

PANEL_ROWS = 5


def due_contacts_panel(user) -> dict | None:
    """Two queries at most: the first rows and, when there are more, the count."""
    today = today_in_shanghai()
    due = due_contacts_for(user, on=today)
    rows = due[0:PANEL_ROWS]
    if not rows:
        return None
    count = len(rows) if len(rows) < PANEL_ROWS else due.count()
    return {"rows": rows, "count": count, "today": today}


register_panel(
    Panel(
        key="due_contacts",
        template="customers/_due_contacts_panel.html",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        context=due_contacts_panel,
        order=20,
    )
)
