from django.apps import AppConfig


class DemoConfig(AppConfig):
    """``manage.py seed_demo``: at the top of the layers, it may use every app."""

    name = "scalr_support.demo"
    label = "demo"
    verbose_name = "Demo data"
