from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        # Register the sweep and notify tasks in every process that loads Django,
        # not only in workers that run autodiscovery: beat entries name them.
        from tickets.sla_reads import sla_reads_register

        from . import handlers, tasks  # noqa: F401
        from .reads import SlaReadsProvider

        handlers.connect()
        sla_reads_register(SlaReadsProvider())
