import datetime
import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pension.management.base import TranslatedCommand
from pension.models import Region
from reconciliation.services.statements import (
    StatementImportResult,
    StatementRefused,
    statement_import,
)

SHOWN_REJECTIONS = 50
SOURCE_LABELS = {"tax": gettext_lazy("税务征收明细"), "bank": gettext_lazy("银行流水")}


def parse_month(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(
            _("月份格式应为 YYYY-MM，如 2023-07：%(value)s") % {"value": value}
        ) from None


class Command(TranslatedCommand):
    help = gettext_lazy(
        "导入一个县某月的对账单：税务征收明细（--source tax）或银行流水（--source bank），"
        "xlsx、xls 或 csv；同一文件重复导入不会重复写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help=_("xlsx、xls 或 csv 文件"))
        parser.add_argument("--source", required=True, choices=sorted(SOURCE_LABELS))
        parser.add_argument("--county", required=True, help=_("县级区划代码，如 530927"))
        parser.add_argument("--month", required=True, help=_("所属月份 YYYY-MM，如 2023-07"))
        parser.add_argument("--strict", action="store_true", help=_("有任何错误行则全部不导入"))
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("以 JSON 输出结果")
        )

    def handle(self, *args, file: Path, source, county, month, strict, as_json, **options):
        region = Region.objects.filter(code=county).first()
        if region is None:
            raise CommandError(_("没有区划代码为 %(code)s 的县") % {"code": county})
        if not file.is_file():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        try:
            result = statement_import(
                source=source, county=region, month=parse_month(month), source_file=file,
                filename=file.name, strict=strict,
            )  # fmt: skip
        except StatementRefused as exc:
            raise CommandError(
                _("无法导入 %(file)s：%(reason)s") % {"file": file.name, "reason": exc}
            ) from None
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            self.summary(region, result)
        if result.refused_reason:
            # Scripts read the exit status: a refused file is a failed run with either output.
            raise CommandError(result.refused_reason)

    def summary(self, region: Region, result: StatementImportResult) -> None:
        values = {
            "county": region.name,
            "month": f"{result.month:%Y-%m}",
            "statement": SOURCE_LABELS[result.source],
        }
        if result.same_file:
            self.stdout.write(
                _(
                    "%(county)s %(month)s %(statement)s：该文件已导入过（对账单 #%(id)s），"
                    "未重复写入。"
                )
                % {**values, "id": result.statement.pk}
            )
            return
        if result.refused_reason:
            line = ngettext(
                "%(county)s %(month)s %(statement)s未导入：共 %(rows)s 行，新增 %(created)s 行，"
                "已导入过 %(unchanged)s 行，错误 %(rejected)s 行，金额合计 %(total)s 元。",
                "%(county)s %(month)s %(statement)s未导入：共 %(rows)s 行，新增 %(created)s 行，"
                "已导入过 %(unchanged)s 行，错误 %(rejected)s 行，金额合计 %(total)s 元。",
                result.rows,
            )
        else:
            line = ngettext(
                "%(county)s %(month)s %(statement)s导入完成：共 %(rows)s 行，新增 %(created)s 行，"
                "已导入过 %(unchanged)s 行，错误 %(rejected)s 行，金额合计 %(total)s 元。",
                "%(county)s %(month)s %(statement)s导入完成：共 %(rows)s 行，新增 %(created)s 行，"
                "已导入过 %(unchanged)s 行，错误 %(rejected)s 行，金额合计 %(total)s 元。",
                result.rows,
            )
        self.stdout.write(
            line
            % {
                **values,
                "rows": result.rows,
                "created": result.created,
                "unchanged": result.unchanged,
                "rejected": len(result.rejected),
                "total": f"{result.total:.2f}",
            }
        )
        for rejection in result.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  {rejection}")
        hidden = len(result.rejected) - SHOWN_REJECTIONS
        if hidden > 0:
            line = ngettext(
                "……另有 %(count)s 行错误，请用 --json 查看全部",
                "……另有 %(count)s 行错误，请用 --json 查看全部",
                hidden,
            )
            self.stdout.write("  " + line % {"count": hidden})
