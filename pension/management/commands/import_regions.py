import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from pension.services import RegionImportResult, regions_import
from pension.spreadsheets import SpreadsheetError

SHOWN_REJECTIONS = 50


class Command(BaseCommand):
    help = "导入一个县的村（社区）和村民小组名单：已有代码更新名称，新代码新增，不删除任何区划。"

    def add_arguments(self, parser):
        parser.add_argument(
            "file", type=Path, help="xlsx、xls 或 csv 文件，列：区划代码、名称、上级代码（可选）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只试算并报告，不写入")
        parser.add_argument("--json", action="store_true", dest="as_json", help="以 JSON 输出结果")

    def handle(self, *args, file: Path, dry_run: bool, as_json: bool, **options):
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        try:
            result = regions_import(source=file, filename=file.name, dry_run=dry_run)
        except SpreadsheetError as exc:
            raise CommandError(f"无法导入 {file.name}：{exc.message}") from None
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.summary(result)
        if result.refused_reason:
            # Scripts read the exit status: a refused file is a failed run with either output.
            raise CommandError(result.refused_reason)

    def summary(self, result: RegionImportResult) -> None:
        if result.refused_reason:
            heading = "未导入"
        else:
            heading = "试算完成（未写入）" if result.dry_run else "导入完成"
        self.stdout.write(
            f"{heading}：共 {result.rows} 行，新增 {result.created} 个，更新 {result.updated} 个，"
            f"未变 {result.unchanged} 个，错误 {len(result.rejected)} 行。"
        )
        for rejection in result.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  {rejection}")
        hidden = len(result.rejected) - SHOWN_REJECTIONS
        if hidden > 0:
            self.stdout.write(f"  ……另有 {hidden} 行错误，请用 --json 查看全部")
