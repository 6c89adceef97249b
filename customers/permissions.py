"""Which roles hold which of this app's permissions (merged by coop.roles.role_permissions)."""

from coop.roles import Role

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: [
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
        "customers.view_customer",
        "customers.add_serviceinteraction",
        "customers.view_serviceinteraction",
        "customers.view_complaint",
        "customers.add_complaint",
    ],
    Role.RISK_OFFICER: [
        "customers.view_customer",
        "customers.view_visit",
        "customers.view_segment",
    ],
    Role.LOAN_COMMITTEE: [
        "customers.view_customer",
    ],
    Role.BRANCH_MANAGER: [
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
}
