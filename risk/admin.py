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


# --- post-loan inspections (read-only: completing and escalating go through the services) -----

from risk.models import (  # noqa: E402 — grouped with the registrations they serve
    EarlyWarning,
    Inspection,
    InspectionAttachment,
    InspectionNotice,
    InspectionRule,
)


@admin.register(InspectionRule)
class InspectionRuleAdmin(ReadOnlyAdmin):
    list_display = [
        "amount_threshold",
        "first_months_small",
        "first_days_large",
        "routine_months",
        "overdue_days_for_ad_hoc",
        "branch_grace_days",
        "head_office_grace_days",
        "updated_at",
    ]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = [
        "loan",
        "kind",
        "status",
        "due_on",
        "assigned_to",
        "escalation_level",
        "completed_on",
        "on_time",
        "conclusion",
    ]
    list_filter = ["kind", "status", "escalation_level", "conclusion"]
    list_select_related = ["loan", "assigned_to"]
    date_hierarchy = "due_on"


@admin.register(InspectionNotice)
class InspectionNoticeAdmin(ReadOnlyAdmin):
    list_display = ["inspection", "level", "recipient", "org_unit", "days_overdue", "created_at"]
    list_filter = ["level"]
    list_select_related = ["inspection__loan", "recipient", "org_unit"]


@admin.register(InspectionAttachment)
class InspectionAttachmentAdmin(ReadOnlyAdmin):
    # The file itself is served only by the scoped page, never by the admin.
    list_display = ["inspection", "original_name", "content_type", "size", "uploaded_at"]
    exclude = ["file"]
    list_select_related = ["inspection__loan"]


@admin.register(EarlyWarning)
class EarlyWarningAdmin(ReadOnlyAdmin):
    list_display = ["loan", "branch", "status", "raised_at", "classification_review"]
    list_filter = ["status"]
    list_select_related = ["loan", "branch", "classification_review"]
