from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("参保登记")

    def ready(self) -> None:
        from enrollment import dashboard
        from enrollment.exporters import RESIDENT_HEADER, resident_export_rows
        from pension.exports import ExportKind, register_export

        dashboard.register()
        register_export(
            ExportKind(
                key="residents", label=_("参保人名单"), header=RESIDENT_HEADER,
                rows=resident_export_rows, sheet=pgettext_lazy("plural", "参保人"),
            )
        )  # fmt: skip
