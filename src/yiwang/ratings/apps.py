from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "yiwang.ratings"
    label = "ratings"
    verbose_name = "好差评"

    def ready(self) -> None:
        from . import hooks, rules  # noqa: F401 - registers permission rules and the optional targets

        hooks.connect()
