import os
from itertools import groupby
from json import dumps
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collection.exporters.notices import group_notice, write_notices
from collection.models import Notice
from collection.services.notices import (
    NoticeGeneration,
    NoticeRejected,
    notice_check,
    notices_by_group,
    notices_generate,
)
from pension.management.base import TranslatedCommand
from pension.models import Region, User

COMMAND_LEVELS = (Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE)


class Command(TranslatedCommand):
    help = gettext_lazy(
        "生成村民小组公示（xlsx）：--month 为某月缴费公示，--year 与 --kind 为年度已缴费/"
        "未缴费名单；每个村一个文件，每个村民小组一个工作表，身份号码已遮蔽。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--region", required=True, help=_("县、乡镇或村的区划代码，如 530927203")
        )
        parser.add_argument("--month", help=_("月度公示的月份 YYYY-MM，如 2023-05"))
        parser.add_argument("--year", help=_("年度名单的缴费年度 YYYY，如 2023"))
        parser.add_argument(
            "--kind", choices=[Notice.Kind.PAID, Notice.Kind.UNPAID], help=_("paid 或 unpaid")
        )
        parser.add_argument("--out", required=True, type=Path, help=_("输出目录"))
        parser.add_argument(
            "--user",
            help=_("以该工作人员的身份生成（与页面相同的岗位和辖区检查）；不填则为系统生成"),
        )
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出结果"))

    def handle(self, *args, region, month, year, kind, out, user, json, **options):
        kind, period = self._kind_and_period(month, year, kind)
        found = Region.objects.filter(code=region).first()
        if found is None:
            raise CommandError(_("区划代码 %(code)s 不存在") % {"code": region})
        if found.level not in COMMAND_LEVELS:
            raise CommandError(
                _("区划代码 %(code)s 不是县、乡镇或村：公示按村生成") % {"code": region}
            )
        actor = self._actor(user)
        try:
            notice_check(region=found, kind=kind, period=period, actor=actor)
        except NoticeRejected as exc:
            raise CommandError(str(exc)) from None
        if not out.is_dir():
            raise CommandError(_("输出目录 %(dir)s 不存在") % {"dir": out})

        # Files are written under a temporary name first and the notices marked generated
        # only once every file is complete; a failure leaves neither files nor marks.
        written: list[tuple[Path, Path]] = []
        try:
            result = self._write_and_mark(found, kind, period, actor, out, written)
        except BaseException as exc:
            for partial, _final in written:
                partial.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                reason = exc.strerror or exc
                raise CommandError(
                    _("无法写入文件 %(file)s：%(reason)s")
                    % {"file": exc.filename, "reason": reason}
                ) from None
            if isinstance(exc, NoticeRejected):
                raise CommandError(str(exc)) from None
            raise

        files = [str(target) for _, target in written]
        if json:
            self.stdout.write(
                dumps(
                    {
                        "region": found.code,
                        "kind": kind,
                        "period": period,
                        "files": files,
                        "groups": result.groups,
                        "rows": result.rows,
                        "first_generated": result.first,
                    },
                    ensure_ascii=False,
                )
            )
            return
        label = Notice.Kind(kind).label
        self.stdout.write(
            _(
                "已生成 %(region)s %(period)s %(kind)s：%(villages)s 个村，"
                "%(groups)s 个村民小组，%(rows)s 人次 → %(out)s"
            )
            % {
                "region": found.name,
                "period": period,
                "kind": label,
                "villages": len(files),
                "groups": result.groups,
                "rows": result.rows,
                "out": out,
            }
        )

    @staticmethod
    def _kind_and_period(month, year, kind) -> tuple[str, str]:
        if bool(month) == bool(year):
            raise CommandError(
                _("请指定 --month（月度缴费公示）或 --year 与 --kind（年度名单），二者只能选其一")
            )
        if month:
            if kind:
                raise CommandError(_("--kind 只用于年度名单（--year），月度公示不需要"))
            return Notice.Kind.MONTHLY.value, month
        if not kind:
            raise CommandError(_("年度名单需要 --kind：paid（已缴费）或 unpaid（未缴费）"))
        return kind, year

    @staticmethod
    def _actor(username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("没有用户名为 %(username)s 的工作人员") % {"username": username})
        return user

    @staticmethod
    def _write_and_mark(region, kind, period, actor, out: Path, written: list) -> NoticeGeneration:
        counts: dict[str, int] = {}
        lines = notices_by_group(region=region, kind=kind, period=period)
        for _village, members in groupby(lines, key=lambda item: item[0].parent_id):
            notices = []
            for group, rows in members:
                counts[group.code] = len(rows)
                notices.append(group_notice(group=group, kind=kind, period=period, rows=rows))
                village = group.parent
            target = _target(out, village, kind, period, {t for _, t in written})
            partial = target.with_name(target.name + ".part")
            written.append((partial, target))
            write_notices(notices=notices, out=partial)
        result = notices_generate(
            region=region, kind=kind, period=period, actor=actor, counts=counts
        )
        for partial, target in written:
            os.replace(partial, target)
        return result


def _target(out: Path, village: Region, kind: str, period: str, taken: set[Path]) -> Path:
    # Village names repeat between townships; the township keeps the files apart, and the
    # village code the rare two villages of one name in one township.
    township = village.parent.name if village.parent else ""
    stem = f"{township}{village.name}_{Notice.Kind(kind).label}_{period}"
    target = out / f"{stem}.xlsx"
    return out / f"{stem}_{village.code}.xlsx" if target in taken else target
