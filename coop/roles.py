"""Staff roles as Django groups, and the permissions each role holds.

A user may hold several roles. The mapping is code: ``sync_roles`` (run after every migrate)
makes the groups match it exactly, so a permission taken away here is taken away in the database.
"""

from __future__ import annotations

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


# "app_label.codename" per role. Later apps add their permissions to these lists.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: [
        "loans.view_product",
        "loans.view_creditline",
        "loans.view_loanapplication",
        "loans.add_loanapplication",
        "loans.change_loanapplication",
        "loans.view_contract",
        "loans.view_loan",
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.propose_grade",
        "customers.view_visit",
        "customers.add_visit",
        "customers.view_complaint",
        "customers.add_complaint",
        "customers.view_segment",
        "customers.export_customers",
    ],
    Role.TELLER: [
        "loans.view_loan",
        "loans.view_contract",
        "loans.view_disbursementnotice",
        "loans.record_disbursement",
        "loans.record_repayment",
        "customers.view_customer",
        "customers.add_serviceinteraction",
        "customers.view_serviceinteraction",
        "customers.view_complaint",
        "customers.add_complaint",
    ],
    Role.RISK_OFFICER: [
        "loans.view_product",
        "loans.view_creditline",
        "loans.view_loanapplication",
        "loans.view_contract",
        "loans.add_contract",
        "loans.view_disbursementnotice",
        "loans.issue_notice",
        "loans.view_loan",
        "loans.override_classification",
        "coop.view_full_personal_data",
        "customers.view_customer",
        "customers.view_visit",
        "customers.view_segment",
    ],
    Role.LOAN_COMMITTEE: [
        "loans.view_product",
        "loans.view_loanapplication",
        "loans.view_loan",
        "customers.view_customer",
    ],
    Role.BRANCH_MANAGER: [
        "loans.view_product",
        "loans.view_creditline",
        "loans.add_creditline",
        "loans.view_loanapplication",
        "loans.view_contract",
        "loans.view_disbursementnotice",
        "loans.view_loan",
        "loans.approve_classification",
        "coop.view_branch_staff",
        "coop.view_full_personal_data",
        "customers.view_customer",
        "customers.change_customer",
        "customers.transfer_customer",
        "customers.propose_grade",
        "customers.approve_grade",
        "customers.view_visit",
        "customers.add_visit",
        "customers.view_serviceinteraction",
        "customers.view_service_summary",
        "customers.view_complaint",
        "customers.add_complaint",
        "customers.handle_complaint",
        "customers.view_segment",
        "customers.export_customers",
    ],
    Role.MANAGEMENT: [
        "loans.view_product",
        "loans.manage_products",
        "loans.view_creditline",
        "loans.view_loanapplication",
        "loans.view_contract",
        "loans.view_loan",
        "loans.approve_classification",
        "loans.write_off_loan",
        "coop.view_org_structure",
        "coop.view_branch_staff",
        "customers.view_customer",
        "customers.approve_grade",
        "customers.transfer_customer",
        "customers.view_visit",
        "customers.view_serviceinteraction",
        "customers.view_service_summary",
        "customers.view_complaint",
        "customers.handle_complaint",
        "customers.view_segment",
        "customers.manage_segments",
        "customers.export_customers",
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

    for role, perm_names in ROLE_PERMISSIONS.items():
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


def sync_after_migrate(sender, **kwargs) -> None:
    sync_roles()
