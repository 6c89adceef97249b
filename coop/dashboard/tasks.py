"""Celery tasks refreshing the dashboard's pre-aggregated tables (``coop.dashboard.rollups``).

Beat: ``coop.dashboard_rollups_refresh`` every 10 minutes (and the month-end snapshot with it
when a completed month end is missing from it); ``coop.dashboard_month_end_refresh`` nightly
after ``loans.tasks.loans_classify_nightly`` (the snapshot reads the classification trail that
run writes). Each is idempotent: a run rewrites its tables whole in one transaction.
"""

from __future__ import annotations

from datetime import date

from coop.dashboard import rollups
from coop.monitor.runs import periodic_task


@periodic_task("coop.dashboard_rollups_refresh")
def dashboard_rollups_refresh() -> dict[str, int]:
    counts = rollups.rollups_refresh()
    # A fresh install (or a month just ended): the month-end snapshot is written now, not at the
    # next night's run, so the NPL trend rebuilds a year of history live for ten minutes at most.
    if rollups.month_ends_missing():
        counts["loan_book_rows"] = rollups.month_ends_refresh()
    return counts


@periodic_task("coop.dashboard_month_end_refresh")
def dashboard_month_end_refresh(today: str | None = None) -> dict[str, int]:
    """``today`` (ISO date) replays a night; by default the bank's today."""
    return {
        "loan_book_rows": rollups.month_ends_refresh(
            today=date.fromisoformat(today) if today else None
        )
    }
