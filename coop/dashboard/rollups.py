"""Pre-aggregated tables for the dashboard's slowest figures, refreshed by Celery.

- ``villages``: the grid section's household counts per village (every 10 minutes);
- ``account_managers``: the ranking's period measures per manager and day (every 10 minutes);
- ``loan_book:<month end>``: the loan book at each of the last twelve month ends, by branch,
  product, tier and class, for the NPL trend (nightly, after the classification run).

Each refresh is one transaction: a DELETE and an INSERT … SELECT over all rows, then the
``DashboardRollup`` row saying when. Running it twice gives the same rows. The figures read from
a table equal what the live query gave at ``refreshed_at``; a table never refreshed has no
``DashboardRollup`` row and the dashboard computes its figures live instead.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from coop.dashboard.filters import _tz, bank_today
from coop.dashboard.sql import village_sql
from coop.models import (
    AccountManagerDay,
    AccountManagerMarketingMonth,
    DashboardRollup,
    DashboardVillageRollup,
    LoanBookMonthEnd,
)
from grid.metrics import Figures

VILLAGES = "villages"
ACCOUNT_MANAGERS = "account_managers"
LOAN_BOOK = "loan_book:"
MONTHS = 12


def month_end_name(month_end: dt.date) -> str:
    return f"{LOAN_BOOK}{month_end.isoformat()}"


def as_of(*names: str) -> dict[str, dt.datetime]:
    """{name: refreshed_at} of the given rollups that have been refreshed; one query."""
    return dict(DashboardRollup.objects.filter(name__in=names).values_list("name", "refreshed_at"))


def last_month_end_refresh() -> dt.datetime | None:
    """When the month-end loan book was last refreshed (None: never); one query."""
    return (
        DashboardRollup.objects.filter(name__startswith=LOAN_BOOK)
        .order_by("-refreshed_at")
        .values_list("refreshed_at", flat=True)
        .first()
    )


def _serialise(cursor, name: str) -> None:
    """Two runs of one refresh (a slow run overlapping the next beat, an operator's run) queue
    here instead of both deleting and then inserting the same rows; released at commit."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"coop.dashboard.{name}"])


def _stamp(name: str, now: dt.datetime) -> None:
    DashboardRollup.objects.update_or_create(name=name, defaults={"refreshed_at": now})


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _model_table(label: str) -> str:
    return connection.ops.quote_name(apps.get_model(label)._meta.db_table)


# --- villages -----------------------------------------------------------------------------------


_DELETE_ALL = "DELETE FROM {table}"

_VILLAGES_SQL = """
INSERT INTO {table}
       (village_id, grid_id, branch_id, households, filed, evaluated, pre_credited, signed,
        granted, drawn, refreshed_at)
SELECT f.village_id, v.grid_id, g.branch_id, f.households, f.filed, f.evaluated,
       f.pre_credited, f.signed, COALESCE(gr.granted, 0), COALESCE(dr.drawn, 0), %(now)s
  FROM ({figures}) f
  JOIN {village} v ON v.id = f.village_id
  JOIN {grid} g ON g.id = v.grid_id
  LEFT JOIN (
        SELECT h.village_id, SUM(cl."limit") AS granted
          FROM {entry} e
          JOIN {household} h ON h.id = e.household_id
          JOIN {line} cl ON cl.id = e.credit_line_id
         GROUP BY h.village_id
       ) gr ON gr.village_id = f.village_id
  LEFT JOIN (
        SELECT h.village_id, SUM(l.principal) AS drawn
          FROM {loan} l
          JOIN {entry} e ON e.credit_line_id = l.credit_line_id
          JOIN {household} h ON h.id = e.household_id
         GROUP BY h.village_id
       ) dr ON dr.village_id = f.village_id
"""


def villages_refresh(*, now: dt.datetime | None = None) -> int:
    """Rewrite the per-village household figures of the whole bank (the definitions of
    ``grid.metrics.household_figures``: counts, granted limits and drawn principal); returns
    the villages."""
    now = now or timezone.now()
    figures, params = village_sql()
    params["now"] = now
    table = _table(DashboardVillageRollup)
    sql = _VILLAGES_SQL.format(
        table=table,
        figures=figures,
        village=_model_table("grid.Village"),
        grid=_model_table("grid.Grid"),
        entry=_model_table("grid.CampaignHousehold"),
        household=_model_table("grid.Household"),
        line=_model_table("loans.CreditLine"),
        loan=_model_table("loans.Loan"),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _serialise(cursor, VILLAGES)
        cursor.execute(_DELETE_ALL.format(table=table))
        cursor.execute(sql, params)
        count = cursor.rowcount
        _stamp(VILLAGES, now)
    return count


def village_rollup_rows(**lookup) -> list[tuple[int, int, int, Figures]]:
    """(village id, grid id, branch id, figures) per village of the village rollup matching
    ``lookup`` (``grid_id__in=…``, ``village_id__in=…``), in one query; empty before the first
    refresh (check ``as_of(VILLAGES)`` first)."""
    rows = DashboardVillageRollup.objects.filter(**lookup).values_list(
        "village_id",
        "grid_id",
        "branch_id",
        "households",
        "filed",
        "evaluated",
        "pre_credited",
        "signed",
        "granted",
        "drawn",
    )
    return [
        (
            village,
            grid,
            branch,
            Figures(
                households=n,
                filed=filed,
                evaluated=evaluated,
                pre_credited=pre,
                signed=signed,
                granted=granted,
                drawn=drawn,
            ),
        )
        for village, grid, branch, n, filed, evaluated, pre, signed, granted, drawn in rows
    ]


# --- account managers ---------------------------------------------------------------------------


_NEW_CUSTOMERS = """
SELECT (c.created_at AT TIME ZONE %(tz)s)::date, c.owner_id, c.branch_id, 0,
       COUNT(*), 0, 0, 0, 0::numeric, 0, 0, 0
  FROM {customer} c
 WHERE c.owner_id IS NOT NULL
 GROUP BY 1, 2, 3
"""

_LOANS_DISBURSED = """
SELECT l.disbursed_on, l.account_manager_id, l.branch_id, l.product_id,
       0, 0, 0, COUNT(*), SUM(l.principal), 0, 0, 0
  FROM {loan} l
 WHERE l.disbursed_on IS NOT NULL AND l.account_manager_id IS NOT NULL
 GROUP BY 1, 2, 3, 4
"""

# Marketing counts to the end of the period: pre-credited entries by the day of pre-crediting,
# signed ones by the later of the two days (both must fall before the end).
_MARKETING = """
SELECT {day}, g.account_manager_id, g.branch_id, 0, 0, {pre}, {signed}, 0, 0::numeric, 0, 0, 0
  FROM {entry} e
  JOIN {campaign} c ON c.id = e.campaign_id
  JOIN {village} v ON v.id = c.village_id
  JOIN {grid} g ON g.id = v.grid_id
 WHERE e.excluded_reason = '' AND e.pre_credited_at IS NOT NULL
   AND g.account_manager_id IS NOT NULL {extra}
 GROUP BY 1, 2, 3
"""
_PRE_DAY = "(e.pre_credited_at AT TIME ZONE %(tz)s)::date"
_SIGNED_DAY = f"GREATEST({_PRE_DAY}, (e.signed_at AT TIME ZONE %(tz)s)::date)"

_INSPECTIONS = """
SELECT i.due_on, i.assigned_to_id, i.branch_id, l.product_id, 0, 0, 0, 0, 0::numeric,
       COUNT(*) FILTER (WHERE i.status = %(completed)s AND i.on_time),
       COUNT(*) FILTER (WHERE i.status = %(completed)s AND NOT i.on_time),
       COUNT(*) FILTER (WHERE i.status = %(overdue)s)
  FROM {inspection} i
  JOIN {loan} l ON l.id = i.loan_id
 WHERE i.assigned_to_id IS NOT NULL
 GROUP BY 1, 2, 3, 4
"""

_MANAGERS_SQL = """
INSERT INTO {table}
       (day, account_manager_id, branch_id, product_id, new_customers, pre_credited, signed,
        loans_disbursed, disbursed, inspections_on_time, inspections_late, inspections_overdue,
        refreshed_at)
SELECT day, am, branch, product, SUM(nc), SUM(pre), SUM(sg), SUM(ld), SUM(amt), SUM(ot),
       SUM(lt), SUM(od), %(now)s
  FROM ({union}) AS s(day, am, branch, product, nc, pre, sg, ld, amt, ot, lt, od)
 GROUP BY day, am, branch, product
"""


# Dense: every month from a manager's first entry to a year past the last month with data or
# today, so the month before any period end up to then has its row (``marketing_horizon``).
_MARKETING_MONTHS_SQL = """
WITH monthly AS (
    SELECT (date_trunc('month', day) + interval '1 month - 1 day')::date AS month_end,
           account_manager_id AS am, branch_id AS branch,
           SUM(pre_credited) AS pre, SUM(signed) AS sg
      FROM {days}
     WHERE pre_credited > 0 OR signed > 0
     GROUP BY 1, 2, 3
),
keys AS (
    SELECT am, branch, MIN(month_end) AS first FROM monthly GROUP BY 1, 2
),
last AS (
    SELECT GREATEST(MAX(month_end), %(today)s::date) + interval '1 year' AS month_end
      FROM monthly
),
months AS (
    SELECT k.am, k.branch, (m + interval '1 month - 1 day')::date AS month_end
      FROM keys k, last,
           generate_series(date_trunc('month', k.first), date_trunc('month', last.month_end),
                           interval '1 month') AS m
)
INSERT INTO {table} (month_end, account_manager_id, branch_id, pre_credited, signed,
                     refreshed_at)
SELECT m.month_end, m.am, m.branch,
       SUM(COALESCE(x.pre, 0)) OVER w, SUM(COALESCE(x.sg, 0)) OVER w, %(now)s
  FROM months m
  LEFT JOIN monthly x ON x.am = m.am AND x.branch = m.branch AND x.month_end = m.month_end
WINDOW w AS (PARTITION BY m.am, m.branch ORDER BY m.month_end)
"""


def marketing_horizon(today: dt.date) -> dt.date:
    """The last period end the marketing month rows serve (later ones are computed live)."""
    return today + dt.timedelta(days=365)


def _manager_sources(params: dict) -> list[str]:
    """SELECTs of (day, account_manager_id, branch_id, product_id, the eight measures), one per
    source table, with the definitions of ``figures.account_manager_ranking``."""
    loan = _model_table("loans.Loan")
    tables = {
        "entry": _model_table("grid.CampaignHousehold"),
        "campaign": _model_table("grid.VillageCreditCampaign"),
        "village": _model_table("grid.Village"),
        "grid": _model_table("grid.Grid"),
    }
    sources = [
        _NEW_CUSTOMERS.format(customer=_model_table("customers.Customer")),
        _LOANS_DISBURSED.format(loan=loan),
        _MARKETING.format(day=_PRE_DAY, pre="COUNT(*)", signed="0", extra="", **tables),
        _MARKETING.format(
            day=_SIGNED_DAY,
            pre="0",
            signed="COUNT(*)",
            extra="AND e.signed_at IS NOT NULL",
            **tables,
        ),
    ]
    if apps.is_installed("risk"):
        from risk.models import InspectionStatus

        params["completed"] = InspectionStatus.COMPLETED.value
        params["overdue"] = InspectionStatus.OVERDUE.value
        sources.append(_INSPECTIONS.format(inspection=_model_table("risk.Inspection"), loan=loan))
    return sources


def account_managers_refresh(*, now: dt.datetime | None = None) -> int:
    """Rewrite the per-manager daily measures of the whole bank, and the marketing to date at
    each month end from them; returns the daily rows."""
    now = now or timezone.now()
    params: dict = {"tz": str(_tz()), "now": now}
    union = "\nUNION ALL\n".join(_manager_sources(params))
    table = _table(AccountManagerDay)
    months = _table(AccountManagerMarketingMonth)
    sql = _MANAGERS_SQL.format(table=table, union=union)
    with transaction.atomic(), connection.cursor() as cursor:
        _serialise(cursor, ACCOUNT_MANAGERS)
        cursor.execute(_DELETE_ALL.format(table=table))
        cursor.execute(sql, params)
        count = cursor.rowcount
        cursor.execute(_DELETE_ALL.format(table=months))
        cursor.execute(
            _MARKETING_MONTHS_SQL.format(table=months, days=table),
            {"today": bank_today(), "now": now},
        )
        _stamp(ACCOUNT_MANAGERS, now)
    return count


# --- month-end loan book ------------------------------------------------------------------------


def completed_month_ends(today: dt.date, months: int = MONTHS) -> list[dt.date]:
    """The last ``months`` month ends before ``today``, oldest first."""
    ends = []
    end = today.replace(day=1) - dt.timedelta(days=1)
    for _ in range(months):
        ends.append(end)
        end = end.replace(day=1) - dt.timedelta(days=1)
    return sorted(ends)


def month_ends_missing(today: dt.date | None = None) -> bool:
    """Whether a month end of the trend's year has never been snapshotted; one query."""
    names = [month_end_name(end) for end in completed_month_ends(today or bank_today())]
    return len(as_of(*names)) < len(names)


def tier_case(params: dict, alias: str = "l") -> str:
    """The product tier of a loan's principal as SQL, like ``figures.with_tier``: the first
    matching tier in (product, max amount, id) order, "" when none."""
    from loans.models import ProductTier

    whens = []
    for n, tier in enumerate(ProductTier.objects.order_by("product_id", "max_amount", "pk")):
        params[f"tier_p{n}"] = tier.product_id
        params[f"tier_lo{n}"] = tier.min_amount
        params[f"tier_hi{n}"] = tier.max_amount
        params[f"tier_r{n}"] = tier.rating
        whens.append(
            f"WHEN {alias}.product_id = %(tier_p{n})s AND {alias}.principal >= %(tier_lo{n})s "
            f"AND {alias}.principal <= %(tier_hi{n})s THEN %(tier_r{n})s"
        )
    if not whens:
        return "''"
    return "CASE " + " ".join(whens) + " ELSE '' END"


_DELETE_MONTH_ENDS = "DELETE FROM {table} WHERE month_end = ANY(%s::date[])"

_MONTH_END_SQL = """
WITH m AS (
    SELECT cutoff, (cutoff::timestamp AT TIME ZONE %(tz)s) AS cutoff_at
      FROM unnest(%(cutoffs)s::date[]) AS t(cutoff)
),
paid AS (
    SELECT r.loan_id, m.cutoff, SUM(r.to_principal) AS principal
      FROM {repayment} r
      JOIN m ON r.paid_on >= m.cutoff
     WHERE r.paid_on >= %(first)s
     GROUP BY 1, 2
),
cls AS (
    SELECT a.object_id::bigint AS loan_id, a.occurred_at, a.to_state,
           LEAD(a.occurred_at) OVER (PARTITION BY a.object_id
                                     ORDER BY a.occurred_at, a.id) AS until
      FROM {audit} a
     WHERE a.object_type = 'loans.loan' AND a.action = 'loan.classify'
),
wo AS (
    SELECT a.object_id::bigint AS loan_id, MIN(a.occurred_at) AS at
      FROM {audit} a
     WHERE a.object_type = 'loans.loan' AND a.action = 'loan.write_off'
     GROUP BY 1
),
book AS (
    SELECT m.cutoff, l.branch_id, l.product_id, {tier} AS tier,
           COALESCE(c.to_state, %(normal)s) AS classification,
           l.outstanding_principal + COALESCE(p.principal, 0) AS outstanding
      FROM m
      JOIN {loan} l
        ON l.disbursed_on IS NOT NULL AND l.disbursed_on < m.cutoff
      LEFT JOIN wo ON wo.loan_id = l.id
      LEFT JOIN paid p ON p.loan_id = l.id AND p.cutoff = m.cutoff
      LEFT JOIN cls c ON c.loan_id = l.id AND c.occurred_at < m.cutoff_at
                     AND (c.until IS NULL OR c.until >= m.cutoff_at)
     WHERE wo.at IS NULL OR wo.at >= m.cutoff_at
)
INSERT INTO {table}
       (month_end, branch_id, product_id, tier, classification, loans, outstanding,
        refreshed_at)
SELECT cutoff - 1, branch_id, product_id, tier, classification, COUNT(*),
       SUM(outstanding), %(now)s
  FROM book
 WHERE outstanding > 0
 GROUP BY 1, 2, 3, 4, 5
"""


def month_ends_refresh(*, today: dt.date | None = None, months: int = MONTHS) -> int:
    """Rewrite the loan book at the last ``months`` month ends, reconstructed the way
    ``coop.dashboard.trend`` does it (outstanding then = now + principal repaid since; class then
    = the last ``loan.classify`` event before; written-off loans leave the book); returns rows."""
    from loans.models import Classification

    today = today or bank_today()
    ends = completed_month_ends(today, months)
    now = timezone.now()
    params: dict = {
        "tz": str(_tz()),
        "cutoffs": [end + dt.timedelta(days=1) for end in ends],
        "first": ends[0] + dt.timedelta(days=1),
        "normal": Classification.NORMAL.value,
        "now": now,
    }
    tier = tier_case(params)
    table = _table(LoanBookMonthEnd)
    sql = _MONTH_END_SQL.format(
        table=table,
        tier=tier,
        audit=_model_table("coop.AuditEvent"),
        repayment=_model_table("loans.Repayment"),
        loan=_model_table("loans.Loan"),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _serialise(cursor, LOAN_BOOK)
        cursor.execute(_DELETE_MONTH_ENDS.format(table=table), [ends])
        cursor.execute(sql, params)
        count = cursor.rowcount
        for end in ends:
            _stamp(month_end_name(end), now)
    return count


def rollups_refresh() -> dict[str, int]:
    """The ten-minute refresh: villages and account managers, each in its own transaction."""
    return {"villages": villages_refresh(), "account_manager_days": account_managers_refresh()}


def seed() -> str:
    """The demo's last ``seed_demo`` step: the dashboard's tables filled from the seeded data."""
    counts = rollups_refresh()
    rows = month_ends_refresh()
    return (
        f"dashboard rollups: {counts['villages']} villages, "
        f"{counts['account_manager_days']} account-manager days, {rows} month-end loan-book rows"
    )
