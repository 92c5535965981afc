import json

from django.core.management.base import BaseCommand, CommandError

from pension.models import Region
from reconciliation.management.commands.import_statement import parse_month
from reconciliation.models import Discrepancy
from reconciliation.services.reconcile import ReconciliationRefused, reconcile_month

LEDGERS = {"tax": "税务", "bank": "银行", "system": "系统"}


class Command(BaseCommand):
    help = (
        "对一个县某月的税务征收明细、银行流水与系统缴费记录进行对账；再次执行将替换该月的"
        "对账结果（历次结果保留），差异不会重复登记。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help="县级区划代码，如 530927")
        parser.add_argument("--month", required=True, help="对账月份 YYYY-MM，如 2023-07")
        parser.add_argument("--json", action="store_true", dest="as_json", help="以 JSON 输出结果")

    def handle(self, *args, county: str, month: str, as_json: bool, **options):
        region = Region.objects.filter(code=county).first()
        if region is None:
            raise CommandError(f"没有区划代码为 {county} 的县")
        try:
            run = reconcile_month(county=region, month=parse_month(month))
        except ReconciliationRefused as exc:
            raise CommandError(str(exc)) from None
        summary = run.summary
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(f"{region.name} {summary['month']} 对账完成（第 {run.pk} 次）：")
        for key, label in LEDGERS.items():
            figures = summary[key]
            self.stdout.write(f"  {label}：{figures['count']} 笔，{figures['sum']} 元")
        self.stdout.write(f"  三方一致：{summary['matched']} 笔")
        labels = dict(Discrepancy.Category.choices)
        for category, count in summary["categories"].items():
            self.stdout.write(f"  {labels[category]}：{count} 笔")
        self.stdout.write(f"  已自动消除的差异：{summary['cleared']} 笔")
