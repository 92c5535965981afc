"""Reconciliation pages: a county's month as a table of townships, the "重新对账" button, the
discrepancy worklist with its export, one case with its three ledgers and its resolutions.

Thin: the rules live in reconciliation.services. Every page finds its county among the
counties the user works in and its cases through `Discrepancy.objects.visible_to`, so anything
else answers 404.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from enrollment.models import Resident
from pension.http import XLSX, attachment
from pension.models import ImportJob, Region
from pension.views import FilteredListMixin, ManageResidentsRequiredMixin, RegionScopedMixin
from reconciliation import selectors
from reconciliation.exporters import discrepancies_workbook, month_workbook
from reconciliation.filters import DiscrepancyFilter
from reconciliation.forms import MonthForm, ResolveForm, StatementUploadForm, parse_month
from reconciliation.models import Discrepancy, ReconciliationRun
from reconciliation.services.reconcile import (
    ReconciliationRefused,
    reconcile_may_run,
    reconcile_month_queue,
)
from reconciliation.services.resolutions import (
    ResolutionRefused,
    discrepancy_actions,
    discrepancy_resolve,
)
from reconciliation.services.statements import (
    JOB_KINDS,
    StatementRefused,
    statement_import_refusal,
    statement_job_create,
)

ITEMS_PER_PAGE = 50


def _month_query(county: Region, month: datetime.date) -> str:
    return "?" + urlencode({"county": county.code, "month": f"{month:%Y-%m}"})


class CountyMixin(LoginRequiredMixin):
    """The counties the user works in; any other county answers 404."""

    def counties(self):
        return selectors.reconciliation_counties(user=self.request.user)

    def get_county(self, code: str) -> Region:
        return get_object_or_404(self.counties(), code=code)


# --- the month ---------------------------------------------------------------------------------


class MonthView(CountyMixin, TemplateView):
    """The current run of a county's month: townships side by side, the open cases, the runs."""

    template_name = "reconciliation/month.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        counties = self.counties()
        code = self.request.GET.get("county", "").strip()
        county = self.get_county(code) if code else counties.first()
        form = MonthForm(self.request.GET or None)
        month = form.chosen_month(default=selectors.default_month(county=county))
        table = None
        can_run = False
        if county is not None:
            table = selectors.month_table(county=county, month=month, user=user)
            can_run = not reconcile_may_run(user=user, county=county)
        context.update(
            form=form,
            counties=list(counties),
            county=county,
            month=month,
            table=table,
            can_run=can_run,
            month_value=f"{month:%Y-%m}",
            nav_active="reconciliation",
        )
        return context


class MonthRunView(CountyMixin, View):
    """The county bureau's "重新对账" button: a run of the month for the worker, then the run's
    page, which follows it. Who may run one is the service's rule; anyone else is told why and
    nothing runs."""

    http_method_names = ["post"]

    def post(self, request):
        county = self.get_county(request.POST.get("county", "").strip())
        month = parse_month(request.POST.get("month", ""))
        back = reverse("reconciliation:month")
        if month is None:
            messages.error(request, _("请选择要对账的月份，格式如 2023-05"))
            return HttpResponseRedirect(back + "?" + urlencode({"county": county.code}))
        try:
            run = reconcile_month_queue(county=county, month=month, actor=request.user)
        except ReconciliationRefused as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(back + _month_query(county, month))
        return HttpResponseRedirect(reverse("reconciliation:run_detail", args=[run.pk]))


class RunDetailView(CountyMixin, DetailView):
    """One run while the worker does it (a progress bar, polled), then what it found and the
    way back to the month; runs of counties outside the user's answer 404."""

    template_name = "reconciliation/run.html"
    context_object_name = "run"

    def get_queryset(self):
        return ReconciliationRun.objects.filter(county__in=self.counties()).select_related(
            "county", "run_by"
        )

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["reconciliation/_run_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        summary = run.summary or {}
        context.update(
            found=sum((summary.get("categories") or {}).values()),
            month_url=reverse("reconciliation:month") + _month_query(run.county, run.month),
            nav_active="reconciliation",
        )
        return context


class MonthSheetView(CountyMixin, View):
    """The month table as a workbook: the same rows the page shows the user."""

    def get(self, request, county_code: str, month: str):
        county = self.get_county(county_code)
        day = parse_month(month)
        if day is None:
            raise Http404(_("月份格式应为 2023-05"))
        table = selectors.month_table(county=county, month=day, user=request.user)
        response = HttpResponse(month_workbook(table=table), content_type=XLSX)
        filename = _("%(county)s%(year)s年%(month)s月对账表.xlsx") % {
            "county": county.name,
            "year": f"{day:%Y}",
            "month": f"{day:%m}",
        }
        response["Content-Disposition"] = attachment(filename)
        return response


# --- the worklist ------------------------------------------------------------------------------


class DiscrepancyMixin(RegionScopedMixin):
    model = Discrepancy

    def get_queryset(self):
        return selectors.discrepancy_list(user=self.request.user)

    def get_filter(self) -> DiscrepancyFilter:
        return DiscrepancyFilter.for_worklist(
            self.request.GET,
            selectors.discrepancy_list(user=self.request.user),
            request=self.request,
        )


class DiscrepancyListView(FilteredListMixin, DiscrepancyMixin, ListView):
    template_name = "reconciliation/discrepancy_list.html"
    context_object_name = "discrepancies"
    paginate_by = ITEMS_PER_PAGE

    def get_filterset(self) -> DiscrepancyFilter:
        return self.get_filter()

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav_active="reconciliation", **kwargs)


class DiscrepancyExportView(DiscrepancyMixin, View):
    def get(self, request):
        content = discrepancies_workbook(discrepancies=self.get_filter().qs)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = attachment(
            _("对账差异清单-%(date)s.xlsx") % {"date": f"{timezone.localdate():%Y-%m-%d}"}
        )
        return response


class DiscrepancyDetailView(DiscrepancyMixin, DetailView):
    """One case: what each ledger holds for it, its history, and the resolutions that fit."""

    template_name = "reconciliation/discrepancy_detail.html"
    context_object_name = "discrepancy"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "county", "tax_line", "bank_line", "payment", "synced_record", "first_run",
                "last_run", "resolution_payment",
            )
        )  # fmt: skip

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        discrepancy = self.object
        actions = discrepancy_actions(discrepancy=discrepancy, user=self.request.user)
        context.update(
            ledgers=selectors.discrepancy_ledgers(discrepancy=discrepancy),
            history=selectors.discrepancy_history(discrepancy=discrepancy),
            actions=actions,
            action_labels=[(a, Discrepancy.Resolution(a).label) for a in actions],
            nav_active="reconciliation",
        )
        return context


class DiscrepancyResolveView(
    ManageResidentsRequiredMixin, DiscrepancyMixin, SingleObjectMixin, View
):
    """One resolution form posted; auditors, agents and the tax bureau get 403, a case outside
    the user's region 404."""

    http_method_names = ["post"]

    def post(self, request, pk: int):
        discrepancy = self.get_object()
        form = ResolveForm(request.POST, residents=Resident.objects.visible_to(request.user))
        if not form.is_valid():
            messages.error(request, form.error_text())
        else:
            data = form.cleaned_data
            try:
                resolved = discrepancy_resolve(
                    discrepancy=discrepancy,
                    resolution=data["resolution"],
                    actor=request.user,
                    note=data["note"],
                    resident=data["id_number"],
                    refund_voucher_no=data["refund_voucher_no"],
                )
            except ResolutionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _done_message(resolved))
        return HttpResponseRedirect(
            reverse("reconciliation:discrepancy_detail", args=[discrepancy.pk])
        )


def _done_message(discrepancy: Discrepancy) -> str:
    payment = discrepancy.resolution_payment
    if discrepancy.resolution in (Discrepancy.Resolution.POSTED, Discrepancy.Resolution.LINKED):
        return _("已补记入账：电子税票 %(voucher)s，%(amount)s 元记入%(name)s %(year)s 年度") % {
            "voucher": payment.voucher_no,
            "amount": payment.amount,
            "name": payment.resident.name,
            "year": payment.contribution_year,
        }
    if discrepancy.resolution == Discrepancy.Resolution.REFUNDED:
        if payment is not None:
            return _("已退费：凭证号 %(voucher)s 的缴费已冲正（退费凭证号 %(refund)s）") % {
                "voucher": payment.reverses.voucher_no,
                "refund": payment.voucher_no,
            }
        return _("已记录退费处理意见")
    return _("已说明确认")


# --- statement uploads -------------------------------------------------------------------------


class StatementUploadView(CountyMixin, FormView):
    """The county bureau uploads a month's tax collection detail or bank flow; the import runs
    as a task and its page shows the progress and the rejected rows. Users who may import for
    no county (the service's rule) get 404."""

    template_name = "enrollment/upload.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.importable_counties():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def importable_counties(self) -> list[Region]:
        user = self.request.user
        return [
            county
            for county in self.counties()
            if not statement_import_refusal(user=user, county=county)
        ]

    def get_form_class(self):
        return StatementUploadForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "counties": self.importable_counties()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=_("导入对账单（税务征收明细、银行流水）"),
            submit_label=_("上传并导入"),
            recent_label=_("最近导入的对账单"),
            recent=ImportJob.objects.visible_to(self.request.user)
            .filter(kind__in=list(JOB_KINDS.values()))
            .select_related("region", "created_by")[:10],
            nav_active="reconciliation",
        )
        return context

    def form_valid(self, form):
        try:
            job = statement_job_create(
                source=form.cleaned_data["source"],
                county=form.cleaned_data["county"],
                month=form.cleaned_data["month"],
                upload=form.cleaned_data["file"],
                actor=self.request.user,
                strict=form.cleaned_data["strict"],
            )
        except StatementRefused as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        return redirect("import_job", pk=job.pk)
