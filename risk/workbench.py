from django.utils.translation import gettext_lazy as _

from coop.roles import Role
from coop.workbench import Entry, Panel, register, register_panel

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

# --- post-loan inspections and early warnings --------------------------------------------------


def _inspections_panel(user):
    from risk.inspection_selectors import my_inspections_panel

    return my_inspections_panel(user)


register(
    Entry(
        key="inspections",
        title=_("Post-loan inspections"),
        description=_("Inspections due and overdue, with the inspection form"),
        url_name="risk:inspections",
        roles=frozenset(
            {Role.ACCOUNT_MANAGER, Role.RISK_OFFICER, Role.BRANCH_MANAGER, Role.MANAGEMENT}
        ),
        icon="bi-clipboard-check",
    ),
    Entry(
        key="inspection_compliance",
        title=_("Inspection compliance"),
        description=_("On time, late and overdue inspections per branch and account manager"),
        url_name="risk:inspection_compliance",
        roles=frozenset({Role.RISK_OFFICER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-clipboard-data",
    ),
    Entry(
        key="early_warnings",
        title=_("Early warnings"),
        description=_("Risk found by post-loan inspections: acknowledge, review and close"),
        url_name="risk:warnings",
        roles=frozenset({Role.RISK_OFFICER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-exclamation-triangle",
    ),
)
register_panel(
    Panel(
        key="inspections_due",
        template="risk/inspection_panel.html",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        context=_inspections_panel,
        order=20,
    )
)
