"""Celery plumbing: the project's task class, and enqueueing after commit."""

import logging
from typing import Any

from celery import Task
from celery.contrib.django.task import DjangoTask
from django.db import InterfaceError, OperationalError, transaction

from .retry import TASK_BACKOFF

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any) -> None:
    """Send ``task``; if the broker is down, log and rely on the sweeps.

    Call once the database row that describes the work is committed: a periodic
    sweep finds it again, so losing the message is a delay, not a loss.
    """
    try:
        task.apply_async(args=args)
    except Exception:
        logger.warning("broker unavailable; %s will be picked up by a sweep", task.name)


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """``enqueue`` the task once the open transaction commits."""
    transaction.on_commit(lambda: enqueue(task, *args))


class ProjectTask(DjangoTask):
    """Every task of the project: retried when the database is briefly away.

    Only the named transient errors are retried: the server restarting or
    unreachable, a dropped connection, a deadlock or serialisation failure
    (psycopg's ``TransactionRollbackError`` is an ``OperationalError``). Backoff
    doubles from 2 s with jitter, at most 60 s apart, 10 times (about 8 minutes),
    then the task fails and the sweeps pick the work up again from its row. Tasks
    are idempotent, so a retry after a half-done attempt repeats nothing.
    """

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = int(TASK_BACKOFF.first)
    retry_backoff_max = int(TASK_BACKOFF.cap)
    retry_jitter = True
    max_retries = 10
