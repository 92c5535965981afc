import json
import time

from django.core.management.base import BaseCommand

from collection.demo import demo_seed
from reconciliation.demo import reconciliation_demo_seed


class Command(BaseCommand):
    help = (
        "生成演示数据：两个县的村、组、参保人、特殊群体、缴费记录、各角色演示账号，"
        "以及沧源县一个月的税务、银行对账单和对账结果。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=20_000, help="参保人数（默认 20000）")
        parser.add_argument("--seed", type=int, default=2023, help="随机种子；相同种子生成相同数据")
        parser.add_argument("--year", type=int, default=2023, help="缴费年度（默认 2023）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

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
                f"已生成演示数据：区划 {result.regions} 个，参保人 {result.residents} 人，"
                f"特殊群体身份 {result.memberships} 条，缴费记录 {result.payments} 笔，"
                f"用时 {seconds} 秒。"
            )
        else:
            self.stdout.write("数据库中已有参保人，未重复生成演示数据。")
        if reconciliation.created:
            self.stdout.write(
                f"已导入沧源县 {reconciliation.month:%Y-%m} 的税务征收明细 "
                f"{reconciliation.tax_rows} 笔、银行流水 {reconciliation.bank_rows} 笔并完成对账。"
            )
        self.stdout.write("演示账号（用户名 / 密码 / 角色）：")
        for username, password, description in result.users:
            self.stdout.write(f"  {username:<16} {password:<12} {description}")
        if reconciliation.api_key:
            self.stdout.write(
                "沧源县税务局接口密钥（只显示这一次）：\n"
                f"  Authorization: Bearer {reconciliation.api_key}"
            )

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
