"""Forms parse what a clerk typed; the services decide whether it is allowed."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from enrollment.models import Finding, Resident
from enrollment.services.departments import ALL_CATEGORIES, CATEGORY_LABELS
from pension.imports import UPLOAD_MAX_BYTES
from pension.models import Region, User

ALLOWED_SUFFIXES = (".xlsx", ".xls", ".csv", ".txt")


def comparison_regions(user: User) -> list[Region]:
    """The county or township a user may run a comparison for: their own unit and, for the
    county bureau, each township of the county."""
    if user.is_superuser and not user.region_id:
        return list(Region.objects.filter(level=Region.Level.COUNTY))
    if user.region is None:
        return []
    if user.region.level == Region.Level.COUNTY:
        return [user.region, *user.region.children.order_by("code")]
    if user.region.level == Region.Level.TOWNSHIP:
        return [user.region]
    return []


def check_upload(upload):
    """What every upload form asks of a spreadsheet file before it is queued for import."""
    if upload.size > UPLOAD_MAX_BYTES:
        size, limit = upload.size / 1024 / 1024, UPLOAD_MAX_BYTES // 1024 // 1024
        raise forms.ValidationError(
            gettext("文件过大：%(size).1f MB，上限 %(limit)s MB") % {"size": size, "limit": limit}
        )
    if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
        raise forms.ValidationError(gettext("只支持 xlsx、xls、csv 文件"))
    return upload


class _UploadForm(forms.Form):
    file = forms.FileField(label=_("文件"), help_text=_("xlsx、xls 或 csv，不超过 50 MB"))
    region = forms.ChoiceField(label=_("比对范围"))
    dry_run = forms.BooleanField(label=_("只试算，不写入"), required=False)
    strict = forms.BooleanField(label=_("有任何错误行则全部不导入"), required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in comparison_regions(user)}
        self.fields["region"].choices = [(code, r.name) for code, r in self.regions.items()]

    def clean_file(self):
        return check_upload(self.cleaned_data["file"])

    def clean_region(self):
        return self.regions[self.cleaned_data["region"]]

    def _not_future(self, field: str):
        day = self.cleaned_data[field]
        if day > timezone.localdate():
            raise forms.ValidationError(gettext("日期不能晚于今天"))
        return day


class RegistryUploadForm(_UploadForm):
    as_of = forms.DateField(label=_("户籍数据日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_as_of(self):
        return self._not_future("as_of")


class DepartmentUploadForm(_UploadForm):
    category = forms.ChoiceField(
        label=_("名单类别"), choices=[(c, CATEGORY_LABELS[c]) for c in ALL_CATEGORIES]
    )
    list_date = forms.DateField(label=_("名单日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_list_date(self):
        return self._not_future("list_date")


class FindingResolveForm(forms.Form):
    ids = forms.ModelMultipleChoiceField(
        queryset=Finding.objects.none(), label=pgettext_lazy("plural", "疑点")
    )
    note = forms.CharField(label=_("处理意见"), max_length=300)

    def __init__(self, *args, findings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = findings


class SealForm(forms.Form):
    reason = forms.ChoiceField(label=_("封存原因"), choices=Resident.SealReason.choices)
    note = forms.CharField(label=_("说明"), max_length=150, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=150, required=False)
