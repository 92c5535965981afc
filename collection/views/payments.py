"""缴费记录: the payments of the user's region, filtered and sorted, exported by the worker.
Thin: the rows are collection.selectors.payment_list, narrowed by collection.filters."""

from __future__ import annotations

from django.views.generic import ListView

from collection.filters import PaymentFilter
from collection.models import Payment
from collection.selectors import payment_list
from pension.views import RegionScopedMixin


class PaymentListView(RegionScopedMixin, ListView):
    model = Payment
    template_name = "collection/payments/payment_list.html"
    context_object_name = "payments"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = PaymentFilter(
            self.request.GET or None, queryset=payment_list(user=self.request.user)
        )
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
            nav_active="payments",
        )
        return context
