from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_defaults_after_migrate(sender, **kwargs) -> None:
    from django.db import connections

    from coop.roles import sync_roles
    from risk.models import CommitteePolicy, StageAuthority
    from risk.services import config_ensure_defaults

    # ``migrate`` of another app to an early state sends this too, before our tables exist.
    tables = connections[kwargs.get("using", "default")].introspection.table_names()
    if not {StageAuthority._meta.db_table, CommitteePolicy._meta.db_table} <= set(tables):
        return
    # coop syncs the role groups when its own post_migrate runs, before the permissions of the
    # apps after it exist; by now this app's and the loans app's permissions do.
    sync_roles()
    # A flushed database (the test suite's transactional tests) loses what the data migration
    # wrote; put the default rules and limits back (existing ones are never touched).
    config_ensure_defaults()


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = _("Risk and approval")

    def ready(self) -> None:
        post_migrate.connect(ensure_defaults_after_migrate, sender=self)
