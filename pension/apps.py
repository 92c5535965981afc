from django.apps import AppConfig


class PensionConfig(AppConfig):
    name = "pension"
    verbose_name = "基础数据"
