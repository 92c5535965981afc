"""Base views: region scope applied in one place."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.views.generic import DetailView

from pension.exporters import rejections_workbook
from pension.http import XLSX, attachment
from pension.imports import progress_of
from pension.models import ImportJob


class ManageResidentsRequiredMixin(LoginRequiredMixin):
    """Writes about people are for county and township staff; auditors and others get 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.can_manage_residents:
            raise PermissionDenied("您的岗位无权执行此操作")
        return super().dispatch(request, *args, **kwargs)


class RegionScopedMixin(LoginRequiredMixin):
    """Limits a view's rows to the user's region; an object outside it answers 404.

    Every list, detail, export and download view inherits this instead of filtering by hand.
    """

    model = None

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)


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
        response["Content-Disposition"] = attachment(f"错误行-{job.filename}.xlsx")
        return response
