from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    """Head office → branches (支行) → outlets (网点). ``path`` makes a subtree one index scan."""

    class Kind(models.TextChoices):
        HEAD_OFFICE = "head_office", _("Head office")
        BRANCH = "branch", _("Branch")
        OUTLET = "outlet", _("Outlet")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/<id>/<id>/…/" from the root; written once by the service that creates the unit.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="orgunit_path_like", opclasses=["varchar_pattern_ops"]
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="head_office", parent__isnull=True)
                | (~models.Q(kind="head_office") & models.Q(parent__isnull=False)),
                name="orgunit_only_head_office_is_root",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def branch(self) -> OrgUnit:
        """The branch this unit belongs to (itself for a branch or the head office)."""
        if self.kind == self.Kind.OUTLET and self.parent_id:
            return self.parent
        return self


class StaffManager(UserManager):
    def get_queryset(self):
        return super().get_queryset().select_related("org_unit")


class User(AbstractUser):
    """A staff member. Customers never log in; every staff member belongs to one org unit."""

    name = models.CharField(_("full name"), max_length=50, blank=True)
    employee_no = models.CharField(_("employee number"), max_length=20, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="staff"
    )

    REQUIRED_FIELDS = ["email", "org_unit"]
    objects = StaffManager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        permissions = [
            ("view_full_personal_data", _("Can see full ID and mobile numbers")),
            ("view_org_structure", _("Can see the whole organisation")),
            ("view_branch_staff", _("Can see the staff of their branch")),
            ("use_admin_tools", _("Can use the system administration tools")),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username


class AuditEvent(models.Model):
    """Who did what to which object, written by the service in the same transaction."""

    occurred_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"
