from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from coop.models import AuditEvent, OrgUnit, User


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]

    def save_model(self, request, obj, form, change):
        from coop.services import org_unit_create

        if change:
            super().save_model(request, obj, form, change)
            return
        created = org_unit_create(
            code=obj.code,
            name=obj.name,
            kind=obj.kind,
            parent=obj.parent,
            address=obj.address,
            actor=request.user,
        )
        obj.pk, obj.path = created.pk, created.path


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "name", "org_unit", "is_active", "last_login"]
    list_filter = ["is_active", "groups", "org_unit__kind"]
    search_fields = ["username", "name", "employee_no"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Staff member"), {"fields": ("name", "employee_no", "email", "org_unit")}),
        (_("Roles"), {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "name", "org_unit", "password1", "password2")}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "from_state",
        "to_state",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "action"]

    # The audit trail is read-only for everybody, administrators included.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
