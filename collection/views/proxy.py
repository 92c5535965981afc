"""Proxy-payment batches: the county's list, one batch with its residents, approval, posting
and the receipt sheets. Thin: the rules live in collection.services.proxy."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from collection.exporters.proxy import write_proxy_receipts
from collection.models import ProxyBatch, ProxyGeneration
from collection.services.proxy import (
    ProxyBatchRefused,
    ProxyBatchResult,
    proxy_batch_approve,
    proxy_batch_may_act,
    proxy_batch_may_generate,
    proxy_batch_post_queue,
    proxy_generation_queue,
)
from collection.services.schedules import schedule_years
from pension.dashboard import campaign_year
from pension.http import XLSX
from pension.models import User
from pension.views import CountyScopedMixin

ITEMS_PER_PAGE = 50


class ProxyBatchMixin(CountyScopedMixin):
    """Batches of the counties the user sees; township staff and agents see none."""

    model = ProxyBatch

    def get_queryset(self):
        return ProxyBatch.objects.filter(county__in=self.counties()).select_related(
            "county", "generated_by", "approved_by"
        )


class ProxyBatchListView(ProxyBatchMixin, ListView):
    template_name = "collection/proxy/batch_list.html"
    context_object_name = "batches"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        user, this_year = self.request.user, timezone.localdate().year
        generators = [
            {
                "county": county,
                "years": schedule_years(province_code=county.code[:2]),
                "year": campaign_year(None, county, this_year),
            }
            for county in self.counties()
            if proxy_batch_may_generate(actor=user, county=county)
        ]
        generations = ProxyGeneration.objects.filter(county__in=self.counties()).select_related(
            "county", "requested_by", "batch"
        )[:5]
        return super().get_context_data(generators=generators, generations=generations, **kwargs)


class ProxyGenerateView(ProxyBatchMixin, View):
    """生成代缴批次: the worker generates the county's batch, and its page follows it. A county
    outside the user's answers 404; a refusal is told on the list and nothing is on file."""

    http_method_names = ["post"]

    def post(self, request):
        county = get_object_or_404(self.counties(), code=request.POST.get("county", "").strip())
        year = request.POST.get("year", "").strip()
        if not year.isdigit():
            messages.error(request, _("请选择缴费年度"))
            return HttpResponseRedirect(reverse("collection:proxy_batch_list"))
        try:
            generation = proxy_generation_queue(county=county, year=int(year), actor=request.user)
        except ProxyBatchRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("collection:proxy_batch_list"))
        return HttpResponseRedirect(
            reverse("collection:proxy_generation_detail", args=[generation.pk])
        )


class ProxyGenerationDetailView(ProxyBatchMixin, DetailView):
    """One generation while the worker does it (a progress bar, polled), then what it found
    and the way to its batch."""

    template_name = "collection/proxy/generation.html"
    context_object_name = "generation"

    def get_queryset(self):
        return ProxyGeneration.objects.filter(county__in=self.counties()).select_related(
            "county", "requested_by", "batch"
        )

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["collection/proxy/_generation_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        outcome = self.object.summary.get("status", "")
        return super().get_context_data(
            outcome=ProxyBatchResult.STATUS_LABELS.get(outcome, ""), **kwargs
        )


class ProxyBatchDetailView(ProxyBatchMixin, DetailView):
    template_name = "collection/proxy/batch_detail.html"
    context_object_name = "batch"

    def get(self, request, *args, **kwargs):
        if request.headers.get("HX-Request"):
            # The page polls while the worker posts: once it is done, the whole page again.
            batch = self.get_object()
            if batch.status == ProxyBatch.Status.POSTING:
                return render(request, "collection/proxy/_posting.html", {"batch": batch})
            response = HttpResponse(status=200)
            response["HX-Refresh"] = "true"
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = self.object.items.select_related(
            "resident", "resident__village", "resident__group", "payment"
        ).order_by("resident__village_id", "resident__id_number")
        page = Paginator(items, ITEMS_PER_PAGE).get_page(self.request.GET.get("page"))
        user = self.request.user
        context.update(
            page_obj=page,
            items=page.object_list,
            can_act=proxy_batch_may_act(actor=user, batch=self.object),
        )
        return context


class _ProxyBatchActionView(ProxyBatchMixin, View):
    """A POST button: find the batch in scope (404 outside), call the service, go back."""

    def post(self, request, pk: int):
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            message = self.act(batch, request.user)
        except ProxyBatchRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(reverse("collection:proxy_batch_detail", args=[batch.pk]))

    def act(self, batch: ProxyBatch, user: User) -> str:
        raise NotImplementedError


class ProxyBatchApproveView(_ProxyBatchActionView):
    def act(self, batch: ProxyBatch, user: User) -> str:
        proxy_batch_approve(batch=batch, actor=user)
        return _("代缴批次 #%(pk)s 已审批，可以入账") % {"pk": batch.pk}


class ProxyBatchPostView(_ProxyBatchActionView):
    def act(self, batch: ProxyBatch, user: User) -> str:
        proxy_batch_post_queue(batch=batch, actor=user)
        return _("代缴批次 #%(pk)s 已提交入账，正在处理；完成后本页显示结果") % {"pk": batch.pk}


class ProxyReceiptDownloadView(ProxyBatchMixin, View):
    def get(self, request, pk: int):
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
        try:
            write_proxy_receipts(batch=batch, out=out)
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return FileResponse(
            out,
            as_attachment=True,
            filename=_("%(county)s%(year)s年度政府代缴佐证材料（批次%(pk)s）.xlsx")
            % {"county": batch.county.name, "year": batch.year, "pk": batch.pk},
            content_type=XLSX,
        )
