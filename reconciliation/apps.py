from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = _("对账")

    def ready(self) -> None:
        from reconciliation import dashboard

        dashboard.register()
