import os
from json import dumps
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collection.exporters.notices import group_notice, write_notices
from collection.models import Notice
from collection.services.notices import NoticeRejected, notice_generate, notice_period_parse
from pension.models import Region


class Command(BaseCommand):
    help = (
        "生成村民小组公示（xlsx）：--month 为某月缴费公示，--year 与 --kind 为年度已缴费/"
        "未缴费名单；每个村一个文件，每个村民小组一个工作表，身份号码已遮蔽。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="县、乡镇或村的区划代码，如 530927203")
        parser.add_argument("--month", help="月度公示的月份 YYYY-MM，如 2023-05")
        parser.add_argument("--year", help="年度名单的缴费年度 YYYY，如 2023")
        parser.add_argument(
            "--kind", choices=[Notice.Kind.PAID, Notice.Kind.UNPAID], help="paid 或 unpaid"
        )
        parser.add_argument("--out", required=True, type=Path, help="输出目录")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, region, month, year, kind, out, json, **options):
        kind, period = self._kind_and_period(month, year, kind)
        found = Region.objects.filter(code=region).first()
        if found is None:
            raise CommandError(f"区划代码 {region} 不存在")
        if found.level not in (Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE):
            raise CommandError(f"区划代码 {region} 不是县、乡镇或村：公示按村生成")
        try:
            notice_period_parse(kind=kind, period=period)
        except NoticeRejected as exc:
            raise CommandError(str(exc)) from None
        if not out.is_dir():
            raise CommandError(f"输出目录 {out} 不存在")
        files, groups, rows = [], 0, 0
        villages = Region.objects.filter(
            code__startswith=found.code, level=Region.Level.VILLAGE
        ).select_related("parent")
        for village in villages.order_by("code"):
            members = list(village.children.filter(level=Region.Level.GROUP).order_by("code"))
            if not members:
                continue
            notices = []
            for group in members:
                group.parent = village
                lines = notice_generate(group=group, kind=kind, period=period, actor=None)
                notices.append(group_notice(group=group, kind=kind, period=period, rows=lines))
            target = out / self._filename(village, kind, period)
            partial = target.with_name(target.name + ".part")
            try:
                rows += write_notices(notices=notices, out=partial)
                os.replace(partial, target)
            except OSError as exc:
                partial.unlink(missing_ok=True)
                raise CommandError(f"无法写入文件 {target}：{exc.strerror or exc}") from None
            files.append(str(target))
            groups += len(notices)
        if json:
            self.stdout.write(
                dumps(
                    {
                        "region": found.code,
                        "kind": kind,
                        "period": period,
                        "files": files,
                        "groups": groups,
                        "rows": rows,
                    },
                    ensure_ascii=False,
                )
            )
            return
        label = Notice.Kind(kind).label
        self.stdout.write(
            f"已生成 {found.name} {period} {label}：{len(files)} 个村，{groups} 个村民小组，"
            f"{rows} 人次 → {out}"
        )

    @staticmethod
    def _kind_and_period(month, year, kind) -> tuple[str, str]:
        if bool(month) == bool(year):
            raise CommandError(
                "请指定 --month（月度缴费公示）或 --year 与 --kind（年度名单），二者只能选其一"
            )
        if month:
            if kind:
                raise CommandError("--kind 只用于年度名单（--year），月度公示不需要")
            return Notice.Kind.MONTHLY.value, month
        if not kind:
            raise CommandError("年度名单需要 --kind：paid（已缴费）或 unpaid（未缴费）")
        return kind, year

    @staticmethod
    def _filename(village: Region, kind: str, period: str) -> str:
        # Village names repeat between townships; the township keeps the files apart.
        township = village.parent.name if village.parent else ""
        return f"{township}{village.name}_{Notice.Kind(kind).label}_{period}.xlsx"
