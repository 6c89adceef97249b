"""``<field>__in_array=<sub-query>``: ``field = ANY(ARRAY(<sub-query>))``.

For scopes that are a short list computed from a few indexed lookups, such as an account
manager's customers (``customers.selectors.account_manager_customer_ids``). ``IN (<sub-query>)``
becomes a semi-join whose size the planner cannot estimate from a ``UNION ALL``; it guessed that
half of all approval cases matched, walked them in date order and compared each with every id of
the scope (300 ms at county scale). ``ARRAY(…)`` runs the sub-query once, as an init plan, and
the outer query uses the ids as index keys: about 10 ms, whatever the size of the bank.
"""

from __future__ import annotations

from django.db.models import Field, Lookup


@Field.register_lookup
class InArray(Lookup):
    lookup_name = "in_array"

    def get_prep_lookup(self):
        if not hasattr(self.rhs, "resolve_expression"):
            raise TypeError("in_array takes a sub-query (a queryset of one column).")
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
