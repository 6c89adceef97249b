"""The account manager's workbench panel of open follow-up contacts (seed 003)."""

from __future__ import annotations

from django.utils import timezone

from coop.roles import Role
from coop.workbench import Panel, register_panel
from grid import metrics

PANEL_ROWS = 5


def followups_panel(user) -> dict | None:
    """Two queries: the first rows and the count; nothing shown when nothing is open."""
    due = metrics.followups_due(user, timezone.localdate())
    rows = list(due[:PANEL_ROWS])
    if not rows:
        return None
    count = len(rows) if len(rows) < PANEL_ROWS else due.count()
    return {"rows": rows, "count": count, "today": timezone.localdate()}


register_panel(
    Panel(
        key="grid_followups",
        template="grid/_followups_panel.html",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        context=followups_panel,
        order=30,
    )
)
