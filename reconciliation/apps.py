from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "对账"

    def ready(self) -> None:
        from reconciliation import dashboard

        dashboard.register()
