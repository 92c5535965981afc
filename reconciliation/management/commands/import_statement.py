import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pension.models import Region
from reconciliation.services.statements import (
    StatementImportResult,
    StatementRefused,
    statement_import,
)

SHOWN_REJECTIONS = 50
SOURCE_LABELS = {"tax": "税务征收明细", "bank": "银行流水"}


def parse_month(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(f"月份格式应为 YYYY-MM，如 2023-07：{value}") from None


class Command(BaseCommand):
    help = (
        "导入一个县某月的对账单：税务征收明细（--source tax）或银行流水（--source bank），"
        "xlsx、xls 或 csv；同一文件重复导入不会重复写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="xlsx、xls 或 csv 文件")
        parser.add_argument("--source", required=True, choices=sorted(SOURCE_LABELS))
        parser.add_argument("--county", required=True, help="县级区划代码，如 530927")
        parser.add_argument("--month", required=True, help="所属月份 YYYY-MM，如 2023-07")
        parser.add_argument("--strict", action="store_true", help="有任何错误行则全部不导入")
        parser.add_argument("--json", action="store_true", dest="as_json", help="以 JSON 输出结果")

    def handle(self, *args, file: Path, source, county, month, strict, as_json, **options):
        region = Region.objects.filter(code=county).first()
        if region is None:
            raise CommandError(f"没有区划代码为 {county} 的县")
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        try:
            result = statement_import(
                source=source, county=region, month=parse_month(month), source_file=file,
                filename=file.name, strict=strict,
            )  # fmt: skip
        except StatementRefused as exc:
            raise CommandError(f"无法导入 {file.name}：{exc}") from None
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.summary(region, result)
        if result.refused_reason:
            # Scripts read the exit status: a refused file is a failed run with either output.
            raise CommandError(result.refused_reason)

    def summary(self, region: Region, result: StatementImportResult) -> None:
        what = f"{region.name} {result.month:%Y-%m} {SOURCE_LABELS[result.source]}"
        if result.same_file:
            self.stdout.write(
                f"{what}：该文件已导入过（对账单 #{result.statement.pk}），未重复写入。"
            )
            return
        heading = "未导入" if result.refused_reason else "导入完成"
        self.stdout.write(
            f"{what}{heading}：共 {result.rows} 行，新增 {result.created} 行，"
            f"已导入过 {result.unchanged} 行，错误 {len(result.rejected)} 行，"
            f"金额合计 {result.total:.2f} 元。"
        )
        for rejection in result.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  {rejection}")
        hidden = len(result.rejected) - SHOWN_REJECTIONS
        if hidden > 0:
            self.stdout.write(f"  ……另有 {hidden} 行错误，请用 --json 查看全部")
