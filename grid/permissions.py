"""Which roles hold which of this app's permissions (merged by coop.roles.role_permissions).

The batch-credit group (网格批量授信小组) that decides compromises is the branch manager's (and
head office's): account managers evaluate and sign, and no evaluator decides (segregation of
duties, checked by the service).
"""

from coop.roles import Role

_READ = [
    "grid.view_grid",
    "grid.view_gridofficer",
    "grid.view_village",
    "grid.view_household",
    "grid.view_householdmember",
    "grid.view_villagecreditcampaign",
    "grid.view_campaignhousehold",
    "grid.view_filingrequirement",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: [
        *_READ,
        "grid.add_household",
        "grid.change_household",
        "grid.add_villagecreditcampaign",
        "grid.change_villagecreditcampaign",
        "grid.evaluate_household",
        "grid.sign_credit",
    ],
    Role.BRANCH_MANAGER: [
        *_READ,
        "grid.add_grid",
        "grid.change_grid",
        "grid.add_gridofficer",
        "grid.change_gridofficer",
        "grid.add_village",
        "grid.add_household",
        "grid.change_household",
        "grid.add_villagecreditcampaign",
        "grid.change_villagecreditcampaign",
        "grid.evaluate_household",
        "grid.decide_credit",
        "grid.sign_credit",
        "grid.view_blacklistentry",
        "grid.add_blacklistentry",
        "grid.change_blacklistentry",
    ],
    Role.MANAGEMENT: [
        *_READ,
        "grid.decide_credit",
        "grid.view_blacklistentry",
        "grid.add_blacklistentry",
        "grid.change_blacklistentry",
        "grid.change_filingrequirement",
    ],
}
