"""Admin for system administrators: reference data only. Responses and items change through
the services (and their pages), never here."""

from django.contrib import admin

from surveys.models import Campaign, Framework, Indicator, ProcessOwner


class IndicatorInline(admin.TabularInline):
    model = Indicator
    fields = ["code", "name", "name_en", "parent", "position"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "version", "created_at"]
    readonly_fields = ["code", "version", "name", "name_en", "description", "created_by"]
    inlines = [IndicatorInline]

    def has_add_permission(self, request) -> bool:
        return False  # a framework is created (as a new version) by the service

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "org_unit", "period", "starts_on", "state"]
    list_filter = ["state", "period"]
    readonly_fields = [f.name for f in Campaign._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProcessOwner)
class ProcessOwnerAdmin(admin.ModelAdmin):
    list_display = ["process", "owner"]
    autocomplete_fields = ["owner"]
