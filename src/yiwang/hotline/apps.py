from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "yiwang.hotline"
    label = "hotline"
    verbose_name = "12345热线"

    def ready(self) -> None:
        from . import rules  # noqa: F401 - registers the permission rules
