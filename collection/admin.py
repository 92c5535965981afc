from django import forms
from django.contrib import admin
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from collection.models import ContributionSchedule, Milestone, Payment, Target, Tier
from collection.services import TierSpec, schedule_validate_tiers
from pension.admin import ReadOnlyAdminMixin, RegionScopedAdminMixin


class TierFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        specs = [
            TierSpec(
                amount=form.cleaned_data["amount"],
                subsidy=form.cleaned_data["subsidy"],
                government_only=form.cleaned_data.get("government_only", False),
            )
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("amount") is not None
            and form.cleaned_data.get("subsidy") is not None
        ]
        errors = schedule_validate_tiers(tiers=specs)
        if errors:
            raise forms.ValidationError(errors)


class TierInline(admin.TabularInline):
    model = Tier
    formset = TierFormSet
    extra = 0
    fields = ["amount", "subsidy", "government_only"]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["due_on", "rate", "label"]


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = ContributionSchedule
        fields = [
            "province", "year", "proxy_amount", "qualifying_categories", "window_start",
            "window_end", "proxy_due", "subsidy_status", "cash_limit_days", "cash_limit_amount",
            "source_document",
        ]  # fmt: skip

    def clean_qualifying_categories(self):
        from enrollment.models import SpecialGroupMembership

        value = self.cleaned_data["qualifying_categories"] or []
        known = set(SpecialGroupMembership.Category.values)
        unknown = [code for code in value if code not in known]
        if unknown:
            separator = pgettext("list separator", "、")
            raise forms.ValidationError(
                gettext("未知的特殊群体类别：%(unknown)s；可用：%(known)s")
                % {"unknown": separator.join(unknown), "known": separator.join(sorted(known))}
            )
        return value


@admin.register(ContributionSchedule)
class ContributionScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = [
        "__str__",
        "tier_list",
        "proxy_amount",
        "categories",
        "window_start",
        "window_end",
        "subsidy_status",
    ]
    list_filter = ["year", "province", "subsidy_status"]
    inlines = [TierInline, MilestoneInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("province").prefetch_related("tiers")

    @admin.display(description=_("缴费档次（元）"))
    def tier_list(self, obj):
        return pgettext("list separator", "、").join(
            gettext("%(amount)s（代缴）") % {"amount": f"{tier.amount:.0f}"}
            if tier.government_only
            else f"{tier.amount:.0f}"
            for tier in obj.tiers.all()
        )

    @admin.display(description=_("代缴对象"))
    def categories(self, obj):
        return pgettext("list separator", "、").join(obj.qualifying_category_labels())


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    """Payments are read here; they are recorded and reversed only through the services."""

    list_display = [
        "voucher_no",
        "resident",
        "contribution_year",
        "amount",
        "kind",
        "channel",
        "source",
        "paid_at",
    ]
    list_filter = ["contribution_year", "kind", "channel", "source"]
    search_fields = ["=voucher_no", "=resident__id_number"]
    list_select_related = ["resident"]
    show_full_result_count = False


@admin.register(Target)
class TargetAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    """Targets are read here; they are set on the targets page or imported from a sheet, where
    the role checks and the audit trail apply (collection.services.progress)."""

    list_display = ["region", "year", "count", "set_by", "set_at"]
    list_filter = ["year", "region__level"]
    search_fields = ["=region__code", "region__name"]
    list_select_related = ["region", "set_by"]
