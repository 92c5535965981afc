"""The township counter: find a resident, record a payment, print the receipt."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, TemplateView

from collection.models import Payment
from collection.services import PaymentRejected, payment_record
from collection.services.schedules import schedule_years, tiers_open_to
from enrollment.models import Resident
from pension.dashboard import campaign_year
from pension.money import in_capitals
from pension.views import ManageResidentsRequiredMixin, RegionScopedMixin

COUNTER_CHANNELS = [
    (value, label)
    for value, label in Payment.Channel.choices
    if value not in (Payment.Channel.GOVERNMENT, Payment.Channel.AGENT_CASH)
]


class CounterPaymentForm(forms.Form):
    # Chosen above the form (the tiers are that year's), carried along unseen.
    year = forms.IntegerField(
        label=gettext_lazy("缴费年度"), min_value=2014, max_value=2100, widget=forms.HiddenInput
    )
    amount = forms.ChoiceField(label=gettext_lazy("缴费档次（元）"))
    kind = forms.ChoiceField(
        label=gettext_lazy("缴费类型"),
        choices=[
            (Payment.Kind.PERSONAL, gettext_lazy("个人缴费")),
            (Payment.Kind.BACK, gettext_lazy("补缴以前年度")),
        ],
    )
    channel = forms.ChoiceField(label=gettext_lazy("缴费渠道"), choices=COUNTER_CHANNELS)
    voucher_no = forms.CharField(label=gettext_lazy("凭证号"), max_length=40)

    def __init__(self, *args, tiers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].choices = [
            (f"{t.amount:.2f}", _("%(amount)s 元") % {"amount": f"{t.amount:.0f}"}) for t in tiers
        ]
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"


class CounterView(ManageResidentsRequiredMixin, RegionScopedMixin, TemplateView):
    """Search by ID number or name, then record a payment for the chosen resident."""

    model = Resident
    template_name = "collection/counter/counter.html"

    def _resident(self):
        pk = self.request.GET.get("resident") or self.request.POST.get("resident")
        if not pk:
            return None
        if not str(pk).isdigit():
            raise Http404(_("没有这个参保人"))
        return get_object_or_404(self.get_queryset(), pk=pk)

    def _years(self, resident) -> list[int]:
        return schedule_years(province_code=resident.village_id[:2])

    def _year(self, value, resident) -> int:
        """The year asked for when it is one, else this year if its schedule is entered, else
        the latest entered: the counter opens on tiers it can take."""
        return campaign_year(value, resident.village, timezone.localdate().year)

    def _tiers(self, resident, year):
        return tiers_open_to(resident=resident, year=year)

    def get_context_data(self, form=None, error="", **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()
        context["query"] = query
        context["matches"] = self.get_queryset().search(query)[:20] if query else []
        resident = self._resident()
        context["resident"] = resident
        if resident is not None:
            year = self._year(
                self.request.POST.get("year") or self.request.GET.get("year"), resident
            )
            if form is None:
                form = CounterPaymentForm(
                    tiers=self._tiers(resident, year),
                    initial={"year": year, "kind": Payment.Kind.PERSONAL},
                )
            context["form"] = form
            context["year"] = year
            context["years"] = sorted({year, *self._years(resident)}, reverse=True)
            context["payments"] = resident.payments.order_by("-paid_at")[:10]
        context["error"] = error
        return context

    def post(self, request, *args, **kwargs):
        resident = self._resident()
        if resident is None:
            return redirect("collection:counter")
        year = self._year(request.POST.get("year"), resident)
        form = CounterPaymentForm(request.POST, tiers=self._tiers(resident, year))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        try:
            payment, _created = payment_record(
                resident=resident,
                contribution_year=form.cleaned_data["year"],
                amount=form.cleaned_data["amount"],
                kind=form.cleaned_data["kind"],
                channel=form.cleaned_data["channel"],
                source=Payment.Source.COUNTER,
                voucher_no=form.cleaned_data["voucher_no"],
                recorded_by=request.user,
            )
        except PaymentRejected as exc:
            return self.render_to_response(self.get_context_data(form=form, error=str(exc)))
        return redirect("collection:receipt", pk=payment.pk)


class ReceiptView(RegionScopedMixin, DetailView):
    """A printable receipt: masked ID, amount in figures and in capitals, tier, year, channel,
    voucher, operator and date."""

    model = Payment
    template_name = "collection/counter/receipt.html"
    context_object_name = "payment"

    def get_queryset(self):
        return super().get_queryset().select_related("resident", "recorded_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["capitals"] = in_capitals(self.object.amount)
        return context
