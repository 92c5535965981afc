"""缴费记录: the payments of the user's region, filtered and sorted, exported by the worker.
Thin: the rows are collection.selectors.payment_list, narrowed by collection.filters."""

from __future__ import annotations

from django.views.generic import ListView

from collection.filters import PaymentFilter
from collection.models import Payment
from collection.selectors import payment_list
from pension.pagination import CappedPaginator
from pension.views import FilteredListMixin, RegionScopedMixin


class PaymentListView(FilteredListMixin, RegionScopedMixin, ListView):
    model = Payment
    template_name = "collection/payments/payment_list.html"
    context_object_name = "payments"
    paginate_by = 50
    paginator_class = CappedPaginator  # a county's payments grow by a million a year
    filterset_class = PaymentFilter

    def base_queryset(self):
        return payment_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav_active="payments", **kwargs)
