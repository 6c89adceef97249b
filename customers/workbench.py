from django.utils.translation import gettext_lazy as _

from coop.roles import Role
from coop.workbench import Entry, register

register(
    Entry(
        key="customers",
        title=_("Customers"),
        description=_("Customer files, segments and grades"),
        url_name="customers:list",
        roles=frozenset(
            {
                Role.ACCOUNT_MANAGER,
                Role.TELLER,
                Role.RISK_OFFICER,
                Role.LOAN_COMMITTEE,
                Role.BRANCH_MANAGER,
                Role.MANAGEMENT,
            }
        ),
        icon="bi-person-vcard",
    ),
    Entry(
        key="customer_new",
        title=_("New customer"),
        description=_("File a new individual or corporate customer"),
        url_name="customers:create",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        icon="bi-person-plus",
    ),
    Entry(
        key="due_contacts",
        title=_("Due contacts"),
        description=_("Customers your contact plans say to contact now"),
        url_name="customers:due_contacts",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        icon="bi-telephone-outbound",
    ),
    Entry(
        key="grade_changes",
        title=_("Grade approvals"),
        description=_("Proposed changes of customer class and category"),
        url_name="customers:grade_changes",
        roles=frozenset({Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-award",
    ),
    Entry(
        key="segments",
        title=_("Segments and contact plans"),
        description=_("Customer segments by rule, and how often to contact them"),
        url_name="customers:segments",
        roles=frozenset({Role.MANAGEMENT}),
        icon="bi-funnel",
    ),
    Entry(
        key="counter_new",
        title=_("Record counter service"),
        description=_("One form, under 30 seconds, keyboard first"),
        url_name="customers:counter_new",
        roles=frozenset({Role.TELLER}),
        icon="bi-lightning-charge",
    ),
    Entry(
        key="service_summary",
        title=_("Counter service summary"),
        description=_("Daily and monthly figures per teller and outlet"),
        url_name="customers:service_summary",
        roles=frozenset({Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-bar-chart",
    ),
    Entry(
        key="complaints",
        title=_("Complaints and suggestions"),
        description=_("Receive, assign, answer and resolve; overdue cases escalate"),
        url_name="customers:complaints",
        roles=frozenset({Role.TELLER, Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-chat-left-dots",
    ),
)

from customers import panels  # noqa: E402,F401 — registers the due-contacts workbench panel
