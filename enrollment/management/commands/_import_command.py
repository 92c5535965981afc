"""What the import commands share: arguments, the summary printed, and the exit status."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from enrollment.services.imports import COUNT_LABELS, ImportOutcome
from pension.management.base import TranslatedCommand
from pension.models import Region


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": value}) from None


class ImportCommand(TranslatedCommand):
    def add_common_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help=_("xlsx、xls 或 csv 文件"))
        parser.add_argument("--county", required=True, help=_("县级区划代码，如 530927"))
        parser.add_argument("--dry-run", action="store_true", help=_("只试算并报告，不写入"))
        parser.add_argument("--strict", action="store_true", help=_("有任何错误行则全部不导入"))
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))

    def county(self, code: str) -> Region:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(_("没有区划代码为 %(code)s 的县") % {"code": code})
        return region

    def report(self, outcome: ImportOutcome, *, as_json: bool) -> None:
        if as_json:
            summary = outcome.as_dict()
            summary.pop("rejected_count")
            summary.pop("count_labels")
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        figures = {
            "rows": outcome.rows,
            "accepted": outcome.accepted,
            "rejected": len(outcome.rejected),
        }
        if outcome.dry_run:
            summary_line = _(
                "试算完成：共 %(rows)s 行，接受 %(accepted)s 行，错误 %(rejected)s 行。"
            )
        else:
            summary_line = _(
                "导入完成：共 %(rows)s 行，接受 %(accepted)s 行，错误 %(rejected)s 行。"
            )
        self.stdout.write(summary_line % figures)
        if outcome.refused_reason:
            self.stdout.write(self.style.ERROR(outcome.refused_reason))
        for key, value in outcome.counts.items():
            line = _("%(label)s：%(value)s") % {"label": COUNT_LABELS.get(key, key), "value": value}
            self.stdout.write(f"  {line}")
        for rejection in outcome.rejected[:50]:
            self.stdout.write(f"  {rejection}")
        if len(outcome.rejected) > 50:
            more = len(outcome.rejected) - 50
            line = ngettext(
                "……另有 %(n)s 行错误，请用 --json 查看全部",
                "……另有 %(n)s 行错误，请用 --json 查看全部",
                more,
            ) % {"n": more}
            self.stdout.write(f"  {line}")
