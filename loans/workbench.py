from django.utils.translation import gettext_lazy as _

from coop.roles import Role
from coop.workbench import Entry, register

register(
    Entry(
        key="products",
        title=_("Loan products"),
        description=_("The product catalogue with its tiers and limits"),
        url_name="loans:products",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.MANAGEMENT}),
        icon="bi-box-seam",
    ),
    Entry(
        key="applications",
        title=_("Loan applications"),
        description=_("Choose a product, apply, follow the decision"),
        url_name="loans:applications",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, Role.RISK_OFFICER}),
        icon="bi-file-earmark-text",
    ),
    Entry(
        key="loans",
        title=_("Loans"),
        description=_("Loan book, schedules, repayments and classification"),
        url_name="loans:loans",
        roles=frozenset(
            {Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, Role.RISK_OFFICER, Role.MANAGEMENT}
        ),
        icon="bi-cash-stack",
    ),
    Entry(
        key="disbursements",
        title=_("Disbursements"),
        description=_("Disbursement notices waiting for the counter"),
        url_name="loans:notices",
        roles=frozenset({Role.TELLER, Role.RISK_OFFICER}),
        icon="bi-send-check",
    ),
)
