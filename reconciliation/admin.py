from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from pension import idnumber
from pension.admin import ReadOnlyAdminMixin, RegionScopedAdminMixin
from pension.models import Region
from reconciliation.models import (
    ApiKey,
    ApiRequest,
    BankLine,
    Discrepancy,
    ReconciliationRun,
    Statement,
    SyncedRecord,
    TaxLine,
    TownshipTotal,
)
from reconciliation.services.keys import (
    ApiKeyRefused,
    api_key_create,
    api_key_create_problem,
    api_key_revoke,
)


class VoucherOrIdSearchMixin:
    """Search by voucher number or ID number, exactly, as a clerk pastes them (spaces,
    full-width digits, a lower-case x); exact matches use the unique indexes."""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        number = idnumber.normalise(term)
        return queryset.filter(Q(voucher_no=term) | Q(id_number=number)), False


# --- API keys -----------------------------------------------------------------------------


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["county", "name"]
        help_texts = {"name": _("如“沧源县税务局征收系统”。保存后密钥只显示一次，请立即复制。")}

    def clean(self):
        cleaned = super().clean()
        county, name = cleaned.get("county"), cleaned.get("name")
        if county is not None and name:
            problem = api_key_create_problem(county=county, name=name)
            if problem:
                self.add_error("name", problem)
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """Keys are issued and revoked through the services (audited); the digest is never shown,
    and the key itself only once, right after it is created."""

    list_display = ["name", "county", "prefix", "account", "created_at", "last_used_at", "state"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    list_select_related = ["county", "account"]
    actions = ["revoke"]
    fields = [
        "name", "county", "account", "prefix", "created_by", "created_at", "last_used_at",
        "revoked_at", "revoked_by",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("状态"))
    def state(self, obj: ApiKey) -> str:
        return gettext("有效") if obj.is_active else gettext("已吊销")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
            kwargs["fields"] = ["county", "name"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["county", "name"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "county":
            kwargs["queryset"] = Region.objects.visible_to(request.user).filter(
                level=Region.Level.COUNTY
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.is_superuser or request.user.has_perm("reconciliation.change_apikey")

    def save_model(self, request, obj, form, change):
        issued = api_key_create(county=obj.county, name=obj.name, created_by=request.user)
        # The admin logs and redirects with `obj`; it becomes the stored row.
        obj.__dict__.update(issued.key.__dict__)
        messages.success(
            request,
            format_html(
                "{}<code>{}</code>",
                gettext("密钥已创建，只显示这一次，请立即复制并交给税务局："),
                issued.secret,
            ),
        )

    @admin.action(description=_("吊销"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                api_key_revoke(key=key, revoked_by=request.user)
            except ApiKeyRefused as exc:  # revoked by someone else meanwhile
                messages.warning(request, str(exc))
            else:
                revoked += 1
        messages.success(
            request,
            ngettext("已吊销 %(count)s 个密钥", "已吊销 %(count)s 个密钥", revoked)
            % {"count": revoked},
        )


@admin.register(ApiRequest)
class ApiRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "at", "key", "method", "path", "status", "records", "duration_ms", "remote_addr",
    ]  # fmt: skip
    list_filter = ["method", "status"]
    search_fields = ["=key__prefix", "path"]
    list_select_related = ["key"]
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # Calls with a wrong key belong to no county: only superusers see them.
        return queryset.filter(key__in=ApiKey.objects.visible_to(request.user))


# --- synced records and statements --------------------------------------------------------


@admin.register(SyncedRecord)
class SyncedRecordAdmin(
    VoucherOrIdSearchMixin, ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin
):
    list_display = [
        "voucher_no", "id_number", "name", "contribution_year", "amount", "kind", "paid_on",
        "status", "region_code", "received_at",
    ]  # fmt: skip
    list_filter = ["status", "kind", "channel"]
    search_fields = ["voucher_no", "id_number"]
    search_help_text = _("输入电子税票号码或证件号码")
    show_full_result_count = False


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["month", "county", "source", "filename", "rows", "created", "total"]
    list_filter = ["source"]
    search_fields = ["filename"]
    list_select_related = ["county"]


@admin.register(TaxLine)
class TaxLineAdmin(
    VoucherOrIdSearchMixin, ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin
):
    list_display = [
        "voucher_no", "id_number", "name", "contribution_year", "amount", "paid_on",
        "region_code", "month",
    ]  # fmt: skip
    list_filter = ["month"]
    search_fields = ["voucher_no", "id_number"]
    search_help_text = _("输入电子税票号码或证件号码")
    # A county's year of statements is a million lines: no COUNT(*) of the whole table.
    show_full_result_count = False


@admin.register(BankLine)
class BankLineAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "serial_no", "voucher_no", "id_number", "amount", "traded_on", "region_code", "month",
    ]  # fmt: skip
    list_filter = ["month"]
    search_fields = ["=serial_no", "=voucher_no", "=id_number"]
    search_help_text = _("输入银行流水号、电子税票号码或证件号码")
    show_full_result_count = False


# --- reconciliation -----------------------------------------------------------------------


class TownshipTotalInline(admin.TabularInline):
    model = TownshipTotal
    extra = 0
    fields = [
        "township", "tax_count", "tax_sum", "bank_count", "bank_sum", "system_count",
        "system_sum", "matched", "discrepancies",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["county", "month", "status", "is_current", "run_by", "started_at"]
    list_filter = ["status", "is_current"]
    list_select_related = ["county", "run_by"]
    inlines = [TownshipTotalInline]


@admin.register(Discrepancy)
class DiscrepancyAdmin(
    VoucherOrIdSearchMixin, ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin
):
    list_display = [
        "record_key", "category", "status", "month", "region_code", "name", "tax_amount",
        "bank_amount", "system_amount",
    ]  # fmt: skip
    list_filter = ["category", "status"]
    search_fields = ["voucher_no", "id_number"]
    search_help_text = _("输入电子税票号码或证件号码")
    show_full_result_count = False
