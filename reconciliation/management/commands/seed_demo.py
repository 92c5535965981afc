import json
import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collection.demo import demo_seed
from pension.management.base import TranslatedCommand
from reconciliation.demo import reconciliation_demo_seed


class Command(TranslatedCommand):
    help = gettext_lazy(
        "生成演示数据：两个县的村、组、参保人、特殊群体、缴费记录、各角色演示账号，"
        "以及沧源县一个月的税务、银行对账单和对账结果。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents", type=int, default=20_000, help=_("参保人数（默认 20000）")
        )
        parser.add_argument(
            "--seed", type=int, default=2023, help=_("随机种子；相同种子生成相同数据")
        )
        parser.add_argument("--year", type=int, default=2023, help=_("缴费年度（默认 2023）"))
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))

    def handle(self, *args, residents, seed, year, json, **options):
        started = time.perf_counter()
        result = demo_seed(residents=residents, seed=seed, year=year, fingerprint=json)
        reconciliation = reconciliation_demo_seed(seed=seed)
        seconds = round(time.perf_counter() - started, 2)
        if json:
            self.stdout.write(self._json(result, reconciliation, seconds))
            return
        if result.created:
            self.stdout.write(
                _(
                    "已生成演示数据：区划 %(regions)s 个，参保人 %(residents)s 人，"
                    "特殊群体身份 %(memberships)s 条，缴费记录 %(payments)s 笔，"
                    "用时 %(seconds)s 秒。"
                )
                % {
                    "regions": result.regions,
                    "residents": result.residents,
                    "memberships": result.memberships,
                    "payments": result.payments,
                    "seconds": seconds,
                }
            )
        else:
            self.stdout.write(_("数据库中已有参保人，未重复生成演示数据。"))
        if reconciliation.created:
            self.stdout.write(
                _(
                    "已导入沧源县 %(month)s 的税务征收明细 %(tax_rows)s 笔、"
                    "银行流水 %(bank_rows)s 笔并完成对账。"
                )
                % {
                    "month": f"{reconciliation.month:%Y-%m}",
                    "tax_rows": reconciliation.tax_rows,
                    "bank_rows": reconciliation.bank_rows,
                }
            )
        self.stdout.write(_("演示账号（用户名 / 密码 / 角色）："))
        for username, password, description in result.users:
            self.stdout.write(f"  {username:<16} {password:<12} {description}")
        if reconciliation.api_key:
            self.stdout.write(_("沧源县税务局接口密钥（只显示这一次）："))
            self.stdout.write(f"  Authorization: Bearer {reconciliation.api_key}")

    @staticmethod
    def _json(result, reconciliation, seconds) -> str:
        return json.dumps(
            {
                "created": result.created,
                "regions": result.regions,
                "residents": result.residents,
                "memberships": result.memberships,
                "payments": result.payments,
                "seconds": seconds,
                "digest": result.digest,
                "users": [u for u, _p, _d in result.users],
                "reconciliation": {
                    "month": f"{reconciliation.month:%Y-%m}" if reconciliation.month else None,
                    "tax_rows": reconciliation.tax_rows,
                    "bank_rows": reconciliation.bank_rows,
                    "categories": reconciliation.categories,
                },
            },
            ensure_ascii=False,
        )
