"""The Celery application, wired the standard way (settings prefixed CELERY_)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scalr_support.settings.local")

app = Celery("scalr_support", task_cls="scalr_support.common.tasks:ProjectTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _survive_broker_loss() -> None:
    """Keep the worker alive when Redis vanishes while a task is running.

    kombu's Redis transport, closing the lost connection, tries to put the
    running (late-acknowledged) messages back on the broker it just lost, fails
    with an ``AttributeError`` and takes the whole worker down ("Unrecoverable
    error"); seen in the fault suite. Those messages are either still in Redis's
    unacknowledged set (redelivered after the visibility timeout) or gone with
    Redis, and the sweeps re-drive their work from PostgreSQL either way, so the
    failed restore is logged and the worker goes on to reconnect.
    """
    import logging

    from kombu.transport import redis as kombu_redis
    from redis.exceptions import RedisError

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "guarded", False):
        return

    def restore_unacked(self: kombu_redis.QoS, client: Any = None) -> None:
        try:
            original(self, client)
        except (AttributeError, RedisError, OSError) as error:
            delivered = self._delivered
            logging.getLogger(__name__).warning(
                "broker lost: %s running message(s) not restored (%s); the "
                "visibility timeout and the sweeps deliver them again",
                len(delivered or ()),
                type(error).__name__,
            )
            if delivered:
                delivered.clear()

    restore_unacked.guarded = True  # type: ignore[attr-defined]
    kombu_redis.QoS.restore_unacked = restore_unacked  # type: ignore[method-assign,assignment]


_survive_broker_loss()


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(task: Any = None, **_: Any) -> None:
    """Treat a task like a request: keep a healthy connection, drop a spent one.

    What Django does at the start and end of each request: a connection older
    than CONN_MAX_AGE or that saw an error is closed, and one that is kept is
    health-checked before its next query (CONN_HEALTH_CHECKS), so a task after a
    PostgreSQL restart reconnects instead of failing. Celery's own fix-up would
    close the connection around every task (``CELERY_DB_REUSE_MAX``). Tasks run
    eagerly (``apply()``) are inside their caller's transaction: left alone.
    """
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
