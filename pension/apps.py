from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PensionConfig(AppConfig):
    name = "pension"
    verbose_name = _("基础数据")
