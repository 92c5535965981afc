"""Revisits (回访): the county's samples with the form to draw one, a sample's sheet to take on
the visit, and the outcome of each payer. Thin: the rules live in collection.services.revisits."""

from __future__ import annotations

import datetime
import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from collection.exporters.revisits import write_revisit_sheet
from collection.models import RevisitItem, RevisitSample
from collection.services.revisits import (
    MIN_PAYERS,
    MIN_TOWNSHIPS,
    RevisitRefused,
    revisit_record,
    revisit_refusal,
    revisit_sample_draw,
    revisit_sheet_rows,
)
from pension.http import XLSX, attachment
from pension.views import CountyScopedMixin


class RevisitMixin(CountyScopedMixin):
    """Samples of the counties the user sees; township staff and agents see none."""

    model = RevisitSample

    def get_queryset(self):
        return RevisitSample.objects.filter(county__in=self.counties()).select_related(
            "county", "drawn_by"
        )


class RevisitListView(RevisitMixin, ListView):
    template_name = "collection/revisits/sample_list.html"
    context_object_name = "samples"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        drawers = [
            county
            for county in self.counties()
            if not revisit_refusal(actor=self.request.user, county=county)
        ]
        return super().get_context_data(
            drawers=drawers, start=today.replace(day=1), end=today,
            townships=MIN_TOWNSHIPS, payers=MIN_PAYERS, **kwargs,
        )  # fmt: skip


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _number(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


class RevisitDrawView(RevisitMixin, View):
    """抽取回访对象: a county outside the user's answers 404; a refusal is told on the list and
    nothing is on file."""

    http_method_names = ["post"]

    def post(self, request):
        county = get_object_or_404(self.counties(), code=request.POST.get("county", "").strip())
        start, end = _date(request.POST.get("start", "")), _date(request.POST.get("end", ""))
        townships = _number(request.POST.get("townships", ""))
        payers = _number(request.POST.get("payers", ""))
        seed_text = request.POST.get("seed", "").strip()
        seed = _number(seed_text) if seed_text else None
        problem = ""
        if start is None or end is None:
            problem = _("请填写缴费起止日期（年-月-日）")
        elif townships is None or payers is None:
            problem = _("抽取乡镇数和每乡镇抽取人数应为整数")
        elif seed_text and seed is None:
            problem = _("随机种子应为不小于 0 的整数")
        if problem:
            messages.error(request, problem)
            return HttpResponseRedirect(reverse("collection:revisit_list"))
        try:
            sample = revisit_sample_draw(
                county=county, start=start, end=end, townships=townships, payers=payers,
                seed=seed, actor=request.user,
            )  # fmt: skip
        except RevisitRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("collection:revisit_list"))
        return HttpResponseRedirect(reverse("collection:revisit_detail", args=[sample.pk]))


class RevisitDetailView(RevisitMixin, DetailView):
    """The sheet to take on the visit (ID numbers masked) and the outcome of each payer."""

    template_name = "collection/revisits/sample_detail.html"
    context_object_name = "sample"

    def get_context_data(self, **kwargs):
        items = revisit_sheet_rows(sample=self.object)
        may_record = not revisit_refusal(actor=self.request.user, county=self.object.county)
        outcomes = [(v, label) for v, label in RevisitItem.Outcome.choices if v != "pending"]
        return super().get_context_data(
            items=items, may_record=may_record, outcomes=outcomes, **kwargs
        )


class RevisitSheetDownloadView(RevisitMixin, View):
    """The sample's sheet as a workbook (ID numbers masked), for whoever may read the sample:
    its county's bureau, tax bureau and auditors; anyone else gets 404."""

    def get(self, request, pk: int):
        sample = get_object_or_404(self.get_queryset(), pk=pk)
        out = io.BytesIO()  # at most 50 townships of 50 payers: small enough to hold
        write_revisit_sheet(sample=sample, out=out)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = attachment(
            _("%(county)s回访表（抽样%(pk)s，%(start)s至%(end)s）.xlsx")
            % {
                "county": sample.county.name,
                "pk": sample.pk,
                "start": f"{sample.period_start:%Y-%m-%d}",
                "end": f"{sample.period_end:%Y-%m-%d}",
            }
        )
        return response


class RevisitRecordView(RevisitMixin, View):
    """登记回访结果 for one payer of a sample the user sees (404 otherwise)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        item = get_object_or_404(
            RevisitItem.objects.select_related("sample__county").filter(
                sample__in=self.get_queryset()
            ),
            pk=pk,
        )
        try:
            revisit_record(
                item=item, outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""), actor=request.user,
            )  # fmt: skip
        except RevisitRefused as exc:
            messages.error(request, str(exc))
        url = reverse("collection:revisit_detail", args=[item.sample_id])
        return HttpResponseRedirect(f"{url}#item-{item.pk}")
