import json
import os
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collection.exporters.ledger import ledger_village_count, write_ledger
from pension.management.base import TranslatedCommand
from pension.models import Region


class Command(TranslatedCommand):
    help = gettext_lazy(
        "导出村级台账（xlsx）：每个村一个工作表，列出参保人、参保状态、特殊群体和当年缴费。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--region", required=True, help=_("县、乡镇或村的区划代码，如 530927203")
        )
        parser.add_argument("--year", required=True, type=int, help=_("缴费年度，如 2023"))
        parser.add_argument("--out", required=True, type=Path, help=_("输出文件，如 台账.xlsx"))
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))

    def handle(self, *args, region, year, out, json, **options):
        found = Region.objects.filter(code=region).first()
        if found is None:
            raise CommandError(_("没有区划代码为 %(code)s 的区划") % {"code": region})
        if found.level == Region.Level.GROUP:
            raise CommandError(_("台账按村编制，请指定县、乡镇或村的区划代码"))
        # A failed run leaves no half-written file under the name the officer asked for.
        partial = out.with_name(out.name + ".part")
        try:
            residents = write_ledger(region_code=found.code, year=year, out=partial)
            os.replace(partial, out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(
                _("无法写入文件 %(file)s：%(reason)s")
                % {"file": out, "reason": exc.strerror or exc}
            ) from None
        villages = ledger_village_count(region_code=found.code)
        if json:
            self.stdout.write(self._json(found.code, year, villages, residents, out))
            return
        self.stdout.write(
            _("已导出 %(region)s %(year)s 年度台账：%(villages)s 个村，%(residents)s 人 → %(out)s")
            % {
                "region": found.name,
                "year": year,
                "villages": villages,
                "residents": residents,
                "out": out,
            }
        )

    @staticmethod
    def _json(region, year, villages, residents, out) -> str:
        return json.dumps(
            {
                "region": region,
                "year": year,
                "villages": villages,
                "residents": residents,
                "out": str(out),
            },
            ensure_ascii=False,
        )
