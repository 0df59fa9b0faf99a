"""Schemathesis against /api/schema/, as a customer and as staff: no 5xx, and every
response matches the schema (status code, content type, body, headers).

A bounded run (``MAX_EXAMPLES`` valid and as many invalid inputs per operation) so
that it fits the suite; it drives schemathesis directly (hypothesis ``@given`` over
each operation's strategy) instead of through its pytest plugin, which the suite
does not load. Operations added by later capabilities are fuzzed without edits.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scalr_support.accounts.services import api_token_create

from .conftest import World

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@contextmanager
def same_connection() -> Iterator[None]:
    """Serve WSGI requests inside the test's transaction, as the test client does.

    Django closes "old" connections when a request starts and ends; outside the
    test client that would end the test's transaction mid-test.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema() -> schemathesis.BaseSchema:
    with same_connection():
        return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def operation_labels() -> list[str]:
    from django.urls import reverse  # noqa: F401 - URLconf loaded before the schema
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
    ]


@pytest.mark.parametrize("role", ["customer_a", "engineer"])
@pytest.mark.parametrize("label", operation_labels())
def test_fuzzed_requests_get_documented_answers(world: World, role: str, label: str):
    user = world.users[role]
    key = api_token_create(user=user, name="fuzz").key  # type: ignore[arg-type]
    schema = load_schema()
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    headers = {"Authorization": f"Token {key}"}
    known_number = {"number": world.ticket_a.number}
    path_parameters = known_number if "{number}" in label else None

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(
        case=operation.as_strategy(
            GenerationMode.POSITIVE, path_parameters=path_parameters
        )
        | operation.as_strategy(GenerationMode.NEGATIVE)
    )
    def fuzz(case: schemathesis.Case) -> None:
        with same_connection():
            response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    with pytest.MonkeyPatch.context() as patch:
        # Throttling is tested elsewhere; here it would only cut the run short.
        from django.conf import settings

        rates = {"anon": "100000/min", "user": "100000/min"}
        patch.setitem(settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES", rates)
        from rest_framework.settings import api_settings

        api_settings.reload()
        try:
            fuzz()
        finally:
            api_settings.reload()
