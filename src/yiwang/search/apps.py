from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "yiwang.search"
    label = "search"
    verbose_name = "搜索"

    def ready(self) -> None:
        from . import rules, signals  # noqa: F401

        signals.connect_sources()
