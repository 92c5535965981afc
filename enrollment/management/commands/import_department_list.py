from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollment.management.commands._import_command import ImportCommand, parse_day
from enrollment.services.departments import ALL_CATEGORIES
from enrollment.services.jobs import ImportRefused, department_import


class Command(ImportCommand):
    help = gettext_lazy(
        "导入部门名单（特殊群体或不属参保范围人员）并与在册参保人比对（每月至少一次）。"
    )

    def add_arguments(self, parser):
        self.add_common_arguments(parser)
        parser.add_argument("--category", required=True, choices=ALL_CATEGORIES)
        parser.add_argument("--list-date", required=True, help=_("名单日期 YYYY-MM-DD"))

    def handle(self, *args, file, county, category, list_date, dry_run, strict, json, **options):
        from django.core.management.base import CommandError

        if not file.exists():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        try:
            outcome = department_import(
                source=file, region=self.county(county), category=category,
                list_date=parse_day(list_date), filename=file.name, dry_run=dry_run,
                strict=strict,
            )  # fmt: skip
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.report(outcome, as_json=json)
