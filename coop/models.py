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
            ("view_management_dashboard", _("Can see the management dashboard")),
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


class RequestKey(models.Model):
    """A form's one-time key (made when the form is rendered) and what its first successful
    submission created, so a double click or a resubmitted form creates nothing twice. Written
    in the service's transaction: a failed attempt leaves no key behind."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    action = models.CharField(_("action"), max_length=60)
    object_id = models.BigIntegerField(_("object id"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("request key")
        verbose_name_plural = _("request keys")

    def __str__(self) -> str:
        return f"{self.action} {self.key}"


class TaskRun(models.Model):
    """One run of a periodic task, recorded by ``coop.monitor.runs.periodic_task``.

    Written in its own transaction (autocommit), so a task whose work rolls back still leaves
    its failure here. The nightly ``coop.taskruns_prune`` keeps the history bounded.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    task_name = models.CharField(_("task"), max_length=150)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("task run")
        verbose_name_plural = _("task runs")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["task_name", "-started_at"], name="taskrun_task_started"),
            models.Index(
                fields=["task_name", "-started_at"],
                name="taskrun_task_failed",
                condition=models.Q(status="failed"),
            ),
            models.Index(fields=["started_at"], name="taskrun_started"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


# --- pre-aggregated dashboard tables (coop.dashboard.rollups) ------------------------------------
#
# The dashboard reads every app, but coop is the lowest app of the dependency chain: these tables
# hold the other apps' ids as plain integers (no foreign keys), so coop's migrations never depend
# on theirs. Each table is rewritten whole by one set-based refresh in one transaction.


class DashboardRollup(models.Model):
    """When a pre-aggregated table (or one month end of the loan-book snapshot) was last
    refreshed; no row means never, and the dashboard computes that figure live."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("dashboard rollup")
        verbose_name_plural = _("dashboard rollups")

    def __str__(self) -> str:
        return f"{self.name} {self.refreshed_at:%Y-%m-%d %H:%M}"


class DashboardVillageRollup(models.Model):
    """The household figures per village (``grid.metrics.household_figures``) for the
    dashboard's grid section and the grid coverage page."""

    village_id = models.BigIntegerField(_("village"), unique=True)
    grid_id = models.BigIntegerField(_("grid"), db_index=True)
    branch_id = models.BigIntegerField(_("branch"), db_index=True)
    households = models.PositiveIntegerField(_("households"), default=0)
    filed = models.PositiveIntegerField(_("filed"), default=0)
    evaluated = models.PositiveIntegerField(_("evaluated"), default=0)
    pre_credited = models.PositiveIntegerField(_("credited"), default=0)
    signed = models.PositiveIntegerField(_("signed"), default=0)
    granted = models.DecimalField(_("granted"), max_digits=18, decimal_places=2, default=0)
    drawn = models.DecimalField(_("drawn"), max_digits=18, decimal_places=2, default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("village rollup")
        verbose_name_plural = _("village rollups")


class LoanBookMonthEnd(models.Model):
    """The loan book at a month end, by branch, product, tier and five-category class: the loans
    with principal outstanding then and that principal."""

    month_end = models.DateField(_("month end"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"))
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    classification = models.CharField(_("classification"), max_length=20)
    loans = models.PositiveIntegerField(_("loans"), default=0)
    outstanding = models.DecimalField(_("outstanding"), max_digits=18, decimal_places=2)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("month-end loan book")
        verbose_name_plural = _("month-end loan book")
        constraints = [
            models.UniqueConstraint(
                fields=["month_end", "branch_id", "product_id", "tier", "classification"],
                name="loanbook_monthend_unique",
            )
        ]


class AccountManagerDay(models.Model):
    """An account manager's ranking measures for one day, by the branch of what was counted and
    the loan product (0 for measures without a product: new customers, marketing)."""

    day = models.DateField(_("day"))
    account_manager_id = models.BigIntegerField(_("account manager"))
    branch_id = models.BigIntegerField(_("branch"))
    product_id = models.BigIntegerField(_("product"), default=0)
    new_customers = models.PositiveIntegerField(default=0)
    pre_credited = models.PositiveIntegerField(default=0)
    signed = models.PositiveIntegerField(default=0)
    loans_disbursed = models.PositiveIntegerField(default=0)
    disbursed = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    inspections_on_time = models.PositiveIntegerField(default=0)
    inspections_late = models.PositiveIntegerField(default=0)
    inspections_overdue = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("account manager day")
        verbose_name_plural = _("account manager days")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "account_manager_id", "branch_id", "product_id"],
                name="am_day_unique",
            )
        ]
        indexes = [
            models.Index(fields=["account_manager_id", "day"], name="am_day_manager"),
            # Marketing counts from the first day to the end of the period: only its rows.
            models.Index(
                fields=["account_manager_id", "day"],
                name="am_day_marketing",
                condition=models.Q(pre_credited__gt=0) | models.Q(signed__gt=0),
            ),
        ]


class AccountManagerMarketingMonth(models.Model):
    """Marketing counted from the beginning to each month end (pre-credited and signed entries
    in the grids an account manager owns, by the grid's branch), one row per month from the
    manager's first entry: a period ending mid-month adds the days of its month from
    ``AccountManagerDay`` instead of summing every day since the beginning."""

    month_end = models.DateField(_("month end"))
    account_manager_id = models.BigIntegerField(_("account manager"))
    branch_id = models.BigIntegerField(_("branch"))
    pre_credited = models.PositiveIntegerField(default=0)
    signed = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("account manager marketing to date")
        verbose_name_plural = _("account manager marketing to date")
        constraints = [
            models.UniqueConstraint(
                fields=["month_end", "account_manager_id", "branch_id"], name="am_month_unique"
            )
        ]
