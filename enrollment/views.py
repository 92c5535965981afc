from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils import timezone
from django.views.generic import DetailView, ListView, TemplateView

from enrollment import selectors
from enrollment.models import Resident
from enrollment.panels import resident_panels
from pension.selectors import user_regions
from pension.views import RegionScopedMixin


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


class ResidentListView(RegionScopedMixin, ListView):
    model = Resident
    template_name = "enrollment/resident_list.html"
    context_object_name = "residents"
    paginate_by = 50

    def get_queryset(self):
        return selectors.resident_search(
            user=self.request.user,
            text=self.request.GET.get("q", ""),
            status=self.request.GET.get("status", ""),
        )

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
            memberships=selectors.resident_memberships(resident=resident),
            history=selectors.resident_history(resident=resident),
            panels=[
                (panel, panel.context(resident=resident, user=self.request.user))
                for panel in resident_panels()
            ],
        )
        return context
