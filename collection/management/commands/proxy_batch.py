import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collection.services.proxy import ProxyBatchRefused, proxy_batch_generate
from pension.management.base import TranslatedCommand
from pension.models import Region


class Command(TranslatedCommand):
    help = gettext_lazy("生成政府代缴批次（动态清零）：列出本县符合代缴条件且尚未代缴的人员。")

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help=_("县级区划代码，如 530927"))
        parser.add_argument("--year", required=True, type=int, help=_("缴费年度，如 2023"))
        parser.add_argument("--dry-run", action="store_true", help=_("只试算并报告，不写入"))
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))

    def handle(self, *args, county, year, dry_run, json, **options):
        region = Region.objects.filter(code=county, level=Region.Level.COUNTY).first()
        if region is None:
            raise CommandError(_("没有区划代码为 %(code)s 的县") % {"code": county})
        try:
            result = proxy_batch_generate(county=region, year=year, actor=None, dry_run=dry_run)
        except ProxyBatchRefused as exc:
            raise CommandError(str(exc)) from None
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        self.stdout.write(
            _(
                "%(region)s %(year)s 年度：符合代缴条件 %(qualifying)s 人，"
                "已代缴 %(already_paid)s 人，本次新增 %(added)s 人，批次共 %(in_batch)s 人。"
            )
            % {
                "region": region.name,
                "year": year,
                "qualifying": result.qualifying,
                "already_paid": result.already_paid,
                "added": result.added,
                "in_batch": result.in_batch,
            }
        )
        if result.batch:
            self.stdout.write(
                _("批次 #%(id)s，%(status)s")
                % {"id": result.batch.pk, "status": result.status_label}
            )
        else:
            self.stdout.write(str(result.status_label))


def _dumps(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False)
