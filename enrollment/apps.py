from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "参保登记"

    def ready(self) -> None:
        from enrollment import dashboard
        from enrollment.exporters import RESIDENT_HEADER, resident_export_rows
        from pension.exports import ExportKind, register_export

        dashboard.register()
        register_export(
            ExportKind(
                key="residents", label="参保人名单", header=RESIDENT_HEADER,
                rows=resident_export_rows, sheet="参保人",
            )
        )  # fmt: skip
