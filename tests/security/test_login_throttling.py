"""Sign-in lockout (django-axes) that tells nobody which accounts exist."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def normalised(response) -> str:
    """The page without its per-request CSRF token."""
    return _CSRF.sub("", response.content.decode())


WRONG_PASSWORD = "wrong-password"


def attempt(client, email: str, password: str = WRONG_PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_failed_sign_in_looks_the_same_for_known_and_unknown_accounts(client, alice):
    known = attempt(client, alice.user.email)
    unknown = attempt(client, "nobody@acme.example.com")

    assert known.status_code == unknown.status_code == 200
    assert normalised(known).replace(alice.user.email, "EMAIL") == normalised(
        unknown
    ).replace("nobody@acme.example.com", "EMAIL")


def test_lockout_looks_the_same_for_known_and_unknown_accounts(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, alice.user.email)
        attempt(client, "nobody@acme.example.com")

    known = attempt(client, alice.user.email)
    unknown = attempt(client, "nobody@acme.example.com")

    assert known.status_code == unknown.status_code == 429
    assert normalised(known) == normalised(unknown)


def test_locked_account_refuses_even_the_right_password(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, alice.user.email)

    response = attempt(client, alice.user.email, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account_and_address(client, alice, bob, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, alice.user.email)

    other_account = attempt(client, bob.user.email, PASSWORD)
    other_address = client.post(
        reverse("login"),
        {"username": alice.user.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.99",
    )

    assert other_account.status_code == 302
    assert other_address.status_code == 302


def test_admin_sign_in_is_throttled_too(client, engineer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": engineer.email, "password": "wrong"})

    response = client.post(
        "/admin/login/", {"username": engineer.email, "password": PASSWORD}
    )

    assert response.status_code == 429


def test_password_reset_answers_the_same_for_known_and_unknown_accounts(
    client, alice, mailoutbox
):
    known = client.post(reverse("password_reset"), {"email": alice.user.email})
    unknown = client.post(reverse("password_reset"), {"email": "ghost@example.com"})
    known_page = client.get(known["Location"])
    unknown_page = client.get(unknown["Location"])

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert normalised(known_page) == normalised(unknown_page)
    assert len(mailoutbox) == 0  # mailed by a worker, after the answer
