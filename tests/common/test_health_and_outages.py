"""/healthz, the 503 answer to a database outage, and the cache that outlives Redis."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from scalr_support.common.cache import ResilientRedisCache
from scalr_support.common.tasks import ProjectTask
from scalr_support.common.views import server_error

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.django_db
def test_healthz_is_ok_when_postgres_and_redis_answer():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_degraded_but_serving_without_the_broker(settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT_REDIS

    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"] == {"database": "ok", "broker": "unavailable"}


@pytest.mark.django_db
def test_healthz_is_503_without_the_database():
    with mock.patch(
        "scalr_support.common.views.connection.cursor",
        side_effect=OperationalError("connection refused"),
    ):
        response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unavailable"


def _failing(path: str, error: Exception):
    request = mock.Mock(path=path)
    try:
        raise error
    except Exception:
        return server_error(request)


@pytest.mark.parametrize("path", ["/tickets/", "/tickets/7/", "/accounts/login/"])
def test_a_database_outage_is_a_clean_503_page(path):
    response = _failing(path, OperationalError("server closed the connection"))

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    page = response.content.decode()
    assert "Back in a moment" in page
    assert "Traceback" not in page
    assert "OperationalError" not in page


@pytest.mark.parametrize("path", ["/api/v1/tickets/", "/anymail/postmark/inbound/"])
def test_a_database_outage_is_a_json_503_for_machines(path):
    response = _failing(path, OperationalError("could not connect"))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert b'"code": "service_unavailable"' in response.content


def test_other_errors_stay_500_json_under_the_api():
    response = _failing("/api/v1/tickets/", ValueError("bug"))

    assert response.status_code == 500
    assert b'"code": "server_error"' in response.content


@pytest.mark.django_db
def test_a_database_error_in_a_page_reaches_the_503_handler(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice.user)
    with mock.patch(
        "tickets.views.selectors.ticket_list",
        side_effect=OperationalError("terminating connection"),
    ):
        response = client.get("/tickets/")

    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()


def test_the_cache_misses_instead_of_failing_when_redis_is_down():
    cache = ResilientRedisCache(
        CLOSED_PORT_REDIS,
        {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
    )

    assert cache.get("releases", "default") == "default"
    cache.set("releases", [1, 2])
    assert cache.get_many(["a", "b"]) == {}
    cache.delete("releases")


def test_the_cache_reuses_one_redis_client_and_takes_any_key(settings):
    cache = ResilientRedisCache(settings.CACHES["default"]["LOCATION"], {})

    cache.set("tab counts: user 7", {"open": 3})

    assert cache.get("tab counts: user 7") == {"open": 3}
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    cache.delete("tab counts: user 7")


def test_tasks_retry_named_transient_database_errors_only():
    from notifications.tasks import process_inbound

    assert ProjectTask.autoretry_for == (OperationalError, InterfaceError)
    assert process_inbound.autoretry_for == ProjectTask.autoretry_for
    assert (ProjectTask.max_retries, ProjectTask.retry_backoff_max) == (10, 60)
