"""Public notices: the status of the user's villages, one group's printable page and workbook,
and the POST that marks notices generated. Reading a notice writes nothing; only the POST does
(with CSRF), through the same service and role rule as the `generate_notices` command."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from collection.exporters.notices import GroupNotice, group_notice, write_notices
from collection.models import Notice
from collection.services.notices import (
    NoticeForbidden,
    NoticeRejected,
    notice_may_generate,
    notice_role_may_generate,
    notice_rows,
    notice_status,
    notices_generate,
)
from pension.http import XLSX
from pension.models import Region
from pension.views import RegionScopedMixin


class NoticeStatusView(RegionScopedMixin, TemplateView):
    """Per village of the user's region: which group notices are pending, posted or overdue."""

    model = Region
    template_name = "collection/notices/status.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        user = self.request.user
        context.update(
            villages=notice_status(day=today, user=user),
            today=today,
            can_generate=notice_role_may_generate(user),
        )
        return context


class GroupNoticeMixin(RegionScopedMixin):
    """One group's notice of one period, read only; a group outside the user's region, a wrong
    kind or a wrong period answers 404."""

    model = Region

    def group(self, group_code: str) -> Region:
        return get_object_or_404(
            self.get_queryset().select_related("parent"),
            code=group_code,
            level=Region.Level.GROUP,
        )

    def notice(self, group: Region, kind: str, period: str) -> GroupNotice:
        if kind not in Notice.Kind.values:
            raise Http404(_("没有该类型的公示"))
        try:
            rows = notice_rows(group=group, kind=kind, period=period)
        except NoticeRejected as exc:
            raise Http404(str(exc)) from None
        return group_notice(group=group, kind=kind, period=period, rows=rows)


class NoticePrintView(GroupNoticeMixin, TemplateView):
    template_name = "collection/notices/print.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        group = self.group(kwargs["group_code"])
        kind, period = kwargs["kind"], kwargs["period"]
        context["notice"] = self.notice(group, kind, period)
        context["state"] = (
            Notice.objects.filter(group=group, kind=kind, period=period)
            .select_related("generated_by")
            .first()
        )
        context["can_generate"] = notice_may_generate(user=self.request.user, region=group)
        context["group"] = group
        return context


class NoticeDownloadView(GroupNoticeMixin, View):
    def get(self, request, group_code: str, kind: str, period: str):
        notice = self.notice(self.group(group_code), kind, period)
        out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
        try:
            write_notices(notices=[notice], out=out)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return FileResponse(
            out,
            as_attachment=True,
            filename=f"{notice.village}{notice.group}_{notice.kind_label}_{period}.xlsx",
            content_type=XLSX,
        )


class NoticeGenerateView(RegionScopedMixin, View):
    """POST: mark the notice of one group, or of every group of a village, generated. A region
    outside the user's scope answers 404, a role that may only read 403."""

    model = Region
    http_method_names = ["post"]

    def post(self, request, region_code: str, kind: str, period: str):
        region = get_object_or_404(
            self.get_queryset(),
            code=region_code,
            level__in=(Region.Level.VILLAGE, Region.Level.GROUP),
        )
        if kind not in Notice.Kind.values:
            raise Http404(_("没有该类型的公示"))
        try:
            result = notices_generate(region=region, kind=kind, period=period, actor=request.user)
        except NoticeForbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except NoticeRejected as exc:
            raise Http404(str(exc)) from None
        label = Notice.Kind(kind).label
        message = ngettext(
            "已生成 %(region)s %(period)s %(kind)s：%(groups)s 个村民小组，%(rows)s 人次",
            "已生成 %(region)s %(period)s %(kind)s：%(groups)s 个村民小组，%(rows)s 人次",
            result.groups,
        )
        values = {
            "region": region.name,
            "period": result.period,
            "kind": label,
            "groups": result.groups,
            "rows": result.rows,
        }
        messages.success(request, message % values)
        if region.level == Region.Level.GROUP:
            return HttpResponseRedirect(
                reverse("collection:notice_print", args=[region.code, kind, result.period])
            )
        return HttpResponseRedirect(reverse("collection:notice_status"))
