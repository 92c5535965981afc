from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from pension.models import AuditEntry, Region, User


class RegionScopedAdminMixin:
    """Admin lists of people and money show only what the staff member's region allows."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


admin.site.site_header = "城乡居民基本养老保险参保征缴系统"
admin.site.site_title = "参保征缴系统配置"
admin.site.index_title = "系统配置"


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    ordering = ["code"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "role", "region", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    list_select_related = ["region"]
    raw_id_fields = ["region"]
    filter_horizontal = ["villages", "groups", "user_permissions"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("岗位与辖区", {"fields": ("role", "region", "villages")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("岗位与辖区", {"fields": ("role", "region")}),
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """The audit trail is evidence: it can be read here, never changed."""

    list_display = ["at", "actor", "action", "target_type", "target_id", "region_code"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "region_code", "actor__username"]
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
