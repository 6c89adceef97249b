"""Which roles hold which of this app's permissions (merged by coop.roles.role_permissions).

Who sees which customer answered is not a permission but the campaign's anonymity level
(``surveys.selectors.sees_respondent``).
"""

from coop.roles import Role

_READ = [
    "surveys.view_framework",
    "surveys.view_campaign",
    "surveys.view_improvementitem",
    "surveys.view_processfeedback",
    "surveys.add_processfeedback",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: [*_READ, "surveys.enter_response"],
    Role.TELLER: ["surveys.view_processfeedback", "surveys.add_processfeedback"],
    Role.BRANCH_MANAGER: [
        *_READ,
        "surveys.enter_response",
        "surveys.import_responses",
        "surveys.manage_campaign",
        "surveys.view_analysis",
        "surveys.manage_improvement",
    ],
    Role.MANAGEMENT: [
        *_READ,
        "surveys.add_framework",
        "surveys.import_responses",
        "surveys.manage_campaign",
        "surveys.view_analysis",
        "surveys.manage_improvement",
    ],
    Role.SYSADMIN: [
        "surveys.view_framework",
        "surveys.add_framework",
        "surveys.view_campaign",
        "surveys.change_processowner",
        "surveys.add_processowner",
        "surveys.view_processowner",
    ],
}
