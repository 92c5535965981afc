from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    name = "collection"
    verbose_name = _("征缴")

    def ready(self) -> None:
        from collection import dashboard
        from collection.selectors import resident_payments
        from enrollment.panels import ResidentPanel, register_resident_panel

        register_resident_panel(
            ResidentPanel(
                key="payments",
                title=_("缴费记录"),
                template_name="collection/panels/resident_payments.html",
                context=lambda *, resident, user: {
                    "payments": resident_payments(resident=resident)
                },
                order=10,
            )
        )
        dashboard.register()
        from collection.exporters.payments import PAYMENT_HEADER, payment_export_rows
        from pension.exports import ExportKind, register_export

        register_export(
            ExportKind(
                key="payments", label=_("缴费记录"), header=PAYMENT_HEADER,
                rows=payment_export_rows, sheet=_("缴费记录"),
            )
        )  # fmt: skip
