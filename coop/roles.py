"""Staff roles as Django groups, and the permissions each role holds.

A user may hold several roles. The mapping is code: ``sync_roles`` (run after every migrate)
makes the groups match it exactly, so a permission taken away here is taken away in the database.
"""

from __future__ import annotations

from importlib import import_module

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    TELLER = "teller", _("Teller")
    RISK_OFFICER = "risk_officer", _("Risk officer")
    LOAN_COMMITTEE = "loan_committee", _("Loan committee member")
    BRANCH_MANAGER = "branch_manager", _("Branch manager")
    MANAGEMENT = "management", _("Head-office management")
    SYSADMIN = "sysadmin", _("System administrator")


# This app's and Django's own permissions per role; each domain app lists its own in its
# ``permissions.py`` (ROLE_PERMISSIONS), merged by ``role_permissions()``.
CORE_ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.RISK_OFFICER: [
        "coop.view_full_personal_data",
    ],
    Role.BRANCH_MANAGER: [
        "coop.view_branch_staff",
        "coop.view_full_personal_data",
        "coop.view_management_dashboard",
    ],
    Role.MANAGEMENT: [
        "coop.view_org_structure",
        "coop.view_branch_staff",
        "coop.view_management_dashboard",
    ],
    Role.SYSADMIN: [
        "coop.use_admin_tools",
        "coop.view_org_structure",
        "coop.view_branch_staff",
        "coop.view_user",
        "coop.add_user",
        "coop.change_user",
        "coop.view_orgunit",
        "coop.add_orgunit",
        "coop.change_orgunit",
        "coop.view_auditevent",
        "auth.view_group",
        "authtoken.view_tokenproxy",
        "authtoken.add_tokenproxy",
        "authtoken.delete_tokenproxy",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
    ],
}


def role_permissions() -> dict[str, list[str]]:
    """Every role's permissions: the core ones plus each installed app's ``permissions.py``."""
    from django.apps import apps

    merged: dict[str, list[str]] = {role: [] for role in Role.values}
    sources = [CORE_ROLE_PERMISSIONS]
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.permissions":
                raise
            continue
        # Third-party apps have permissions.py modules of their own meaning (DRF's).
        if isinstance(getattr(module, "ROLE_PERMISSIONS", None), dict):
            sources.append(module.ROLE_PERMISSIONS)
    for source in sources:
        for role, perms in source.items():
            merged[str(role)].extend(p for p in perms if p not in merged[str(role)])
    return merged


def role_label(code: str) -> str:
    return str(Role(code).label) if code in Role.values else code


def user_roles(user) -> list[str]:
    """The role codes of ``user``, cached on the instance for the request."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_coop_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = [role for role in Role.values if role in names]
        user._coop_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return any(role in user_roles(user) for role in roles)


class UnknownPermission(LookupError):
    pass


@transaction.atomic
def sync_roles(*, strict: bool = False) -> None:
    from django.contrib.auth.models import Group, Permission

    for role, perm_names in role_permissions().items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for full in perm_names:
            app_label, codename = full.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is None:
                if strict:
                    raise UnknownPermission(full)
                continue  # its app is not migrated yet; the next post_migrate adds it
            wanted.append(perm)
        group.permissions.set(wanted)


def sync_after_migrate(sender, app_config=None, apps=None, using="default", **kwargs) -> None:
    """Sync once per migrate (or test flush): on the signal of the last app with models, which
    Django sends after every app's permissions were created."""
    from django.apps import apps as global_apps

    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if app_config is not None and with_models and app_config is not with_models[-1]:
        return
    sync_roles()
