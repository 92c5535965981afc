from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from enrollment.models import Resident, SpecialGroupMembership
from pension import idnumber
from pension.admin import RegionScopedAdminMixin


class MembershipInline(admin.TabularInline):
    model = SpecialGroupMembership
    extra = 0
    fields = ["category", "department", "list_date", "valid_from", "valid_to"]


@admin.register(Resident)
class ResidentAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["id_number", "name", "sex", "birth_date", "village", "status"]
    list_filter = ["status", "exclusion", "sex"]
    search_fields = ["=id_number", "name"]
    search_help_text = _("输入身份证号码或姓名")
    list_select_related = ["village"]
    raw_id_fields = ["village", "group"]
    # Status, identity and what the ID number encodes change only through the services, which
    # audit every change; the admin corrects contact details and household numbers.
    readonly_fields = [
        "id_number", "sex", "birth_date", "status", "status_reason", "status_date", "exclusion",
        "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [MembershipInline]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Clerks paste IDs with spaces, full-width digits or a lower-case x.
        normalised = idnumber.normalise(search_term)
        if normalised[:1].isdigit():
            return queryset.filter(id_number__startswith=normalised), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        # Residents come from the registry comparison or the register service, which derive sex
        # and birth date from the ID number.
        return False

    def has_delete_permission(self, request, obj=None):
        # Residents are sealed or cancelled with a reason, never deleted.
        return False
