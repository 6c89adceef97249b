"""The workbench: each role's entry points. Apps add theirs in their own ``workbench.py``.

An entry is shown to a user who holds at least one of its roles. The browser tests walk this
registry, so a new entry is tested for every role without editing the test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from coop.roles import Role, user_roles


@dataclass(frozen=True)
class Entry:
    key: str
    title: str | Promise
    url_name: str
    roles: frozenset[str]
    description: str | Promise = ""
    icon: str = "bi-grid"
    url_kwargs: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return reverse(self.url_name, kwargs=self.url_kwargs or None)


logger = logging.getLogger(__name__)

_REGISTRY: dict[str, Entry] = {}
_discovered = False


def register(*entries: Entry) -> None:
    for entry in entries:
        _REGISTRY[entry.key] = entry


def all_entries() -> list[Entry]:
    global _discovered
    if not _discovered:
        autodiscover_modules("workbench")
        _discovered = True
    return list(_REGISTRY.values())


def entries_for_roles(roles: list[str]) -> list[Entry]:
    held = set(roles)
    return [entry for entry in all_entries() if entry.roles & held]


def _resolves(entry: Entry) -> bool:
    try:
        entry.url  # noqa: B018 — reversing is the check
    except NoReverseMatch:
        # A page that is not installed must not take the whole workbench down; the workbench
        # browser test still fails for it, because the role no longer sees its entry.
        logger.error("workbench entry %s points to a missing page %s", entry.key, entry.url_name)
        return False
    return True


@dataclass(frozen=True)
class Panel:
    """A box of live work at the top of the workbench (inspections due, contacts due, ...).

    ``context(user)`` returns the template context, or ``None`` when there is nothing to show;
    it must use the app's scoped selectors and a fixed number of queries.
    """

    key: str
    template: str
    roles: frozenset[str]
    context: Callable[[Any], dict | None]
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(*panels: Panel) -> None:
    for panel in panels:
        _PANELS[panel.key] = panel


def panels_for(user) -> list[tuple[Panel, dict]]:
    """(panel, context) for each panel a role of ``user`` holds and that has something to show."""
    all_entries()  # discovery registers the panels too
    held = set(user_roles(user))
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        if panel.roles & held:
            context = panel.context(user)
            if context is not None:
                shown.append((panel, context))
    return shown


def sections_for(user) -> list[tuple[str, str, list[Entry]]]:
    """(role code, role label, entries) for each role the user holds, in the roles' order."""
    sections = []
    for role in user_roles(user):
        entries = [e for e in all_entries() if role in e.roles and _resolves(e)]
        sections.append((role, Role(role).label, entries))
    return sections


ALL_ROLES = frozenset(Role.values)

register(
    Entry(
        key="org_structure",
        title=_("Organisation"),
        description=_("Head office, branches and outlets with their staff"),
        url_name="org_units",
        roles=frozenset({Role.MANAGEMENT, Role.SYSADMIN}),
        icon="bi-diagram-3",
    ),
    Entry(
        key="branch_staff",
        title=_("Branch staff"),
        description=_("Who works in your branch, and in which roles"),
        url_name="staff_list",
        roles=frozenset({Role.BRANCH_MANAGER}),
        icon="bi-people",
    ),
    Entry(
        key="admin",
        title=_("Administration"),
        description=_("Users, roles, org units and the audit trail"),
        url_name="admin:index",
        roles=frozenset({Role.SYSADMIN}),
        icon="bi-gear",
    ),
    Entry(
        key="api_docs",
        title=_("API documentation"),
        description=_("The REST API and its OpenAPI schema"),
        url_name="swagger-ui",
        roles=frozenset({Role.SYSADMIN}),
        icon="bi-braces",
    ),
    Entry(
        key="management_dashboard",
        title=_("Management dashboard"),
        description=_("Loan book, NPL, approvals, grids, post-loan, service, surveys and people"),
        url_name="dashboard:index",
        roles=frozenset({Role.MANAGEMENT, Role.BRANCH_MANAGER}),
        icon="bi-speedometer2",
    ),
    Entry(
        key="task_monitor",
        title=_("Scheduled tasks"),
        description=_("Last run, duration, counts and failures of every periodic task"),
        url_name="monitor:index",
        roles=frozenset({Role.SYSADMIN}),
        icon="bi-clock-history",
    ),
    Entry(
        key="password",
        title=_("Change password"),
        description=_("Your sign-in password"),
        url_name="password_change",
        roles=ALL_ROLES,
        icon="bi-key",
    ),
)
