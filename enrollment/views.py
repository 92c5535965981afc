from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from enrollment import selectors
from enrollment.exporters import findings_workbook
from enrollment.filters import FindingFilter, ResidentFilter
from enrollment.forms import (
    DepartmentUploadForm,
    FindingResolveForm,
    NoteForm,
    RegistryUploadForm,
    SealForm,
)
from enrollment.models import Finding, Resident
from enrollment.panels import resident_panels
from enrollment.services.findings import (
    FindingError,
    findings_resolve,
    resident_cancel,
    resident_seal,
    resident_unseal,
)
from enrollment.services.jobs import import_job_create
from pension.http import XLSX, attachment
from pension.models import ImportJob
from pension.selectors import user_regions
from pension.views import FilteredListMixin, ManageResidentsRequiredMixin, RegionScopedMixin


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "enrollment/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.resident_status_counts(user=self.request.user)
        context.update(
            regions=user_regions(user=self.request.user),
            status_counts=counts,
            resident_total=sum(n for _, _, n in counts),
        )
        return context


class ResidentListView(FilteredListMixin, RegionScopedMixin, ListView):
    model = Resident
    template_name = "enrollment/resident_list.html"
    context_object_name = "residents"
    paginate_by = 50
    filterset_class = ResidentFilter

    def base_queryset(self):
        return selectors.resident_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            q=self.request.GET.get("q", ""),
            status=self.request.GET.get("status", ""),
            status_choices=Resident.Status.choices,
        )
        return context


class ResidentDetailView(RegionScopedMixin, DetailView):
    model = Resident
    template_name = "enrollment/resident_detail.html"
    context_object_name = "resident"
    slug_field = "id_number"
    slug_url_kwarg = "id_number"

    def get_queryset(self):
        return super().get_queryset().select_related("village__parent", "group")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        resident = self.object
        context.update(
            age=resident.age_on(timezone.localdate()),
            findings=selectors.resident_findings(resident=resident),
            seal_form=SealForm(),
            can_manage=self.request.user.can_manage_residents,
            memberships=selectors.resident_memberships(resident=resident),
            history=selectors.resident_history(resident=resident),
            panels=[
                (panel, panel.context(resident=resident, user=self.request.user))
                for panel in resident_panels()
            ],
        )
        return context


# --- imports -----------------------------------------------------------------------------


class _UploadView(ManageResidentsRequiredMixin, FormView):
    template_name = "enrollment/upload.html"
    kind: str = ""
    title: str = ""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.title,
            recent=ImportJob.objects.visible_to(self.request.user)
            .filter(kind=self.kind)
            .select_related("region", "created_by")[:10],
        )
        return context

    def params(self, form) -> dict:
        return {"strict": form.cleaned_data["strict"]}

    def form_valid(self, form):
        job = import_job_create(
            kind=self.kind,
            region=form.cleaned_data["region"],
            upload=form.cleaned_data["file"],
            params=self.params(form),
            actor=self.request.user,
            dry_run=form.cleaned_data["dry_run"],
        )
        return redirect("import_job", pk=job.pk)


class RegistryUploadView(_UploadView):
    form_class = RegistryUploadForm
    kind = ImportJob.Kind.REGISTRY
    title = gettext_lazy("公安户籍数据比对")

    def params(self, form) -> dict:
        return {**super().params(form), "as_of": form.cleaned_data["as_of"].isoformat()}


class DepartmentUploadView(_UploadView):
    form_class = DepartmentUploadForm
    kind = ImportJob.Kind.DEPARTMENT
    title = gettext_lazy("部门名单比对")

    def params(self, form) -> dict:
        return {
            **super().params(form),
            "category": form.cleaned_data["category"],
            "list_date": form.cleaned_data["list_date"].isoformat(),
        }


# --- findings ----------------------------------------------------------------------------


class FindingListView(FilteredListMixin, RegionScopedMixin, ListView):
    model = Finding
    template_name = "enrollment/finding_list.html"
    context_object_name = "findings"
    paginate_by = 50

    def get_filterset(self) -> FindingFilter:
        return FindingFilter.for_worklist(
            self.request.GET, selectors.finding_list(user=self.request.user), request=self.request
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            counts=selectors.open_finding_counts(user=self.request.user),
            can_resolve=self.request.user.can_manage_residents,
            **kwargs,
        )


class FindingResolveView(ManageResidentsRequiredMixin, View):
    def post(self, request):
        visible = Finding.objects.visible_to(request.user)
        form = FindingResolveForm(request.POST, findings=visible)
        if not form.is_valid():
            messages.error(request, _("请勾选疑点并填写处理意见"))
        else:
            closed = findings_resolve(
                findings=visible.filter(pk__in=[f.pk for f in form.cleaned_data["ids"]]),
                note=form.cleaned_data["note"],
                actor=request.user,
            )
            messages.success(
                request,
                ngettext("已处理 %(n)s 条疑点", "已处理 %(n)s 条疑点", closed) % {"n": closed},
            )
        return redirect(request.POST.get("next") or reverse("enrollment:finding_list"))


class FindingExportView(RegionScopedMixin, View):
    model = Finding

    def get(self, request):
        filterset = FindingFilter.for_worklist(
            request.GET, selectors.finding_list(user=request.user), request=request
        )
        content = findings_workbook(findings=filterset.qs)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = attachment(
            _("疑点清单-%(date)s.xlsx") % {"date": timezone.localdate()}
        )
        return response


# --- resident actions --------------------------------------------------------------------


class _ResidentActionView(ManageResidentsRequiredMixin, RegionScopedMixin, SingleObjectMixin, View):
    model = Resident
    slug_field = "id_number"
    slug_url_kwarg = "id_number"
    form_class = NoteForm

    def post(self, request, *args, **kwargs):
        resident = self.get_object()
        form = self.form_class(request.POST)
        if not form.is_valid():
            separator = pgettext("list separator", "；")
            messages.error(
                request, separator.join(e for errs in form.errors.values() for e in errs)
            )
        else:
            try:
                self.act(resident, form.cleaned_data)
            except FindingError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, self.done_message)
        return redirect("enrollment:resident_detail", id_number=resident.id_number)


class ResidentSealView(_ResidentActionView):
    form_class = SealForm
    done_message = gettext_lazy("已封存，该人员不再计入征缴进度")

    def act(self, resident, data):
        resident_seal(
            resident=resident, reason=data["reason"], note=data["note"], actor=self.request.user
        )


class ResidentUnsealView(_ResidentActionView):
    done_message = gettext_lazy("已解除封存")

    def act(self, resident, data):
        resident_unseal(resident=resident, note=data["note"], actor=self.request.user)


class ResidentCancelView(_ResidentActionView):
    done_message = gettext_lazy("已注销")

    def act(self, resident, data):
        resident_cancel(resident=resident, note=data["note"], actor=self.request.user)


# --- benefits ----------------------------------------------------------------------------


class BenefitsDueView(RegionScopedMixin, ListView):
    model = Resident
    template_name = "enrollment/benefits_due.html"
    context_object_name = "residents"
    paginate_by = 50

    def get_queryset(self):
        return selectors.benefits_due(user=self.request.user, on=timezone.localdate())
