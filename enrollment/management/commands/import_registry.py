from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollment.management.commands._import_command import ImportCommand, parse_day
from enrollment.services.jobs import ImportRefused, registry_import


class Command(ImportCommand):
    help = gettext_lazy("导入公安户籍数据并与在册参保人比对（每季度至少一次）。")

    def add_arguments(self, parser):
        self.add_common_arguments(parser)
        parser.add_argument("--as-of", required=True, help=_("户籍数据日期 YYYY-MM-DD"))

    def handle(self, *args, file, county, as_of, dry_run, strict, json, **options):
        from django.core.management.base import CommandError

        if not file.exists():
            raise CommandError(_("文件不存在：%(file)s") % {"file": file})
        try:
            outcome = registry_import(
                source=file, region=self.county(county), as_of=parse_day(as_of),
                filename=file.name, dry_run=dry_run, strict=strict,
            )  # fmt: skip
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        self.report(outcome, as_json=json)
