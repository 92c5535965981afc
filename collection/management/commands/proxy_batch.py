import json

from django.core.management.base import BaseCommand, CommandError

from collection.services.proxy import ProxyBatchRefused, proxy_batch_generate
from pension.models import Region


class Command(BaseCommand):
    help = "生成政府代缴批次（动态清零）：列出本县符合代缴条件且尚未代缴的人员。"

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="县级区划代码，如 530927")
        parser.add_argument("--year", required=True, type=int, help="缴费年度，如 2023")
        parser.add_argument("--dry-run", action="store_true", help="只试算并报告，不写入")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, county, year, dry_run, json, **options):
        region = Region.objects.filter(code=county, level=Region.Level.COUNTY).first()
        if region is None:
            raise CommandError(f"没有区划代码为 {county} 的县")
        try:
            result = proxy_batch_generate(county=region, year=year, actor=None, dry_run=dry_run)
        except ProxyBatchRefused as exc:
            raise CommandError(str(exc)) from None
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        self.stdout.write(
            f"{region.name} {year} 年度：符合代缴条件 {result.qualifying} 人，"
            f"已代缴 {result.already_paid} 人，本次新增 {result.added} 人，"
            f"批次共 {result.in_batch} 人。"
        )
        batch = f"批次 #{result.batch.pk}，" if result.batch else ""
        self.stdout.write(f"{batch}{result.status_label}")


def _dumps(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False)
