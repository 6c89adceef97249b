"""The NPL ratio at each of the last twelve month ends, reconstructed from what is recorded.

There is no monthly snapshot of the loan book, so each month end is rebuilt in one SQL query:

- the loans of the (scoped, filtered) book disbursed before the month end and not written off
  by then;
- their outstanding principal then = outstanding principal now + principal repaid since;
- their class then = the ``to_state`` of the last ``loan.classify`` audit event before the month
  end (written by the nightly run and by approved overrides), ``normal`` when there is none (a
  loan starts normal).

This is exact for what the system recorded, but it reads the audit trail; at county scale it is
the slowest figure on the dashboard, so the page loads it separately (``dashboard:npl_trend``),
and past month ends come from the nightly month-end snapshot (``coop.dashboard.rollups``), which
stores the same reconstruction by branch, product, tier and class: only the month ends the
snapshot lacks (the current month among them) are rebuilt on the request.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from coop.dashboard.filters import DashboardFilters, _tz
from coop.dashboard.sql import nested
from loans.models import NPL_CLASSES

MONTHS = 12
CENT = Decimal("0.01")


def month_cutoffs(date_to: dt.date, months: int = MONTHS) -> list[dt.date]:
    """The first day after each of the last ``months`` month ends, oldest first; the current
    month ends at ``date_to``."""
    cutoffs = [date_to + dt.timedelta(days=1)]
    first = date_to.replace(day=1)
    for _ in range(months - 1):
        cutoffs.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return sorted(cutoffs)


_SQL = """
WITH m AS (
    SELECT k, cutoff, (cutoff::timestamp AT TIME ZONE %(tz)s) AS cutoff_at
      FROM unnest(%(cutoffs)s::date[]) WITH ORDINALITY AS t(cutoff, k)
),
book AS (
    SELECT l.id, l.outstanding_principal, l.disbursed_on,
           -- the number of cutoffs on or before disbursement: on the book at cutoff k iff < k
           width_bucket(l.disbursed_on, %(cutoffs)s::date[]) AS bd
      FROM loans_loan l
     WHERE {book}
       AND l.disbursed_on IS NOT NULL
       AND l.disbursed_on < %(last)s
),
events AS (
    SELECT a.object_id, a.action, a.occurred_at, a.to_state, a.id
      FROM coop_auditevent a
     WHERE a.object_type = 'loans.loan'
       AND a.action IN ('loan.classify', 'loan.write_off')
       AND a.object_id IN (SELECT id::text FROM book)
),
eventful AS MATERIALIZED (
    SELECT DISTINCT object_id::bigint AS id FROM events
),
-- Loans never reclassified nor written off were normal all along: they only add to the
-- outstanding total, summed per disbursement bucket and (repayments) per payment bucket bp,
-- the number of cutoffs on or before the payment day: a payment is "repaid since" cutoff k
-- iff k <= bp. A few dozen groups, not a row per loan and month.
plain_out AS MATERIALIZED (
    SELECT b.bd, SUM(b.outstanding_principal) AS total
      FROM book b
     WHERE NOT EXISTS (SELECT 1 FROM eventful e WHERE e.id = b.id)
     GROUP BY b.bd
),
plain_paid AS MATERIALIZED (
    SELECT b.bd, width_bucket(r.paid_on, %(cutoffs)s::date[]) AS bp,
           SUM(r.to_principal) AS total
      FROM loans_repayment r
      JOIN book b ON b.id = r.loan_id
     WHERE r.paid_on >= %(first)s
       AND NOT EXISTS (SELECT 1 FROM eventful e WHERE e.id = b.id)
     GROUP BY 1, 2
),
paid AS MATERIALIZED (
    SELECT r.loan_id, width_bucket(r.paid_on, %(cutoffs)s::date[]) AS bp,
           SUM(r.to_principal) AS principal
      FROM loans_repayment r
     WHERE r.loan_id IN (SELECT id FROM eventful)
       AND r.paid_on >= %(first)s
     GROUP BY 1, 2
),
-- Loans with a classification or write-off history: month by month, one row each.
cls AS (
    SELECT e.object_id::bigint AS loan_id, e.occurred_at, e.to_state,
           LEAD(e.occurred_at) OVER (PARTITION BY e.object_id ORDER BY e.occurred_at, e.id)
               AS until
      FROM events e
     WHERE e.action = 'loan.classify'
),
wo AS (
    SELECT e.object_id::bigint AS loan_id, MIN(e.occurred_at) AS at
      FROM events e
     WHERE e.action = 'loan.write_off'
     GROUP BY 1
),
detailed AS (
    SELECT m.k,
           SUM(b.outstanding_principal + COALESCE(s.principal, 0)) AS outstanding,
           SUM(b.outstanding_principal + COALESCE(s.principal, 0))
               FILTER (WHERE c.to_state = ANY(%(npl)s)) AS npl
      FROM m
      JOIN book b ON b.bd < m.k AND b.id IN (SELECT id FROM eventful)
      LEFT JOIN wo ON wo.loan_id = b.id
      LEFT JOIN LATERAL (
            SELECT SUM(p.principal) AS principal FROM paid p
             WHERE p.loan_id = b.id AND p.bp >= m.k
           ) s ON TRUE
      LEFT JOIN cls c ON c.loan_id = b.id AND c.occurred_at < m.cutoff_at
                      AND (c.until IS NULL OR c.until >= m.cutoff_at)
     WHERE wo.at IS NULL OR wo.at >= m.cutoff_at
     GROUP BY m.k
)
SELECT m.cutoff,
       COALESCE((SELECT SUM(total) FROM plain_out o WHERE o.bd < m.k), 0)
     + COALESCE((SELECT SUM(total) FROM plain_paid q WHERE q.bd < m.k AND q.bp >= m.k), 0)
     + COALESCE(d.outstanding, 0) AS outstanding,
       COALESCE(d.npl, 0) AS npl
  FROM m
  LEFT JOIN detailed d ON d.k = m.k
 ORDER BY m.cutoff
"""


def npl_trend(
    loans: QuerySet, filters: DashboardFilters, cutoffs: list[dt.date] | None = None
) -> list[dict]:
    """[{"month": "2026-10", "outstanding": Decimal, "npl": Decimal, "ratio": Decimal}, …] for
    the twelve month ends up to the period's end (or the days before ``cutoffs``), rebuilt from
    the loans, repayments and audit trail. One query."""
    cutoffs = cutoffs or month_cutoffs(filters.date_to)
    params = {
        "tz": str(_tz()),
        "cutoffs": cutoffs,
        "last": cutoffs[-1],
        "first": cutoffs[0],
        "npl": list(NPL_CLASSES),
    }
    # The whole bank needs no semi-join of the loan table against itself.
    book = f"l.id IN ({nested(loans, params, 'book')})" if loans.query.where else "TRUE"
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(book=book), params)
        rows = cursor.fetchall()
    return [
        _point(cutoff - dt.timedelta(days=1), outstanding, npl) for cutoff, outstanding, npl in rows
    ]


def _point(month_end: dt.date, outstanding, npl, source: str = "live") -> dict:
    outstanding = Decimal(outstanding or 0).quantize(CENT)
    npl = Decimal(npl or 0).quantize(CENT)
    ratio = (
        (npl / outstanding).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        if outstanding
        else Decimal("0.0000")
    )
    return {
        "month": f"{month_end:%Y-%m}",
        "as_of": month_end.isoformat(),
        "outstanding": outstanding,
        "npl": npl,
        "ratio": ratio,
        "source": source,
    }


def npl_trend_for(user, filters: DashboardFilters) -> list[dict]:
    """The trend of ``npl_trend``, reading the nightly month-end snapshot
    (``coop.dashboard.rollups``) for every month end it holds and rebuilding only the others
    (the current month among them) live. Three queries at most. The snapshot has no grid, so a
    grid filter rebuilds everything live."""
    from coop.dashboard import rollups
    from coop.dashboard.figures import loans_base, rollup_scope_q
    from coop.models import LoanBookMonthEnd

    loans = loans_base(user, filters)
    cutoffs = month_cutoffs(filters.date_to)
    if filters.grid:
        return npl_trend(loans, filters, cutoffs)
    ends = {cutoff: cutoff - dt.timedelta(days=1) for cutoff in cutoffs}
    stamps = rollups.as_of(*(rollups.month_end_name(end) for end in ends.values()))
    covered = [end for end in ends.values() if rollups.month_end_name(end) in stamps]
    points = {}
    if covered:
        for row in (
            LoanBookMonthEnd.objects.filter(
                rollup_scope_q(user, "branch_id"),
                filters.branch_q("branch_id"),
                filters.product_q("product_id"),
                month_end__in=covered,
            )
            .values("month_end")
            .annotate(
                book=Sum("outstanding"),
                npl=Sum("outstanding", filter=Q(classification__in=NPL_CLASSES)),
            )
            .order_by()
        ):
            points[row["month_end"]] = _point(row["month_end"], row["book"], row["npl"], "snapshot")
        for end in covered:
            points.setdefault(end, _point(end, 0, 0, "snapshot"))
    missing = [cutoff for cutoff, end in ends.items() if end not in points]
    if missing:
        for point in npl_trend(loans, filters, missing):
            points[dt.date.fromisoformat(point["as_of"])] = point
    return [points[end] for end in sorted(points)]
