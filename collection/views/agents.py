"""Village agents' pages: an agent's own cash page with its two forms, the region's agents and
their 双限 breaches, and the 代办情况登记表 download. Agents come from `agents_visible_to`, so
another agent or an agent outside the user's region answers 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View

from collection.exporters.agents import agent_register_workbook
from collection.models import CashReceipt
from collection.selectors import unpaid_counts
from collection.services.agents import (
    AgentCashRejected,
    agent_breach_history,
    agent_cash_position,
    agent_may_record,
    agent_receipts,
    agent_villages,
    agents_cash_overview,
    agents_in_region_ids,
    agents_visible_to,
    cash_receipt_record,
    remittance_record,
)
from enrollment.models import Resident
from pension.dashboard import dashboard_default_year
from pension.http import XLSX, attachment
from pension.idnumber import normalise
from pension.models import Region, User

REGISTER_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE)
RECEIPTS_SHOWN = 200


class AgentsScopedMixin(LoginRequiredMixin):
    def agents(self):
        return agents_visible_to(self.request.user)


# --- forms -------------------------------------------------------------------------------------


class CashReceiptForm(forms.Form):
    id_number = forms.CharField(
        label=gettext_lazy("公民身份号码"),
        max_length=20,
        error_messages={"required": gettext_lazy("请输入公民身份号码")},
    )
    contribution_year = forms.IntegerField(
        label=gettext_lazy("缴费年度"),
        min_value=2009,
        error_messages={
            "required": gettext_lazy("请输入缴费年度"),
            "invalid": gettext_lazy("请输入年份，如 2023"),
        },
    )
    amount = forms.CharField(
        label=gettext_lazy("金额（元）"),
        max_length=20,
        error_messages={"required": gettext_lazy("请输入金额")},
    )
    collected_on = forms.DateField(
        label=gettext_lazy("收款日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": gettext_lazy("请输入收款日期"),
            "invalid": gettext_lazy("日期格式应为 2023-05-10"),
        },
    )
    receipt_no = forms.CharField(
        label=gettext_lazy("收据号"),
        max_length=40,
        error_messages={"required": gettext_lazy("请输入收据号")},
    )

    def __init__(self, *args, agent: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.agent = agent

    def clean_id_number(self) -> Resident:
        number = normalise(self.cleaned_data["id_number"])
        resident = Resident.objects.visible_to(self.agent).filter(id_number=number).first()
        if resident is None:
            raise forms.ValidationError(_("在您负责的村中没有该公民身份号码的参保人"))
        return resident


class RemittanceForm(forms.Form):
    receipts = forms.ModelMultipleChoiceField(
        label=gettext_lazy("缴销的收据"),
        queryset=CashReceipt.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("请选择本次缴销的收据"),
            "invalid_choice": gettext_lazy("所选收据不存在或已缴销"),
            "invalid_pk_value": gettext_lazy("所选收据不存在或已缴销"),
        },
    )
    amount = forms.CharField(
        label=gettext_lazy("缴销金额（元）"),
        max_length=20,
        error_messages={"required": gettext_lazy("请输入缴销金额")},
    )
    remitted_on = forms.DateField(
        label=gettext_lazy("缴销日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": gettext_lazy("请输入缴销日期"),
            "invalid": gettext_lazy("日期格式应为 2023-05-10"),
        },
    )
    bank_voucher = forms.CharField(
        label=gettext_lazy("银行凭证号"),
        max_length=40,
        error_messages={"required": gettext_lazy("请输入银行凭证号")},
    )

    def __init__(self, *args, agent: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["receipts"].queryset = (
            CashReceipt.objects.filter(agent=agent).unremitted().select_related("resident")
        )
        self.fields["receipts"].label_from_instance = lambda r: (
            _("%(receipt_no)s %(name)s %(amount)s 元 %(collected_on)s")
            % {
                "receipt_no": r.receipt_no,
                "name": r.resident.name,
                "amount": r.amount,
                "collected_on": f"{r.collected_on:%m-%d}",
            }
        )


# --- pages -------------------------------------------------------------------------------------


class AgentListView(AgentsScopedMixin, TemplateView):
    """The region's agents with the cash they hold, and those over a 双限 limit today by the
    same rule as the daily check; an agent is sent to their own page."""

    template_name = "collection/agents/agent_list.html"

    def get(self, request, *args, **kwargs):
        if request.user.role == User.Role.AGENT:
            return HttpResponseRedirect(reverse("collection:agent_detail", args=[request.user.pk]))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        rows = agents_cash_overview(agents=self.agents(), day=today)
        context["agents"] = rows
        context["breaches"] = [row for row in rows if row.position.in_breach]
        context["today"] = today
        context["register_region"] = self.request.user.region
        return context


class AgentDetailView(AgentsScopedMixin, TemplateView):
    """One agent's villages, cash on hand, days left and receipts; the agent records receipts
    and remittances here, staff only look."""

    template_name = "collection/agents/agent_detail.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.agent = get_object_or_404(self.agents(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    @property
    def can_record(self) -> bool:
        return agent_may_record(user=self.request.user, agent=self.agent)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        if not self.can_record:
            raise PermissionDenied(_("只有协办员本人可以登记代收和缴销"))
        action = request.POST.get("action")
        if action == "receipt":
            form = CashReceiptForm(request.POST, agent=self.agent)
            if form.is_valid():
                return self._record_receipt(form)
            return self.render_to_response(self.get_context_data(receipt_form=form), status=400)
        if action == "remittance":
            form = RemittanceForm(request.POST, agent=self.agent)
            if form.is_valid():
                return self._record_remittance(form)
            return self.render_to_response(self.get_context_data(remittance_form=form), status=400)
        return HttpResponse(_("未知操作"), status=400)

    def _record_receipt(self, form: CashReceiptForm):
        data = form.cleaned_data
        try:
            receipt, created = cash_receipt_record(
                agent=self.agent,
                resident=data["id_number"],
                contribution_year=data["contribution_year"],
                amount=data["amount"],
                collected_on=data["collected_on"],
                receipt_no=data["receipt_no"],
                recorded_by=self.request.user,
            )
        except AgentCashRejected as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(receipt_form=form), status=400)
        if created:
            message = _("收据 %(receipt_no)s（%(amount)s 元）已登记")
        else:
            message = _("收据 %(receipt_no)s（%(amount)s 元）此前已登记")
        messages.success(
            self.request, message % {"receipt_no": receipt.receipt_no, "amount": receipt.amount}
        )
        return HttpResponseRedirect(self.request.path)

    def _record_remittance(self, form: RemittanceForm):
        data = form.cleaned_data
        try:
            remittance, created = remittance_record(
                agent=self.agent,
                amount=data["amount"],
                remitted_on=data["remitted_on"],
                bank_voucher=data["bank_voucher"],
                receipts=list(data["receipts"]),
                recorded_by=self.request.user,
            )
        except AgentCashRejected as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(remittance_form=form), status=400)
        if created:
            message = _("缴销 %(bank_voucher)s（%(amount)s 元）已登记")
        else:
            message = _("缴销 %(bank_voucher)s（%(amount)s 元）此前已登记")
        messages.success(
            self.request,
            message % {"bank_voucher": remittance.bank_voucher, "amount": remittance.amount},
        )
        return HttpResponseRedirect(self.request.path)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agent = self.agent
        context["agent"] = agent
        villages = list(agent_villages(agent=agent))
        context["villages"] = villages
        today = timezone.localdate()
        # The campaign's year: this one, or the latest whose schedule is entered.
        year = dashboard_default_year(villages[0], today.year) if villages else today.year
        if villages:
            # 催缴: each village's residents not paid for this campaign yet, to call on.
            counts = unpaid_counts(region_codes=[v.code for v in villages], year=year)
            context["unpaid_year"] = year
            context["unpaid"] = [(village, counts.get(village.code, 0)) for village in villages]
        context["position"] = agent_cash_position(agent=agent)
        context["receipts"] = agent_receipts(agent=agent, limit=RECEIPTS_SHOWN)
        context["breach_history"] = agent_breach_history(agent=agent)
        context["can_record"] = self.can_record
        if self.can_record:
            context.setdefault(
                "receipt_form",
                CashReceiptForm(
                    agent=agent, initial={"collected_on": today, "contribution_year": year}
                ),
            )
            context.setdefault(
                "remittance_form", RemittanceForm(agent=agent, initial={"remitted_on": today})
            )
        return context


class AgentRegisterDownloadView(AgentsScopedMixin, View):
    """代办情况登记表 of a county, township or village in the user's region."""

    def get(self, request, region_code: str):
        regions = Region.objects.visible_to(request.user).filter(level__in=REGISTER_LEVELS)
        region = get_object_or_404(regions, code=region_code)
        agents = self.agents().filter(pk__in=agents_in_region_ids([region.code]))
        title = _("%(region)s村级代收协办员代办情况登记表（%(day)s）") % {
            "region": region.name,
            "day": f"{timezone.localdate():%Y-%m-%d}",
        }
        content = agent_register_workbook(agents=agents, title=title)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = attachment(
            _("%(region)s代办情况登记表.xlsx") % {"region": region.name}
        )
        return response
