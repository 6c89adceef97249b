"""Reads for the organisation core, already scoped to the user."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from coop.models import OrgUnit, User
from coop.scoping import visible_org_units


def org_units_with_counts(*, user) -> QuerySet[OrgUnit]:
    return (
        visible_org_units(user)
        .annotate(staff_count=Count("staff", filter=Q(staff__is_active=True)))
        .order_by("path")
    )


def staff_list(*, user, query: str = "") -> QuerySet[User]:
    qs = (
        User.objects.filter(org_unit__in=visible_org_units(user), is_active=True)
        .select_related("org_unit")
        .prefetch_related("groups")
        .order_by("org_unit__path", "username")
    )
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(username__icontains=query))
    return qs
