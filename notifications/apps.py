from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Email"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the inbound webhook receiver
