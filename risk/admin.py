"""Read-only admin views: every change goes through the services (pages for head office), so
the audit trail and the versioning of the rules hold."""

from django.contrib import admin

from risk.models import (
    ApprovalCase,
    ApprovalLog,
    CommitteeMeeting,
    Escalation,
    RoutingRuleSet,
    StageAuthority,
    StageSLA,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApprovalCase)
class ApprovalCaseAdmin(ReadOnlyAdmin):
    list_display = ["application", "route", "state", "branch", "amount", "stage_entered_at"]
    list_filter = ["route", "state"]
    list_select_related = ["application", "branch"]


@admin.register(ApprovalLog)
class ApprovalLogAdmin(ReadOnlyAdmin):
    list_display = ["case", "from_state", "to_state", "transition", "actor", "role", "created_at"]
    list_filter = ["transition", "from_state"]
    list_select_related = ["case__application", "actor"]


@admin.register(CommitteeMeeting)
class CommitteeMeetingAdmin(ReadOnlyAdmin):
    list_display = ["case", "status", "outcome", "convened_at", "closed_at"]
    list_select_related = ["case__application"]


@admin.register(RoutingRuleSet)
class RoutingRuleSetAdmin(ReadOnlyAdmin):
    list_display = ["version", "comment", "created_by", "created_at"]


@admin.register(StageAuthority)
class StageAuthorityAdmin(ReadOnlyAdmin):
    list_display = ["stage", "role", "org_level", "max_amount"]


@admin.register(StageSLA)
class StageSLAAdmin(ReadOnlyAdmin):
    list_display = ["stage", "target_hours"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["case", "stage", "due_at", "created_at"]
    list_select_related = ["case__application"]
