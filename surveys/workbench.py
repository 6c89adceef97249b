from django.utils.translation import gettext_lazy as _

from coop.roles import Role, user_roles
from coop.workbench import Entry, Panel, register, register_panel

register(
    Entry(
        key="survey_campaigns",
        title=_("Satisfaction surveys"),
        description=_("Campaigns, answers on visits, links and QR codes, paper imports"),
        url_name="surveys:campaigns",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-clipboard-data",
    ),
    Entry(
        key="survey_ledger",
        title=_("Problem ledger"),
        description=_("Improvement items from the surveys through plan, do, check and act"),
        url_name="surveys:ledger",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-journal-check",
    ),
    Entry(
        key="survey_feedback",
        title=_("Process feedback"),
        description=_("The green channel for defects in policies and processes"),
        url_name="surveys:feedback",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.TELLER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-signpost",
    ),
    Entry(
        key="survey_frameworks",
        title=_("Indicator frameworks"),
        description=_("The survey questions: first- and second-level indicators, by version"),
        url_name="surveys:frameworks",
        roles=frozenset({Role.MANAGEMENT, Role.SYSADMIN}),
        icon="bi-diagram-2",
    ),
)


def _panel_context(user) -> dict | None:
    from surveys.models import Campaign
    from surveys.selectors import invitations_visible, latest_index, open_improvement_counts

    counts = open_improvement_counts(user)
    reminders = (
        invitations_visible(user)
        .filter(
            campaign__state=Campaign.State.OPEN,
            responded_at__isnull=True,
            reminders__isnull=False,
        )
        .distinct()
        .count()
    )
    latest = None
    if set(user_roles(user)) & {Role.BRANCH_MANAGER, Role.MANAGEMENT}:
        latest = latest_index(user)
    if not (counts["open"] or reminders or latest):
        return None
    return {**counts, "reminders": reminders, "latest": latest}


register_panel(
    Panel(
        key="surveys",
        template="surveys/panel.html",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        context=_panel_context,
        order=60,
    )
)
