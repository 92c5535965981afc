"""What the import commands share: arguments, the summary printed, and the exit status."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from enrollment.services.imports import COUNT_LABELS, ImportOutcome
from pension.models import Region


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from None


class ImportCommand(BaseCommand):
    def add_common_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="xlsx、xls 或 csv 文件")
        parser.add_argument("--county", required=True, help="县级区划代码，如 530927")
        parser.add_argument("--dry-run", action="store_true", help="只试算并报告，不写入")
        parser.add_argument("--strict", action="store_true", help="有任何错误行则全部不导入")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def county(self, code: str) -> Region:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(f"没有区划代码为 {code} 的县")
        return region

    def report(self, outcome: ImportOutcome, *, as_json: bool) -> None:
        if as_json:
            summary = outcome.as_dict()
            summary.pop("rejected_count")
            summary.pop("count_labels")
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        verb = "试算" if outcome.dry_run else "导入"
        self.stdout.write(
            f"{verb}完成：共 {outcome.rows} 行，接受 {outcome.accepted} 行，"
            f"错误 {len(outcome.rejected)} 行。"
        )
        if outcome.refused_reason:
            self.stdout.write(self.style.ERROR(outcome.refused_reason))
        for key, value in outcome.counts.items():
            self.stdout.write(f"  {COUNT_LABELS.get(key, key)}：{value}")
        for rejection in outcome.rejected[:50]:
            self.stdout.write(f"  {rejection}")
        if len(outcome.rejected) > 50:
            self.stdout.write(f"  ……另有 {len(outcome.rejected) - 50} 行错误，请用 --json 查看全部")
