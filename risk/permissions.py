"""Which roles hold which of this app's permissions (merged by coop.roles.role_permissions).

Holding ``work_case`` lets a role try transitions; which stages it works, up to which amount,
is data (``StageAuthority``) checked by ``risk.policy``.
"""

from coop.roles import Role

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: [
        "risk.view_approvalcase",
        "risk.open_case",
        "risk.work_case",
    ],
    Role.RISK_OFFICER: [
        "risk.view_approvalcase",
        "risk.work_case",
        "risk.view_committeemeeting",
    ],
    Role.LOAN_COMMITTEE: [
        "risk.view_approvalcase",
        "risk.view_committeemeeting",
        "risk.vote_committee",
        "risk.manage_committee",
    ],
    Role.BRANCH_MANAGER: [
        "risk.view_approvalcase",
        "risk.work_case",
        "risk.view_committeemeeting",
        "risk.view_approval_stats",
    ],
    Role.MANAGEMENT: [
        "risk.view_approvalcase",
        "risk.view_committeemeeting",
        "risk.view_approval_stats",
        "risk.manage_routing",
    ],
}

# Post-loan inspections and early warnings: account managers inspect their loans; branch
# managers, risk officers and management follow compliance; risk officers handle warnings.
_INSPECTION_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: ["risk.view_inspection", "risk.complete_inspection"],
    Role.RISK_OFFICER: [
        "risk.view_inspection",
        "risk.view_inspection_compliance",
        "risk.view_earlywarning",
        "risk.handle_earlywarning",
    ],
    Role.BRANCH_MANAGER: [
        "risk.view_inspection",
        "risk.view_inspection_compliance",
        "risk.view_earlywarning",
    ],
    Role.MANAGEMENT: [
        "risk.view_inspection",
        "risk.view_inspection_compliance",
        "risk.view_earlywarning",
    ],
}
for _role, _perms in _INSPECTION_PERMISSIONS.items():
    ROLE_PERMISSIONS.setdefault(_role, []).extend(_perms)
