"""Hand-written SQL for the dashboard's heaviest aggregates, nested around the ORM's scoped
querysets (so scope and filters stay the selectors' own)."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from grid.metrics import Figures


def nested(queryset: QuerySet, params: dict, prefix: str) -> str:
    """``SELECT pk FROM (scoped queryset)`` as SQL with its positional ``%s`` renamed
    ``%(<prefix>_<n>)s`` (the values put into ``params``), so it nests in a query with named
    parameters; ``%%`` stays as it is."""
    sql, values = queryset.order_by().values("pk").query.sql_with_params()
    counter = iter(range(len(values)))
    pieces = []
    for piece in sql.split("%%"):
        chunks = piece.split("%s")
        out = chunks[0]
        for chunk in chunks[1:]:
            n = next(counter)
            params[f"{prefix}_{n}"] = values[n]
            out += f"%({prefix}_{n})s" + chunk
        pieces.append(out)
    return "%%".join(pieces)


_VILLAGE_SQL = """
SELECT h.village_id,
       COUNT(*) AS households,
       COUNT(*) FILTER (WHERE h.completeness >= 100) AS filed,
       COUNT(*) FILTER (WHERE e.evaluated) AS evaluated,
       COUNT(*) FILTER (WHERE e.pre_credited) AS pre_credited,
       COUNT(*) FILTER (WHERE e.signed) AS signed
  FROM grid_household h
  LEFT JOIN (
        SELECT household_id,
               BOOL_OR(evaluated_at IS NOT NULL) AS evaluated,
               BOOL_OR(pre_credited_at IS NOT NULL) AS pre_credited,
               BOOL_OR(signing = 'signed') AS signed
          FROM grid_campaignhousehold
         WHERE {entries}
         GROUP BY household_id
       ) e ON e.household_id = h.id
 WHERE {households}
 GROUP BY h.village_id
"""


def village_sql(households: QuerySet | None = None) -> tuple[str, dict]:
    """(SQL, params) of the per-village counts of ``households`` (None: the whole bank), columns
    village_id, households, filed, evaluated, pre_credited, signed."""
    params: dict = {}
    if households is not None and households.query.where:
        condition = f"h.id IN ({nested(households, params, 'h')})"
        # The same scope inside, so a branch aggregates only its own campaign entries.
        entries = f"household_id IN ({nested(households, params, 'e')})"
    else:
        condition = entries = "TRUE"  # the whole bank: no semi-join of a table with itself
    return _VILLAGE_SQL.format(households=condition, entries=entries), params


def village_figures(households: QuerySet) -> dict[int, Figures]:
    """Households, filed, evaluated, pre-credited and signed per village, with the definitions
    of ``grid.metrics.household_figures`` (a household counts once however many campaigns it
    was in), in one query: one grouped pass over the campaign entries joined by hash instead of
    three correlated EXISTS per household. Granted and drawn amounts are not needed here."""
    sql, params = village_sql(households)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        village: Figures(
            households=n, filed=filed, evaluated=evaluated, pre_credited=pre, signed=signed
        )
        for village, n, filed, evaluated, pre, signed in rows
    }
