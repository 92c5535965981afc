import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pension.management.base import TranslatedCommand
from pension.models import Region
from reconciliation.management.commands.import_statement import parse_month
from reconciliation.models import Discrepancy
from reconciliation.services.reconcile import ReconciliationRefused, reconcile_month

LEDGERS = {
    "tax": gettext_lazy("税务"),
    "bank": gettext_lazy("银行"),
    "system": gettext_lazy("系统"),
}


class Command(TranslatedCommand):
    help = gettext_lazy(
        "对一个县某月的税务征收明细、银行流水与系统缴费记录进行对账；再次执行将替换该月的"
        "对账结果（历次结果保留），差异不会重复登记。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--county", required=True, help=_("县级区划代码，如 530927"))
        parser.add_argument("--month", required=True, help=_("对账月份 YYYY-MM，如 2023-07"))
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help=_("以 JSON 输出结果")
        )

    def handle(self, *args, county: str, month: str, as_json: bool, **options):
        region = Region.objects.filter(code=county).first()
        if region is None:
            raise CommandError(_("没有区划代码为 %(code)s 的县") % {"code": county})
        try:
            run = reconcile_month(county=region, month=parse_month(month))
        except ReconciliationRefused as exc:
            raise CommandError(str(exc)) from None
        summary = run.summary
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(
            _("%(county)s %(month)s 对账完成（第 %(run)s 次）：")
            % {"county": region.name, "month": summary["month"], "run": run.pk}
        )
        for key, label in LEDGERS.items():
            figures = summary[key]
            count = figures["count"]
            line = ngettext(
                "%(ledger)s：%(count)s 笔，%(sum)s 元",
                "%(ledger)s：%(count)s 笔，%(sum)s 元",
                count,
            )
            self.stdout.write(
                "  " + line % {"ledger": label, "count": count, "sum": figures["sum"]}
            )
        matched = summary["matched"]
        line = ngettext("三方一致：%(count)s 笔", "三方一致：%(count)s 笔", matched)
        self.stdout.write("  " + line % {"count": matched})
        labels = dict(Discrepancy.Category.choices)
        for category, count in summary["categories"].items():
            line = ngettext("%(category)s：%(count)s 笔", "%(category)s：%(count)s 笔", count)
            self.stdout.write("  " + line % {"category": labels[category], "count": count})
        cleared = summary["cleared"]
        line = ngettext("已自动消除的差异：%(count)s 笔", "已自动消除的差异：%(count)s 笔", cleared)
        self.stdout.write("  " + line % {"count": cleared})
