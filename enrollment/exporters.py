"""Workbooks of enrollment lists, written from one row generator in write-only mode."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollment.models import Finding, Resident
from pension.exporters import write_workbook

FINDING_HEADER = [
    gettext_lazy("疑点类型"), gettext_lazy("状态"), gettext_lazy("姓名"),
    gettext_lazy("公民身份号码"), gettext_lazy("乡镇"), gettext_lazy("村(社区)"),
    gettext_lazy("情况说明"), gettext_lazy("来源"), gettext_lazy("发现时间"),
    gettext_lazy("处理意见"), gettext_lazy("处理人"), gettext_lazy("处理时间"),
]  # fmt: skip


def finding_rows(findings: QuerySet[Finding]) -> Iterator[list]:
    local = timezone.localtime
    for f in findings.select_related("region__parent", "resolved_by").iterator(chunk_size=2000):
        township = f.region.parent.name if f.region.level == "village" else ""
        yield [
            f.get_kind_display(), f.get_status_display(), f.name, f.id_number, township,
            f.region.name, f.detail, f.source, local(f.created_at).strftime("%Y-%m-%d %H:%M"),
            f.resolution_note, f.resolved_by.display_name if f.resolved_by else "",
            local(f.resolved_at).strftime("%Y-%m-%d %H:%M") if f.resolved_at else "",
        ]  # fmt: skip


def findings_workbook(*, findings: QuerySet[Finding]) -> bytes:
    return write_workbook(
        title=_("疑点清单（%(date)s 导出）") % {"date": f"{timezone.localdate():%Y-%m-%d}"},
        header=[str(label) for label in FINDING_HEADER],
        rows=finding_rows(findings),
        sheet=_("疑点清单"),
    )


# The residents export's header names its columns as the registry import reads them.
RESIDENT_HEADER = [
    "姓名", "公民身份号码", "性别", "出生日期", "乡镇", "村(社区)", "村民小组", "户号",
    "联系电话", "参保状态",
]  # fmt: skip


def resident_export_rows(user, params: dict[str, str]) -> tuple[int, Iterator[list]]:
    """The residents list as the page showed it to `user` with `params` (its filters and
    order), for the export task: how many, then the rows, read in chunks."""
    from enrollment.filters import ResidentFilter
    from enrollment.selectors import resident_list

    rows = ResidentFilter(params or None, queryset=resident_list(user=user)).qs
    # Labels as text in the language the export runs in: the workbook takes no lazy strings.
    sexes = {value: str(label) for value, label in Resident.Sex.choices}
    statuses = {value: str(label) for value, label in Resident.Status.choices}
    columns = (
        "name", "id_number", "sex", "birth_date", "village__parent__name", "village__name",
        "group__name", "household_no", "phone", "status",
    )  # fmt: skip

    def lines() -> Iterator[list]:
        # Plain values, not model instances: a county's million rows in minutes, not hours.
        for (
            name,
            number,
            sex,
            born,
            township,
            village,
            group,
            household,
            phone,
            status,
        ) in rows.values_list(*columns).iterator(chunk_size=5000):
            yield [
                name, number, sexes.get(sex, sex), born.isoformat(), township, village,
                group or "", household, phone, statuses.get(status, status),
            ]  # fmt: skip

    return rows.count(), lines()
