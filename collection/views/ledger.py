from __future__ import annotations

import tempfile

from django import forms
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from collection.exporters.ledger import write_ledger
from collection.models import ContributionSchedule
from pension.http import XLSX
from pension.models import Region
from pension.views import RegionScopedMixin

LEDGER_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE)
FIRST_YEAR = 2009  # the rural pension pilot (新农保) began collecting in 2009
# One full-width space per level below the top region indents the region choices.
INDENT = "　"


class LedgerRegionsMixin(RegionScopedMixin):
    """The regions a ledger may be exported for: counties, townships and villages in scope."""

    model = Region

    def get_queryset(self):
        return super().get_queryset().filter(level__in=LEDGER_LEVELS)


class LedgerDownloadView(LedgerRegionsMixin, View):
    def get(self, request, region_code: str, year: int):
        if not FIRST_YEAR <= year <= timezone.localdate().year + 1:
            raise Http404(_("没有该年度的台账"))
        region = get_object_or_404(self.get_queryset().select_related("parent"), code=region_code)
        # Village names repeat between townships; the township keeps downloaded files apart.
        place = region.name
        if region.level == Region.Level.VILLAGE and region.parent:
            place = f"{region.parent.name}{region.name}"
        # Written to disk first: openpyxl's write-only mode keeps little in memory but needs a
        # seekable target to finish the zip. A task-based download replaces this for counties.
        out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
        try:
            write_ledger(region_code=region.code, year=year, out=out)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return FileResponse(
            out,
            as_attachment=True,
            filename=_("%(place)s%(year)s年度参保缴费台账.xlsx") % {"place": place, "year": year},
            content_type=XLSX,
        )


class LedgerForm(forms.Form):
    region = forms.ChoiceField(
        label=gettext_lazy("区划"), error_messages={"invalid_choice": gettext_lazy("请选择区划")}
    )

    def __init__(self, *args, regions: list[Region], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        top = min((LEDGER_LEVELS.index(region.level) for region in regions), default=0)
        self.fields["region"].choices = [
            (region.code, INDENT * (LEDGER_LEVELS.index(region.level) - top) + region.name)
            for region in regions
        ]
        last_year = timezone.localdate().year + 1
        self.fields["year"] = forms.IntegerField(
            label=_("缴费年度"),
            min_value=FIRST_YEAR,
            max_value=last_year,
            error_messages={
                "required": _("请输入缴费年度"),
                "invalid": _("请输入年份，如 2023"),
                # The validators fill in limit_value (FIRST_YEAR and last_year).
                "min_value": _("缴费年度不能早于 %(limit_value)s 年"),
                "max_value": _("缴费年度不能晚于 %(limit_value)s 年"),
            },
        )


class LedgerFormView(LedgerRegionsMixin, TemplateView):
    """Choose a region and a year; a valid choice leads to the download."""

    template_name = "collection/ledger_form.html"

    def get(self, request, *args, **kwargs):
        regions = list(self.get_queryset().order_by("code"))
        submitted = "region" in request.GET
        form = LedgerForm(
            request.GET if submitted else None,
            regions=regions,
            initial={"region": regions[0].code if regions else "", "year": self.default_year()},
        )
        if submitted and form.is_valid():
            return HttpResponseRedirect(
                reverse(
                    "collection:ledger_download",
                    args=[form.cleaned_data["region"], form.cleaned_data["year"]],
                )
            )
        return self.render_to_response(self.get_context_data(form=form, regions=regions))

    @staticmethod
    def default_year() -> int:
        latest = ContributionSchedule.objects.order_by("-year").values_list("year", flat=True)
        this_year = timezone.localdate().year
        return min(latest.first() or this_year, this_year)
