import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collection.services.progress import TargetImportResult, TargetRefused, targets_import
from pension.models import Region
from pension.spreadsheets import SpreadsheetError

SHOWN_REJECTIONS = 50


class Command(BaseCommand):
    help = (
        "导入参保任务数表（列：乡镇、村、任务数；村留空为乡镇任务数）：按本县区划名称匹配，"
        "已有任务数的更新；任何一行有错误则全部不导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="xlsx、xls 或 csv 文件")
        parser.add_argument("--county", required=True, help="县级区划代码，如 530927")
        parser.add_argument("--year", required=True, type=int, help="缴费年度，如 2023")
        parser.add_argument("--json", action="store_true", dest="as_json", help="以 JSON 输出结果")

    def handle(self, *args, file: Path, county: str, year: int, as_json: bool, **options):
        region = Region.objects.filter(code=county, level=Region.Level.COUNTY).first()
        if region is None:
            raise CommandError(f"没有区划代码为 {county} 的县")
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        try:
            result = targets_import(
                source=file, county=region, year=year, actor=None, filename=file.name
            )
        except SpreadsheetError as exc:
            raise CommandError(f"无法导入 {file.name}：{exc.message}") from None
        except TargetRefused as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.summary(region, year, result)
        if result.refused_reason:
            # Scripts read the exit status: a refused file is a failed run with either output.
            raise CommandError(result.refused_reason)

    def summary(self, region: Region, year: int, result: TargetImportResult) -> None:
        heading = "未导入" if result.refused_reason else "导入完成"
        self.stdout.write(
            f"{region.name} {year} 年度参保任务数{heading}：共 {result.rows} 行，"
            f"新增 {result.created} 个，更新 {result.updated} 个，未变 {result.unchanged} 个，"
            f"错误 {len(result.rejected)} 行。"
        )
        for rejection in result.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  {rejection}")
        hidden = len(result.rejected) - SHOWN_REJECTIONS
        if hidden > 0:
            self.stdout.write(f"  ……另有 {hidden} 行错误，请用 --json 查看全部")
