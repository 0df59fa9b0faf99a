from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "scalr_support.common"
    label = "common"
