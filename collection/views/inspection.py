"""The inspection worksheet (检查工作底稿) download of a township or a village.

Thin: the checks live in collection.services.inspection, the sheets in
collection.exporters.inspection. Who may download: the county bureau, the tax bureau and the
auditors of the county (the joint inspections of the Cangyuan notice), and township staff for
their own township and its villages (self-inspection). A village agent is the one inspected:
refused by role (403) before anything is read, as ManageResidentsRequiredMixin refuses. A
region outside the user's, or a county or villager group, answers 404.
"""

from __future__ import annotations

import tempfile

from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import View

from collection.exporters.inspection import write_inspection_workbook
from collection.services.inspection import (
    INSPECTION_LEVELS,
    inspection_may_download,
    inspection_worksheet,
)
from collection.views.progress import PeriodForm
from pension.http import XLSX
from pension.models import Region
from pension.views import RegionScopedMixin


class InspectionSheetView(RegionScopedMixin, View):
    """检查工作底稿 of a township or village, for the year and day of the progress page.

    Written to a temporary file first: openpyxl's write-only mode needs a seekable target.
    """

    model = Region

    def get_queryset(self):
        return super().get_queryset().filter(level__in=INSPECTION_LEVELS)

    def get(self, request, region_code: str):
        if not inspection_may_download(request.user):
            raise PermissionDenied(_("您的岗位无权下载检查工作底稿"))
        region = get_object_or_404(self.get_queryset(), code=region_code)
        year, day = PeriodForm(request.GET or None).period()
        worksheet = inspection_worksheet(region=region, year=year, day=day)
        out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
        try:
            write_inspection_workbook(worksheet=worksheet, out=out)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        filename = _("%(unit)s%(year)s年度征缴检查工作底稿（截至%(day)s）.xlsx") % {
            "unit": worksheet.unit_name,
            "year": year,
            "day": f"{day:%Y%m%d}",
        }
        return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX)
