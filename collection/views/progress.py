"""Targets and progress: the county's ranking of its townships, a township's villages, the
targets page with its sheet upload, the notice's two sheets and the recount button.

Thin: the rules live in collection.services.progress. Every page and download finds its region
among the counties and townships the user sees, so anything else answers 404.
"""

from __future__ import annotations

import datetime
import tempfile
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from collection.exporters.progress import write_progress_sheet, write_target_sheet
from collection.services.progress import (
    FIRST_YEAR,
    ProgressRefused,
    TargetRefused,
    progress_default_day,
    progress_rebuild,
    progress_recount_refusal,
    progress_report,
    target_lines,
    target_refusal,
    targets_import,
    targets_set,
)
from pension.http import XLSX
from pension.imports import UPLOAD_MAX_BYTES
from pension.models import Region
from pension.spreadsheets import SpreadsheetError
from pension.views import RegionScopedMixin

PROGRESS_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP)
SHOWN_REJECTIONS = 200


class ProgressRegionsMixin(RegionScopedMixin):
    """The counties and townships the user sees; any other region answers 404."""

    model = Region

    def get_queryset(self):
        return super().get_queryset().filter(level__in=PROGRESS_LEVELS)

    def get_region(self, code: str) -> Region:
        return get_object_or_404(self.get_queryset(), code=code)


class PeriodForm(forms.Form):
    """The year and the day a page shows; both optional, with today's defaults."""

    year = forms.IntegerField(
        label=gettext_lazy("缴费年度"),
        required=False,
        min_value=FIRST_YEAR,
        error_messages={
            "invalid": gettext_lazy("请输入年份，如 2023"),
            # MinValueValidator fills in limit_value (FIRST_YEAR).
            "min_value": gettext_lazy("缴费年度不能早于 %(limit_value)s 年"),
        },
    )
    day = forms.DateField(
        label=gettext_lazy("截至日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("日期格式应为 2023-06-30")},
    )

    def clean_year(self):
        year = self.cleaned_data["year"]
        last = timezone.localdate().year + 1
        if year is not None and year > last:
            raise forms.ValidationError(
                _("缴费年度不能晚于 %(limit_value)s 年"), params={"limit_value": last}
            )
        return year

    def period(self) -> tuple[int, datetime.date]:
        """(year, day) asked for, today's where a field is blank or invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        year = data.get("year") or timezone.localdate().year
        return year, data.get("day") or progress_default_day(year=year)


def _query(year: int, day: datetime.date | None = None) -> str:
    values = {"year": year, **({"day": day.isoformat()} if day else {})}
    return "?" + urlencode(values)


class ProgressHomeView(ProgressRegionsMixin, TemplateView):
    """The navigation entry: the user's county, or their township."""

    template_name = "collection/progress/progress.html"

    def get(self, request, *args, **kwargs):
        region = self.get_queryset().order_by("code").first()
        if region is None:
            return self.render_to_response(self.get_context_data(report=None))
        url = reverse("collection:progress", args=[region.code])
        return HttpResponseRedirect(url + ("?" + request.GET.urlencode() if request.GET else ""))


class ProgressView(ProgressRegionsMixin, TemplateView):
    """A county's townships ranked with the bottom three marked, or a township's villages."""

    template_name = "collection/progress/progress.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        region = self.get_region(self.kwargs["region_code"])
        form = PeriodForm(self.request.GET or None)
        year, day = form.period()
        report = progress_report(region=region, year=year, day=day)
        user = self.request.user
        parent = None
        if region.level == Region.Level.TOWNSHIP:
            parent = self.get_queryset().filter(code=region.code[:6]).first()
        context.update(
            form=form,
            region=region,
            parent=parent,
            report=report,
            query=_query(year, day),
            year_query=_query(year),
            can_recount=not progress_recount_refusal(actor=user, county=region),
            nav_active="progress",
        )
        return context


class ProgressRecountView(ProgressRegionsMixin, View):
    """The county bureau's button: rebuild today's progress rows now instead of tonight."""

    def post(self, request, region_code: str):
        region = self.get_region(region_code)
        form = PeriodForm(request.POST)
        year, day = form.period()
        try:
            written = progress_rebuild(county=region, year=year, day=day, actor=request.user)
        except ProgressRefused as exc:
            messages.error(request, str(exc))
        else:
            message = ngettext(
                "已重新统计 %(count)s 个村截至 %(day)s 的征缴进度",
                "已重新统计 %(count)s 个村截至 %(day)s 的征缴进度",
                written,
            )
            messages.success(request, message % {"count": written, "day": f"{day:%Y-%m-%d}"})
        return HttpResponseRedirect(
            reverse("collection:progress", args=[region.code]) + _query(year)
        )


class TargetUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("任务数表"),
        help_text=gettext_lazy("xlsx、xls 或 csv，列：乡镇、村、任务数"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("文件过大：上限 %(size)s MB") % {"size": UPLOAD_MAX_BYTES // 1024 // 1024}
            )
        return upload


class TargetView(ProgressRegionsMixin, TemplateView):
    """Enter the year's targets of a county's townships or a township's villages, or upload
    a sheet of them. The page posts either the inputs (action=save) or a file (action=import).
    """

    template_name = "collection/progress/targets.html"

    def _year(self) -> int:
        year, _day = PeriodForm(self.request.GET or self.request.POST or None).period()
        return year

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        region = self.get_region(self.kwargs["region_code"])
        year = self._year()
        user = self.request.user
        lines = target_lines(region=region, year=year, with_enrolled=True)
        values = kwargs.get("values", {})
        rows = [
            {
                "line": line,
                "field": f"target-{line.code}",
                "value": values.get(line.code, "" if line.target is None else line.target),
                "refusal": target_refusal(actor=user, region=line.region),
                "error": kwargs.get("errors", {}).get(line.code, ""),
            }
            for line in lines
        ]
        parent = None
        if region.level == Region.Level.TOWNSHIP:
            parent = self.get_queryset().filter(code=region.code[:6]).first()
        context.update(
            region=region,
            parent=parent,
            year=year,
            rows=rows,
            editable=any(not row["refusal"] for row in rows),
            upload_form=kwargs.get("upload_form") or TargetUploadForm(),
            year_query=_query(year),
            nav_active="progress",
        )
        return context

    def post(self, request, region_code: str):
        region = self.get_region(region_code)
        if request.POST.get("action") == "import":
            return self._import(request, region)
        return self._save(request, region)

    def _redirect(self, region: Region, year: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("collection:targets", args=[region.code]) + _query(year)
        )

    def _save(self, request, region: Region):
        year = self._year()
        counts, values, errors = {}, {}, {}
        for line in target_lines(region=region, year=year):
            raw = request.POST.get(f"target-{line.code}", "").strip()
            values[line.code] = raw
            if raw == "":
                continue
            if not raw.isdigit():
                errors[line.code] = _("请填写不小于 0 的整数")
                continue
            if int(raw) != line.target:
                counts[line.region] = int(raw)
        if errors:
            return self.render_to_response(self.get_context_data(values=values, errors=errors))
        try:
            result = targets_set(year=year, counts=counts, actor=request.user)
        except TargetRefused as exc:
            messages.error(request, str(exc))
            return self.render_to_response(self.get_context_data(values=values))
        messages.success(
            request,
            _("已保存 %(year)s 年度任务数：新增 %(created)s 个，修改 %(updated)s 个")
            % {"year": year, "created": result.created, "updated": result.updated},
        )
        return self._redirect(region, year)

    def _import(self, request, region: Region):
        year = self._year()
        form = TargetUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(upload_form=form))
        upload = form.cleaned_data["file"]
        county = Region.objects.get(code=region.code[:6])
        try:
            result = targets_import(
                source=upload, county=county, year=year, actor=request.user,
                filename=upload.name, max_bytes=UPLOAD_MAX_BYTES,
            )  # fmt: skip
        except (SpreadsheetError, TargetRefused) as exc:
            messages.error(
                request, _("未导入 %(name)s：%(reason)s") % {"name": upload.name, "reason": exc}
            )
            return self.render_to_response(self.get_context_data(upload_form=form))
        if result.refused_reason:
            return self.render_to_response(
                self.get_context_data(
                    upload_form=form,
                    refused_reason=result.refused_reason,
                    rejections=result.rejected[:SHOWN_REJECTIONS],
                    hidden_rejections=max(len(result.rejected) - SHOWN_REJECTIONS, 0),
                )
            )
        message = ngettext(
            "已导入 %(name)s：共 %(rows)s 行，新增 %(created)s 个，修改 %(updated)s 个，"
            "未变 %(unchanged)s 个",
            "已导入 %(name)s：共 %(rows)s 行，新增 %(created)s 个，修改 %(updated)s 个，"
            "未变 %(unchanged)s 个",
            result.rows,
        )
        values = {
            "name": upload.name,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }
        messages.success(request, message % values)
        return self._redirect(region, year)


def _xlsx(out, filename: str) -> FileResponse:
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)


class _SheetView(ProgressRegionsMixin, View):
    """Written to a temporary file first: openpyxl's write-only mode needs a seekable target."""

    def get(self, request, region_code: str):
        region = self.get_region(region_code)
        year, day = PeriodForm(request.GET or None).period()
        out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
        try:
            filename = self.write(region=region, year=year, day=day, out=out)
        except BaseException:
            out.close()
            raise
        return _xlsx(out, filename)

    def write(self, *, region: Region, year: int, day: datetime.date, out) -> str:
        raise NotImplementedError


class TargetSheetView(_SheetView):
    """参保任务数: each township's target (a township's sheet: each village's)."""

    def write(self, *, region: Region, year: int, day: datetime.date, out) -> str:
        write_target_sheet(region=region, year=year, out=out)
        return _("%(region)s%(year)s年度参保任务数.xlsx") % {"region": region.name, "year": year}


class ProgressSheetView(_SheetView):
    """征缴情况表: each township's paid residents against the milestone in force."""

    def write(self, *, region: Region, year: int, day: datetime.date, out) -> str:
        report = progress_report(region=region, year=year, day=day)
        write_progress_sheet(report=report, out=out)
        shown = report.snapshot_day or day
        return _("%(region)s%(year)s年度征缴情况表（截至%(day)s）.xlsx") % {
            "region": region.name,
            "year": year,
            "day": f"{shown:%Y%m%d}",
        }
