"""催缴名单: who in a township or village has not paid this year, with their phone, for the
campaign calls; on the page (paginated) and as a workbook. Thin: the list is
collection.selectors.unpaid_residents; a region outside the user's scope answers 404."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from collection.selectors import unpaid_residents
from collection.services.schedules import schedule_years
from pension.dashboard import campaign_year
from pension.exporters import write_workbook
from pension.http import XLSX, attachment
from pension.models import Region
from pension.views import RegionScopedMixin

CALL_LEVELS = (Region.Level.TOWNSHIP, Region.Level.VILLAGE)
EXPORT_HEADER = ("村(社区)", "村民小组", "姓名", "公民身份号码", "联系电话", "参保状态")


class CallRegionMixin(RegionScopedMixin):
    """A township or village the user sees, and the year asked for (or the latest campaign)."""

    model = Region

    def get_region(self) -> Region:
        regions = super().get_queryset().filter(level__in=CALL_LEVELS)
        return get_object_or_404(regions, code=self.kwargs["region_code"])

    def get_year(self, region: Region) -> int:
        return campaign_year(self.request.GET.get("year"), region, timezone.localdate().year)


class UnpaidListView(CallRegionMixin, ListView):
    template_name = "collection/calls/unpaid.html"
    context_object_name = "residents"
    paginate_by = 100

    def get_queryset(self):
        self.region = self.get_region()
        self.year = self.get_year(self.region)
        return unpaid_residents(region_code=self.region.code, year=self.year)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        this_year = timezone.localdate().year
        years = schedule_years(province_code=self.region.code[:2])
        context.update(
            region=self.region,
            year=self.year,
            query=f"year={self.year}",
            years=sorted({self.year, this_year, *years}, reverse=True),
            villages=Region.objects.filter(
                parent_id=self.region.code, level=Region.Level.VILLAGE
            ).order_by("code")
            if self.region.level == Region.Level.TOWNSHIP
            else [],
            nav_active="progress",
        )
        return context


class UnpaidExportView(CallRegionMixin, View):
    def get(self, request, *args, **kwargs):
        region = self.get_region()
        year = self.get_year(region)
        residents = unpaid_residents(region_code=region.code, year=year)
        rows = (
            (
                r.village.name,
                r.group.name if r.group_id else "",
                r.name,
                r.masked_id,
                r.phone,
                r.get_status_display(),
            )
            for r in residents.iterator(chunk_size=2000)
        )
        content = write_workbook(
            title=_("%(region)s %(year)s 年度未缴费人员名单（催缴用，内部资料，勿公示）")
            % {"region": region.name, "year": year},
            header=EXPORT_HEADER,
            rows=rows,
            sheet=_("未缴费人员"),
        )
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = attachment(
            _("%(region)s-%(year)s-未缴费人员.xlsx") % {"region": region.name, "year": year}
        )
        return response
