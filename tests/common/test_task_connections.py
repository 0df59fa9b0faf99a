"""Workers keep their database connection between tasks, as web processes do."""

from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from scalr_support.celery import _recycle_database_connections, app

pytestmark = pytest.mark.django_db(transaction=True)

A_TASK = SimpleNamespace(request=SimpleNamespace(is_eager=False))


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def long_lived(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    connection.close()
    yield
    connection.close()


def test_a_connection_outlives_the_tasks_that_use_it(long_lived):
    first = backend_pid()

    for _ in range(3):
        _recycle_database_connections(task=A_TASK)  # task_prerun
        DjangoWorkerFixup(app).close_database()  # Celery's own hook
        _recycle_database_connections(task=A_TASK)  # task_postrun

    assert backend_pid() == first


def test_a_task_after_the_server_dropped_the_connection_reconnects(long_lived):
    first = backend_pid()
    other = connection.get_new_connection(connection.get_connection_params())
    try:  # another session ends ours, as a server restart would
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    finally:
        other.close()

    _recycle_database_connections(task=A_TASK)

    assert backend_pid() != first
