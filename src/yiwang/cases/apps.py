from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = "办件"

    def ready(self) -> None:
        from . import (
            followups,  # noqa: F401 - 一件事, 容缺/告知承诺, 代办, 出件送达, 督办 (guards and observers)
            rules,  # noqa: F401 - registers the permission rules
            signals,  # noqa: F401 - subscribes to the calendar_changed event
        )
