from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Email"

    def ready(self) -> None:
        from . import handlers, signals  # noqa: F401 - signals: the inbound webhook

        handlers.connect()
