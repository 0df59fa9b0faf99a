from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "scalr_support.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from .backends import connect_signals
        from .groups import ensure_staff_groups

        post_migrate.connect(ensure_staff_groups, sender=self)
        connect_signals()
