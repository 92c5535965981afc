from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "参保登记"

    def ready(self) -> None:
        from enrollment import dashboard

        dashboard.register()
