"""Which org units a staff member may see. Every selector in every app starts here.

- Head office staff (the user's unit is the head office) see the whole bank.
- Everybody else sees the branch they work in, with its outlets: staff at an outlet see their
  branch, because customers and loans belong to the branch.
- Narrower rules (an account manager sees only their grids' and their own customers) are applied
  by the selectors of the app that owns those objects, on top of this.
"""

from __future__ import annotations

from django.db.models import QuerySet

from coop.models import OrgUnit


def scope_root(user) -> OrgUnit | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    unit = user.org_unit
    if unit.kind == OrgUnit.Kind.HEAD_OFFICE:
        return unit
    return unit.branch()


def sees_whole_bank(user) -> bool:
    root = scope_root(user)
    return root is not None and root.kind == OrgUnit.Kind.HEAD_OFFICE


def visible_org_units(user) -> QuerySet[OrgUnit]:
    root = scope_root(user)
    if root is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=root.path)


def visible_org_unit_ids(user) -> list[int]:
    """Ids of the visible units, cached on the user for the request (pages ask more than once)."""
    cached = getattr(user, "_coop_visible_unit_ids", None)
    if cached is None:
        cached = list(visible_org_units(user).values_list("id", flat=True))
        user._coop_visible_unit_ids = cached
    return cached


def can_see_unit(user, unit: OrgUnit) -> bool:
    root = scope_root(user)
    return root is not None and unit.path.startswith(root.path)
