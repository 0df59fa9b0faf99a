from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        # Register the sweep and notify tasks in every process that loads Django,
        # not only in workers that run autodiscovery: beat entries name them.
        from . import tasks  # noqa: F401
