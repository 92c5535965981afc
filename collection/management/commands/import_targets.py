import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from collection.services.progress import TargetImportResult, TargetRefused, targets_import
from pension.management.base import TranslatedCommand
from pension.models import Region
from pension.spreadsheets import SpreadsheetError

SHOWN_REJECTIONS = 50


class Command(TranslatedCommand):
    help = gettext_lazy(
        "导入参保任务数表（列：乡镇、村、任务数；村留空为乡镇任务数）：按本县区划名称匹配，"
        "已有任务数的更新；任何一行有错误则全部不导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("xlsx、xls 或 csv 文件"))
        parser.add_argument("--county", required=True, help=_("县级区划代码，如 530927"))
        parser.add_argument("--year", required=True, type=int, help=_("缴费年度，如 2023"))
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("以 JSON 输出结果")
        )

    def handle(self, *args, file: Path, county: str, year: int, as_json: bool, **options):
        region = Region.objects.filter(code=county, level=Region.Level.COUNTY).first()
        if region is None:
            raise CommandError(_("没有区划代码为 %(code)s 的县") % {"code": county})
        if not file.is_file():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        try:
            result = targets_import(
                source=file, county=region, year=year, actor=None, filename=file.name
            )
        except SpreadsheetError as exc:
            raise CommandError(
                _("无法导入 %(file)s：%(reason)s") % {"file": file.name, "reason": exc.message}
            ) from None
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
        if result.refused_reason:
            message = _(
                "%(region)s %(year)s 年度参保任务数未导入：共 %(rows)s 行，新增 %(created)s 个，"
                "更新 %(updated)s 个，未变 %(unchanged)s 个，错误 %(rejected)s 行。"
            )
        else:
            message = _(
                "%(region)s %(year)s 年度参保任务数导入完成：共 %(rows)s 行，新增 %(created)s 个，"
                "更新 %(updated)s 个，未变 %(unchanged)s 个，错误 %(rejected)s 行。"
            )
        self.stdout.write(
            message
            % {
                "region": region.name,
                "year": year,
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
            self.stdout.write(
                "  "
                + ngettext(
                    "……另有 %(count)s 行错误，请用 --json 查看全部",
                    "……另有 %(count)s 行错误，请用 --json 查看全部",
                    hidden,
                )
                % {"count": hidden}
            )
