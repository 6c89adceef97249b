from django.utils.translation import gettext_lazy as _

from coop.roles import Role
from coop.workbench import Entry, register

register(
    Entry(
        key="my_grid",
        title=_("My grid"),
        description=_("Villages, households, filing and follow-ups due"),
        url_name="grid:my_grid",
        roles=frozenset({Role.ACCOUNT_MANAGER}),
        icon="bi-geo-alt",
    ),
    Entry(
        key="village_credit",
        title=_("Whole-village credit"),
        description=_("Campaigns, back-to-back evaluation, pre-credit and signing"),
        url_name="grid:campaigns",
        roles=frozenset({Role.ACCOUNT_MANAGER, Role.BRANCH_MANAGER}),
        icon="bi-houses",
    ),
    Entry(
        key="grid_coverage",
        title=_("Grid coverage"),
        description=_("Every grid's filing rate, credit coverage and performance"),
        url_name="grid:coverage",
        roles=frozenset({Role.BRANCH_MANAGER, Role.MANAGEMENT}),
        icon="bi-diagram-3",
    ),
)

from grid import panels  # noqa: E402,F401 — registers the follow-up workbench panel
