"""Hand-written hostile input: every answer is a 4xx in the API's JSON error shape."""

import base64

import pytest

from tests.factories import TicketFactory
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


def assert_client_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    assert body
    return body


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),  # absurd nesting
        ('{"subject": "\\ud800"}', "application/json"),  # lone surrogate
        ("\xff\xfe garbage", "application/json"),
        ("", "application/json"),
        ("null", "application/json"),
        ("[]", "application/json"),
        ('"a string"', "application/json"),
        ("12345678901234567890123456789", "application/json"),
        ("--broken\r\n\r\n", "multipart/form-data; boundary=broken"),
        ("--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data"),
    ],
)
def test_malformed_bodies_are_client_errors(alice_api, body, content_type):
    response = alice_api.generic(
        "POST",
        "/api/v1/tickets/",
        body.encode("utf-8", "surrogatepass"),
        content_type=content_type,
    )

    assert_client_error(response)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "values",
    [
        {"subject": "a\x00b"},
        {"subject": {"nested": "object"}},
        {"priority": True},
        {"priority": 1.5},
        {"priority": -1},
        {"priority": 2**70},
        {"priority": "1e400"},
        {"category": None},
        {"description": "x" * 100_001},
        {"version_reported": "v" * 41},
        {"attachments": "not-a-list"},
        {"deployment": ["saas"]},
    ],
)
def test_wrong_types_and_sizes_are_field_errors(alice_api, values):
    body = {
        "subject": "s",
        "description": "d",
        "priority": 3,
        "category": "bug",
        **values,
    }

    response = alice_api.post("/api/v1/tickets/", body, format="json")

    errors = assert_client_error(response)
    assert set(values) <= set(errors)


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": base64.b64encode(b"o=abc").decode()},
        {"cursor": base64.b64encode(b"p=2026-99-99T00:00:00&o=1").decode()},
        {"cursor": base64.b64encode(b"p=\x00&r=1").decode()},
        {"priority": "99999999999999999999999"},
        {"organization": "-1"},
        {"updated_since": "2026-02-30T00:00:00Z"},
        {"status": "\x00"},
    ],
)
def test_bad_query_strings_are_field_errors(alice_api, query):
    response = alice_api.get("/api/v1/tickets/", query)

    assert_client_error(response)


def test_odd_page_sizes_fall_back_to_the_default(alice_api, alice):
    for _ in range(3):
        TicketFactory(organization=alice.organization)
    for size in ("0", "-5", "abc", "100000000000000000000", "2"):
        response = alice_api.get("/api/v1/tickets/", {"page_size": size})

        assert response.status_code == 200
        assert len(response.json()["results"]) == (2 if size == "2" else 3)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/abc/",
        "/api/v1/tickets/-1/",
        "/api/v1/tickets/99999999999999999999999999/comments/",
        "/api/v1/no-such-endpoint/",
        "/api/v1/tickets/1/attachments/99999999999999999999999/",
    ],
)
def test_unknown_api_urls_answer_json_404(alice_api, path):
    body = assert_client_error(alice_api.get(path), status=404)

    assert body["code"] == "not_found"


def test_comment_body_with_nul_is_refused_and_saves_nothing(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = alice_api.post(
        f"/api/v1/tickets/{ticket.number}/comments/",
        {"body": "hello\x00world"},
        format="json",
    )

    assert "body" in assert_client_error(response)
    assert not Comment.objects.exists()


def test_too_many_files_in_one_request_is_a_client_error(alice_api, alice, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    ticket = TicketFactory(organization=alice.organization)

    response = alice_api.post(
        f"/api/v1/tickets/{ticket.number}/attachments/",
        {"attachments": [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(5)]},
        format="multipart",
    )

    assert_client_error(response)
    assert not ticket.attachments.exists()


def test_unsupported_methods_are_405_in_json(alice_api):
    body = assert_client_error(alice_api.put("/api/v1/tickets/", {}), status=405)

    assert body["code"] == "method_not_allowed"
