"""Base views: region scope applied in one place."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView

from pension.dashboard import (
    DASHBOARD_LEVELS,
    FIRST_YEAR,
    DashboardRequest,
    campaign_year,
    dashboard_render,
)
from pension.exporters import rejections_workbook
from pension.exports import ExportRefused, export_job_create
from pension.http import XLSX, attachment
from pension.imports import progress_of
from pension.models import ExportJob, ImportJob, Region


class ManageResidentsRequiredMixin(LoginRequiredMixin):
    """Writes about people are for county and township staff; auditors and others get 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_manage_residents:
            raise PermissionDenied(_("您的岗位无权执行此操作"))
        return super().dispatch(request, *args, **kwargs)


class RegionScopedMixin(LoginRequiredMixin):
    """Limits a view's rows to the user's region; an object outside it answers 404.

    Every list, detail, export and download view inherits this instead of filtering by hand.
    """

    model = None

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)


class CountyScopedMixin(RegionScopedMixin):
    """Work done per county (proxy batches, revisit samples): the counties the user sees. A
    township user or an agent sees no county, so their lists are empty and an object is 404."""

    def counties(self):
        return Region.objects.visible_to(self.request.user).filter(level=Region.Level.COUNTY)


class FilteredListMixin:
    """A list page narrowed and ordered by its FilterSet (the one its export uses too): the
    filtered rows, and for the template the filter, the sort asked for, the query string
    without the page (for the pager and the export) and without the sort (for the column
    headers' sort links). Put it before RegionScopedMixin: its base queryset applies the
    region itself."""

    filterset_class = None

    def base_queryset(self):
        raise NotImplementedError

    def get_filterset(self):
        return self.filterset_class(self.request.GET or None, queryset=self.base_queryset())

    def get_queryset(self):
        self.filterset = self.get_filterset()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        unsorted = query.copy()
        unsorted.pop("sort", None)
        context.update(
            filter=self.filterset,
            sort=self.request.GET.get("sort", ""),
            query=query.urlencode(),
            unsorted=unsorted.urlencode(),
        )
        return context


class ImportJobDetailView(RegionScopedMixin, DetailView):
    """An import's progress while it runs, then its summary and the rejected rows."""

    model = ImportJob
    template_name = "pension/import_job.html"
    context_object_name = "job"

    def get_queryset(self):
        return super().get_queryset().select_related("region", "created_by")

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["pension/_import_job_status.html"]
        return [self.template_name]

    def get_object(self, queryset=None):
        job = super().get_object(queryset)
        if job.status == ImportJob.Status.RUNNING:
            job.progress, job.stage = progress_of(job.pk) or (job.progress, job.stage)
        return job

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rejections"] = self.object.rejections.all()[:50]
        summary = self.object.summary or {}
        context["counts"] = [
            (label, summary.get(key, 0)) for key, label in summary.get("count_labels", {}).items()
        ]
        return context


class ImportJobRejectionsView(RegionScopedMixin, DetailView):
    """The rejected rows of an import as a workbook, to correct and upload again."""

    model = ImportJob

    def get(self, request, *args, **kwargs):
        job = self.get_object()
        content = rejections_workbook(job=job)
        response = HttpResponse(content, content_type=XLSX)
        # Translators: the file name of an import's rejected rows, before the file's own name.
        name = _("错误行-%(filename)s") % {"filename": job.filename}
        response["Content-Disposition"] = attachment(f"{name}.xlsx")
        return response


# --- the dashboard -------------------------------------------------------------------------


def dashboard_period(
    value: str | None, region: Region, today: datetime.date | None = None
) -> tuple[int, datetime.date]:
    """(year, day) the dashboard shows: the asked year if it is a sensible one, else the
    region's default (this year's campaign, or the latest); today, or the last day of a past
    year."""
    today = today or timezone.localdate()
    year = campaign_year(value, region, today.year)
    return year, min(today, datetime.date(year, 12, 31))


class DashboardRegionsMixin(RegionScopedMixin):
    """The counties and townships the user sees; any other region answers 404."""

    model = Region

    def get_queryset(self):
        return super().get_queryset().filter(level__in=DASHBOARD_LEVELS)


class DashboardHomeView(DashboardRegionsMixin, TemplateView):
    """The navigation entry: the dashboard of the user's county, or of their township."""

    template_name = "pension/dashboard.html"

    def get(self, request, *args, **kwargs):
        region = self.get_queryset().order_by("code").first()
        if region is None:
            return self.render_to_response({"region": None})
        url = reverse("dashboard", args=[region.code])
        return HttpResponseRedirect(url + ("?" + request.GET.urlencode() if request.GET else ""))


class DashboardView(DashboardRegionsMixin, TemplateView):
    """A county's or a township's campaign on one page, tile by tile (pension.dashboard)."""

    template_name = "pension/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        region = get_object_or_404(
            self.get_queryset().select_related("parent"), code=self.kwargs["region_code"]
        )
        year, day = dashboard_period(self.request.GET.get("year"), region)
        request = DashboardRequest(region=region, year=year, day=day)
        parent = region.parent if region.level == Region.Level.TOWNSHIP else None
        if parent is not None and not self.request.user.can_see_region(parent.code):
            parent = None
        tiles = dashboard_render(request)
        context.update(
            region=region,
            parent=parent,
            year=year,
            day=day,
            years=range(timezone.localdate().year + 1, FIRST_YEAR - 1, -1),
            tiles=tiles,
            tiles_by_key=[(tile.key, tile_context) for tile, tile_context in tiles],
            nav_active="dashboard",
        )
        return context


# --- exports run by a worker ---------------------------------------------------------------


class ExportJobCreateView(LoginRequiredMixin, View):
    """A list page's "export" button: the list's kind and the page's query string."""

    def post(self, request):
        params = dict(QueryDict(request.POST.get("query", "")).items())
        try:
            job = export_job_create(kind=request.POST.get("kind", ""), user=request.user,
                                    params=params)  # fmt: skip
        except ExportRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("enrollment:home"))
        return HttpResponseRedirect(reverse("export_job", args=[job.pk]))


class ExportJobDetailView(LoginRequiredMixin, DetailView):
    """An export's progress while it runs, then its file; only its requester sees it."""

    template_name = "pension/export_job.html"
    context_object_name = "job"

    def get_queryset(self):
        return ExportJob.objects.visible_to(self.request.user)

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["pension/_export_job_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["retention_days"] = settings.EXPORT_RETENTION_DAYS
        return context


class ExportJobDownloadView(ExportJobDetailView):
    def get(self, request, *args, **kwargs):
        job = self.get_object()
        if job.status != ExportJob.Status.DONE or not job.file:
            raise Http404(_("文件尚未生成"))
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename)


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a login it refuses: how many tries, and how long to wait."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "lockout_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
