import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pension.management.base import TranslatedCommand
from pension.services import RegionImportResult, regions_import
from pension.spreadsheets import SpreadsheetError

SHOWN_REJECTIONS = 50


class Command(TranslatedCommand):
    help = gettext_lazy(
        "导入一个县的村（社区）和村民小组名单：已有代码更新名称，新代码新增，不删除任何区划。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            type=Path,
            help=_("xlsx、xls 或 csv 文件，列：区划代码、名称、上级代码（可选）"),
        )
        parser.add_argument("--dry-run", action="store_true", help=_("只试算并报告，不写入"))
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("以 JSON 输出结果")
        )

    def handle(self, *args, file: Path, dry_run: bool, as_json: bool, **options):
        if not file.is_file():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        try:
            result = regions_import(source=file, filename=file.name, dry_run=dry_run)
        except SpreadsheetError as exc:
            raise CommandError(
                _("无法导入 %(file)s：%(error)s") % {"file": file.name, "error": exc.message}
            ) from None
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.summary(result)
        if result.refused_reason:
            # Scripts read the exit status: a refused file is a failed run with either output.
            raise CommandError(result.refused_reason)

    def summary(self, result: RegionImportResult) -> None:
        if result.refused_reason:
            heading = _("未导入")
        else:
            heading = _("试算完成（未写入）") if result.dry_run else _("导入完成")
        self.stdout.write(
            ngettext(
                "%(heading)s：共 %(rows)s 行，新增 %(created)s 个，更新 %(updated)s 个，"
                "未变 %(unchanged)s 个，错误 %(rejected)s 行。",
                "%(heading)s：共 %(rows)s 行，新增 %(created)s 个，更新 %(updated)s 个，"
                "未变 %(unchanged)s 个，错误 %(rejected)s 行。",
                result.rows,
            )
            % {
                "heading": heading,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "rejected": len(result.rejected),
            }
        )
        for rejection in result.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  {rejection}")
        hidden = len(result.rejected) - SHOWN_REJECTIONS
        if hidden > 0:
            more = ngettext(
                "……另有 %(hidden)s 行错误，请用 --json 查看全部",
                "……另有 %(hidden)s 行错误，请用 --json 查看全部",
                hidden,
            ) % {"hidden": hidden}
            self.stdout.write(f"  {more}")
