from django.utils.translation import gettext_lazy as _

from coop.roles import Role
from coop.workbench import Entry, register

register(
    Entry(
        key="approval_queue",
        title=_("Approval queue"),
        description=_("Cases waiting for you, oldest first, against their time targets"),
        url_name="risk:queue",
        roles=frozenset(
            {
                Role.ACCOUNT_MANAGER,
                Role.RISK_OFFICER,
                Role.BRANCH_MANAGER,
                Role.LOAN_COMMITTEE,
            }
        ),
        icon="bi-list-check",
    ),
    Entry(
        key="approval_submit",
        title=_("Submit for approval"),
        description=_("Send your customers' applications into the approval workflow"),
        url_name="risk:open_list",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        icon="bi-send",
    ),
    Entry(
        key="committee_meetings",
        title=_("Committee meetings"),
        description=_("Loan committee votes on the cases above single-officer limits"),
        url_name="risk:meetings",
        roles=frozenset({Role.LOAN_COMMITTEE}),
        icon="bi-people-fill",
    ),
    Entry(
        key="approval_timing",
        title=_("Approval timing"),
        description=_("Average and 90th-percentile time per stage, route, branch and month"),
        url_name="risk:timing",
        roles=frozenset({Role.MANAGEMENT, Role.BRANCH_MANAGER}),
        icon="bi-stopwatch",
    ),
    Entry(
        key="approval_rules",
        title=_("Approval rules"),
        description=_("Routing rules, authority limits, time targets and the committee"),
        url_name="risk:rules",
        roles=frozenset({Role.MANAGEMENT}),
        icon="bi-signpost-split",
    ),
)
