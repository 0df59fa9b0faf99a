"""The Celery application, wired the standard way (settings prefixed CELERY_)."""

import logging
import os
from importlib.metadata import version as installed_version
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scalr_support.settings.local")

app = Celery("scalr_support", task_cls="scalr_support.common.tasks:ProjectTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# The kombu releases whose Redis ``QoS.restore_unacked`` the guard below was
# written against and checked on (the code is unchanged through 5.7.0). Any other
# release is left alone, with a warning: re-check the fault suite's Redis
# scenario, then widen the range or drop the guard.
KOMBU_GUARDED = ((5, 7), (5, 8))


KOMBU_VERSION = installed_version("kombu")


def kombu_release(version: str = KOMBU_VERSION) -> tuple[int, int]:
    """Return kombu's (major, minor) release from its version string."""
    major, minor = version.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def _survive_broker_loss(version: str = KOMBU_VERSION) -> bool:
    """Keep the worker alive when Redis vanishes while a task is running.

    kombu's Redis transport, closing the lost connection, tries to put the
    running (late-acknowledged) messages back on the broker it just lost, fails
    with an ``AttributeError`` and takes the whole worker down ("Unrecoverable
    error"); seen in the fault suite. Those messages are either still in Redis's
    unacknowledged set (redelivered after the visibility timeout) or gone with
    Redis, and the sweeps re-drive their work from PostgreSQL either way, so the
    failed restore is logged and the worker goes on to reconnect.

    Patches a private method, so only on the kombu releases in ``KOMBU_GUARDED``;
    returns whether the guard is in place.
    """
    low, high = KOMBU_GUARDED
    if not low <= kombu_release(version) < high:
        logger.warning(
            "kombu %s is outside %s-%s: the broker-loss guard is not applied",
            version,
            ".".join(map(str, low)),
            ".".join(map(str, high)),
        )
        return False

    from kombu.transport import redis as kombu_redis
    from redis.exceptions import RedisError

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "guarded", False):
        return True

    def restore_unacked(self: kombu_redis.QoS, client: Any = None) -> None:
        try:
            original(self, client)
        except (AttributeError, RedisError, OSError) as error:
            delivered = self._delivered
            logger.warning(
                "broker lost: %s running message(s) not restored (%s); the "
                "visibility timeout and the sweeps deliver them again",
                len(delivered or ()),
                type(error).__name__,
            )
            if delivered:
                delivered.clear()

    restore_unacked.guarded = True  # type: ignore[attr-defined]
    kombu_redis.QoS.restore_unacked = restore_unacked  # type: ignore[method-assign,assignment]
    return True


_survive_broker_loss()


@setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Log the worker and beat through settings.LOGGING (JSON lines with task ids).

    Connecting this signal stops Celery from installing its own handlers and
    format on the root logger; ``--loglevel`` then has no effect, LOG_LEVEL does.
    """
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


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
