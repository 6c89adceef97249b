"""Which roles hold which of this app's permissions (merged by coop.roles.role_permissions)."""

from coop.roles import Role

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ACCOUNT_MANAGER: [
        "loans.view_product",
        "loans.view_creditline",
        "loans.view_loanapplication",
        "loans.add_loanapplication",
        "loans.change_loanapplication",
        "loans.view_contract",
        "loans.view_loan",
    ],
    Role.TELLER: [
        "loans.view_loan",
        "loans.view_contract",
        "loans.view_disbursementnotice",
        "loans.record_disbursement",
        "loans.record_repayment",
    ],
    Role.RISK_OFFICER: [
        "loans.view_product",
        "loans.view_creditline",
        "loans.view_loanapplication",
        "loans.view_contract",
        "loans.add_contract",
        "loans.add_guaranteecontract",
        "loans.view_disbursementnotice",
        "loans.issue_notice",
        "loans.view_loan",
        "loans.override_classification",
    ],
    Role.LOAN_COMMITTEE: [
        "loans.view_product",
        "loans.view_loanapplication",
        "loans.view_loan",
    ],
    Role.BRANCH_MANAGER: [
        "loans.view_product",
        "loans.view_creditline",
        "loans.add_creditline",
        "loans.add_guaranteecontract",
        "loans.view_loanapplication",
        "loans.view_contract",
        "loans.view_disbursementnotice",
        "loans.view_loan",
        "loans.approve_classification",
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
    ],
}
