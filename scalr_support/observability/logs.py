"""Log records that say which request or task wrote them.

The ids are added by a filter on the handler, so every record that reaches it is
tagged: the project's own loggers, Django's, Celery's and the libraries'. The
formats are in scalr_support/settings/logging.py.
"""

import logging

from celery import current_task
from django_guid import get_guid


class ContextFilter(logging.Filter):
    """Set ``request_id``, ``task_id`` and ``task_name`` on every record.

    The request id is django-guid's (the incoming ``X-Request-ID`` or a new one;
    in a task, the id of the request that queued it). The task fields are the
    running Celery task's, None outside a task, so that every line has the same
    keys and a missing id is visible as null.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_guid()
        task = current_task
        if task and task.request.id is not None:
            record.task_id = task.request.id
            record.task_name = task.name
        else:
            record.task_id = None
            record.task_name = None
        return True
