from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self) -> None:
        from . import (
            rules,  # noqa: F401 - registers the permission rules
            signals,  # noqa: F401 - subscribes to the calendar_changed event
        )
