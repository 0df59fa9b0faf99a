"""The Celery application, wired the standard way (settings prefixed CELERY_)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scalr_support.settings.local")

app = Celery("scalr_support", task_cls="scalr_support.common.tasks:ProjectTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
