from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pension.imports import UPLOAD_MAX_BYTES
from pension.models import AuditEntry, Region, User
from pension.services import regions_import
from pension.spreadsheets import SpreadsheetError

# The import page lists this many rejected rows; the command's --json gives all of them.
SHOWN_REJECTIONS = 200


class RegionScopedAdminMixin:
    """Admin lists of people and money show only what the staff member's region allows."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


class ReadOnlyAdminMixin:
    """Records written only by the services, where the rules and the audit trail apply: the
    admin shows them and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.site_header = gettext_lazy("城乡居民基本养老保险参保征缴系统")
admin.site.site_title = gettext_lazy("参保征缴系统配置")
admin.site.index_title = gettext_lazy("系统配置")


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("区划文件"),
        help_text=gettext_lazy(
            "xlsx、xls 或 csv，最大 50 MB。列：区划代码、名称，可加上级代码；"
            "12位代码为村（社区），15位为村民小组。"
        ),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("只试算，不写入"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("文件过大：上限 50 MB"))
        return upload


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    ordering = ["code"]
    change_list_template = "admin/pension/region/change_list.html"

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="pension_region_import",
            ),
        ]
        return urls + super().get_urls()

    def has_import_permission(self, request) -> bool:
        return request.user.is_superuser or request.user.has_perm("pension.add_region")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = RegionImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    result = regions_import(
                        source=upload,
                        filename=upload.name,
                        actor=request.user,
                        dry_run=form.cleaned_data["dry_run"],
                    )
                except SpreadsheetError as exc:
                    messages.error(
                        request,
                        _("无法导入 %(file)s：%(error)s")
                        % {"file": upload.name, "error": exc.message},
                    )
                else:
                    self._report(request, result)
        else:
            form = RegionImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("导入区划"),
            "form": form,
            "result": result,
            "rejected": result.rejected[:SHOWN_REJECTIONS] if result else [],
            "hidden_rejections": max(len(result.rejected) - SHOWN_REJECTIONS, 0) if result else 0,
            "changelist_url": reverse("admin:pension_region_changelist"),
        }
        return TemplateResponse(request, "admin/pension/region/import.html", context)

    def _report(self, request, result) -> None:
        counts = ngettext(
            "共 %(rows)s 行：新增 %(created)s 个，更新 %(updated)s 个，"
            "未变 %(unchanged)s 个，错误 %(rejected)s 行。",
            "共 %(rows)s 行：新增 %(created)s 个，更新 %(updated)s 个，"
            "未变 %(unchanged)s 个，错误 %(rejected)s 行。",
            result.rows,
        ) % {
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": len(result.rejected),
        }
        if result.refused_reason:
            # Translators: why nothing was imported, then the counts of the file's rows.
            message = _("%(reason)s。%(counts)s") % {
                "reason": result.refused_reason,
                "counts": counts,
            }
            messages.error(request, message)
        elif result.dry_run:
            messages.info(request, _("试算完成（未写入）：%(counts)s") % {"counts": counts})
        elif result.rejected:
            messages.warning(request, _("导入完成，部分行有错误：%(counts)s") % {"counts": counts})
        else:
            messages.success(request, _("导入完成：%(counts)s") % {"counts": counts})


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "last_name", "first_name", "role", "region", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    list_select_related = ["region"]
    raw_id_fields = ["region"]
    filter_horizontal = ["villages", "groups", "user_permissions"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (gettext_lazy("岗位与辖区"), {"fields": ("role", "region", "villages")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (gettext_lazy("岗位与辖区"), {"fields": ("role", "region")}),
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    """The audit trail is evidence: it can be read here, never changed."""

    list_display = ["at", "actor", "action", "target_type", "target_id", "region_code"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "region_code", "actor__username"]
    list_select_related = ["actor"]
