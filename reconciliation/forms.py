"""Forms parse what a clerk typed; the services decide whether it is allowed."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from enrollment.forms import check_upload
from enrollment.models import Resident
from pension import idnumber
from reconciliation.models import Discrepancy, Statement
from reconciliation.selectors import last_month

_MONTH = re.compile(r"^\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*月?\s*$")


def parse_month(text: str) -> datetime.date | None:
    """ "2023-05" (as a month input sends it), "2023/5" or "2023年5月" as the month's first day;
    None when the text is no month."""
    match = _MONTH.match(text or "")
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return datetime.date(year, month, 1)


class MonthField(forms.Field):
    """A calendar month, cleaned to its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    default_error_messages = {"invalid": _("月份格式应为 2023-05")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.date):
            return value.replace(day=1)
        month = parse_month(str(value))
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class MonthForm(forms.Form):
    """The month the month page shows: last month unless another is asked for."""

    month = MonthField(label=_("所属月份"), required=False)

    def chosen_month(self, default: datetime.date | None = None) -> datetime.date:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("month") or default or last_month()


class ResolveForm(forms.Form):
    """One resolution of one case. The right resident of a link is looked up among the
    residents the clerk sees, so a number outside their region reads as unknown."""

    resolution = forms.ChoiceField(
        label=_("处理方式"),
        choices=Discrepancy.Resolution.choices,
        error_messages={"required": _("请选择处理方式"), "invalid_choice": _("请选择处理方式")},
    )
    note = forms.CharField(
        label=_("处理说明"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("处理说明最多 200 个字")},
    )
    id_number = forms.CharField(label=_("正确参保人的公民身份号码"), max_length=30, required=False)
    refund_voucher_no = forms.CharField(
        label=_("退费凭证号"),
        max_length=40,
        required=False,
        error_messages={"max_length": _("退费凭证号最多 40 个字符")},
    )

    def __init__(self, *args, residents: QuerySet[Resident], **kwargs):
        super().__init__(*args, **kwargs)
        self.residents = residents

    def clean_id_number(self) -> Resident | None:
        raw = self.cleaned_data["id_number"].strip()
        if not raw:
            return None
        try:
            number = idnumber.validate(raw)
        except idnumber.InvalidIDNumber as exc:
            raise forms.ValidationError(
                gettext("公民身份号码 %(number)s 有误：%(reason)s") % {"number": raw, "reason": exc}
            ) from None
        resident = self.residents.filter(id_number=number).first()
        if resident is None:
            raise forms.ValidationError(
                gettext("您的辖区内没有公民身份号码为 %(number)s 的参保人，请核对后再关联")
                % {"number": number}
            )
        return resident

    def error_text(self) -> str:
        return pgettext("list separator", "；").join(
            str(e) for errors in self.errors.values() for e in errors
        )


class StatementUploadForm(forms.Form):
    """A month's statement file of a county the clerk imports for."""

    source = forms.ChoiceField(label=_("对账单类型"), choices=Statement.Source.choices)
    county = forms.ChoiceField(label=_("县"))
    month = MonthField(
        label=_("所属月份"), help_text=_("入库（交易）日期须在该月内，其余行逐行列为错误")
    )
    file = forms.FileField(label=_("文件"), help_text=_("xlsx、xls 或 csv，不超过 50 MB"))
    strict = forms.BooleanField(label=_("有任何错误行则全部不导入"), required=False)

    def __init__(self, *args, counties, **kwargs):
        super().__init__(*args, **kwargs)
        self.counties = {county.code: county for county in counties}
        self.fields["county"].choices = [(c.code, c.name) for c in self.counties.values()]
        self.fields["month"].initial = f"{last_month():%Y-%m}"

    def clean_county(self):
        return self.counties[self.cleaned_data["county"]]

    def clean_file(self):
        return check_upload(self.cleaned_data["file"])
