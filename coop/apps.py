from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoopConfig(AppConfig):
    name = "coop"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from coop import lookups, roles  # noqa: F401 - lookups registers ``__in_array``

        # Groups and their permissions follow the code after every migrate, so a new permission
        # reaches its roles without a hand-written data migration. No sender: post_migrate fires
        # once per app, and only the last call sees every app's permissions.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="coop.sync_roles")
