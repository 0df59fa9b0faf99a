"""API tokens (hashed, shown once, revocable), the session with CSRF, throttling."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from scalr_support.accounts.models import ApiToken
from scalr_support.accounts.services import (
    MAX_ACTIVE_TOKENS,
    api_token_create,
    api_token_revoke,
)
from tests.conftest import signed_in
from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- tokens -----------------------------------------------------------------------


def test_token_authenticates_as_its_owner(alice):
    issued = api_token_create(user=alice.user, name="CI")
    own = TicketFactory(organization=alice.organization)

    response = with_key(issued.key).get("/api/v1/tickets/")

    assert response.status_code == 200
    assert [t["number"] for t in response.json()["results"]] == [own.number]


def test_token_is_stored_hashed_and_never_in_clear(alice):
    issued = api_token_create(user=alice.user, name="CI")
    stored = ApiToken.objects.get()

    secret = issued.key.split("_", 2)[2]
    assert issued.key.startswith(f"sst_{stored.prefix}_")
    assert secret not in stored.secret_hash
    assert len(stored.secret_hash) == 64
    assert secret not in repr(stored.__dict__)


@pytest.mark.parametrize(
    "header",
    [
        "Token sst_deadbeef_wrongsecret",
        "Token garbage",
        "Token",
        "Token a b",
        "Token sst__",
        "Token " + "x" * 5000,
    ],
)
def test_bad_tokens_answer_401_with_one_message(alice, header):
    api_token_create(user=alice.user, name="CI")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/tickets/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}


def test_revoked_token_and_inactive_user_are_refused(alice, bob):
    revoked = api_token_create(user=alice.user, name="old")
    api_token_revoke(token=revoked.token)
    inactive = api_token_create(user=bob.user, name="CI")
    bob.user.is_active = False
    bob.user.save(update_fields=["is_active"])

    assert with_key(revoked.key).get("/api/v1/").status_code == 401
    assert with_key(inactive.key).get("/api/v1/").status_code == 401


def test_right_prefix_with_wrong_secret_is_refused(alice):
    issued = api_token_create(user=alice.user, name="CI")
    forged = issued.key[: issued.key.rindex("_") + 1] + "A" * 43

    assert with_key(forged).get("/api/v1/").status_code == 401


def test_use_is_recorded_on_the_token(alice):
    issued = api_token_create(user=alice.user, name="CI")

    with_key(issued.key).get("/api/v1/")

    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


def test_no_credentials_is_401_with_the_token_challenge():
    response = APIClient().get("/api/v1/tickets/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_active_tokens_per_user_are_capped(alice):
    for n in range(MAX_ACTIVE_TOKENS):
        api_token_create(user=alice.user, name=f"t{n}")

    from scalr_support.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        api_token_create(user=alice.user, name="one too many")


# --- the command ----------------------------------------------------------------


def test_create_api_token_command_prints_a_working_key(alice):
    out = io.StringIO()

    call_command("create_api_token", "Alice@Acme.example.com", stdout=out)

    key = out.getvalue().strip()
    assert key.startswith("sst_")
    assert with_key(key).get("/api/v1/").status_code == 200


def test_create_api_token_command_refuses_unknown_email(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_token", "ghost@example.com", stdout=io.StringIO())


# --- the portal page --------------------------------------------------------------


def test_token_page_shows_a_new_key_once(alice_client, alice):
    created = alice_client.post(reverse("accounts:tokens"), {"name": "Terraform"})
    key = created.context["new_key"]
    listed = alice_client.get(reverse("accounts:tokens"))

    assert created.status_code == 200
    assert key in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert key not in listed.content.decode()
    assert "Terraform" in listed.content.decode()
    assert with_key(key).get("/api/v1/").status_code == 200


def test_token_page_refuses_an_empty_name(alice_client):
    response = alice_client.post(reverse("accounts:tokens"), {"name": "  "})

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_token_page_revokes(alice_client, alice):
    issued = api_token_create(user=alice.user, name="CI")

    response = alice_client.post(
        reverse("accounts:token-revoke", args=[issued.token.pk])
    )

    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert with_key(issued.key).get("/api/v1/").status_code == 401


def test_revoking_someone_elses_token_is_not_found(gina_client, alice):
    issued = api_token_create(user=alice.user, name="CI")

    response = gina_client.post(
        reverse("accounts:token-revoke", args=[issued.token.pk])
    )

    assert response.status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_token_pages_need_sign_in_and_csrf(alice):
    assert Client().get(reverse("accounts:tokens")).status_code == 302
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)

    response = client.post(reverse("accounts:tokens"), {"name": "CI"})

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


# --- the browser session ----------------------------------------------------------


def test_session_reads_the_api(alice_client, alice):
    TicketFactory(organization=alice.organization)

    response = alice_client.get("/api/v1/tickets/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_session_writes_need_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    body = {"subject": "s", "description": "d", "priority": 3, "category": "bug"}

    refused = client.post("/api/v1/tickets/", body, content_type="application/json")
    client.get(reverse("tickets:list"))  # sets the CSRF cookie, as a browser would
    accepted = client.post(
        "/api/v1/tickets/",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201
    assert Ticket.objects.count() == 1


# --- throttling -------------------------------------------------------------------


def test_anonymous_clients_are_throttled_per_address(settings, db):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "1000/min"},
    }
    client = APIClient()

    statuses = [client.get("/api/v1/").status_code for _ in range(4)]
    other_address = client.get("/api/v1/", REMOTE_ADDR="10.9.9.9")
    spoofed = client.get("/api/v1/", HTTP_X_FORWARDED_FOR="10.1.2.3")

    assert statuses == [401, 401, 401, 429]
    assert other_address.status_code == 401
    assert spoofed.status_code == 429  # X-Forwarded-For is not trusted by default


def test_each_user_is_throttled_separately(settings, alice, gina):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "2/min"},
    }
    alice_api = with_key(api_token_create(user=alice.user, name="a").key)
    gina_api = with_key(api_token_create(user=gina.user, name="g").key)

    alice_statuses = [alice_api.get("/api/v1/").status_code for _ in range(3)]
    gina_status = gina_api.get("/api/v1/").status_code
    throttled = alice_api.get("/api/v1/")

    assert alice_statuses == [200, 200, 429]
    assert gina_status == 200
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_signed_in_session_counts_against_the_user(settings, alice):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1/min"},
    }
    client = signed_in(alice.user)

    assert client.get("/api/v1/").status_code == 200
    assert client.get("/api/v1/").status_code == 429
