"""Password reset: a link on SITE_URL, mailed from the outbox, rate-limited."""

import pytest
from django.urls import reverse

from notifications.models import EmailDelivery, Event
from notifications.services import deliveries_send_for_event

pytestmark = pytest.mark.django_db


def send_queued() -> None:
    for key in EmailDelivery.objects.filter(event=Event.PASSWORD_RESET).values_list(
        "event_key", flat=True
    ):
        deliveries_send_for_event(event_key=key)


def test_the_link_is_built_from_site_url_not_the_host_header(
    client, alice, mailoutbox, settings
):
    settings.SITE_URL = "https://support.scalr.example"
    settings.ALLOWED_HOSTS = ["*"]

    response = client.post(
        reverse("password_reset"),
        {"email": alice.user.email},
        HTTP_HOST="localhost:1337",
    )
    send_queued()

    assert response.status_code == 302
    (mail,) = mailoutbox
    assert "localhost:1337" not in mail.body
    assert "https://support.scalr.example/accounts/reset/" in mail.body
    assert "reply above this line" not in mail.body.lower()


def test_the_link_sets_a_new_password(client, alice, mailoutbox):
    client.post(reverse("password_reset"), {"email": alice.user.email})
    send_queued()
    link = next(
        line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line
    )
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    form = client.get(path, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "a-brand-new-pass-2026",
            "new_password2": "a-brand-new-pass-2026",
        },
    )

    assert done.status_code == 302
    alice.user.refresh_from_db()
    assert alice.user.check_password("a-brand-new-pass-2026")


def test_no_mail_is_sent_while_the_visitor_waits(client, alice, mailoutbox):
    """The outbox row is written in the request; a worker sends it after commit."""
    response = client.post(reverse("password_reset"), {"email": alice.user.email})

    assert response.status_code == 302
    assert mailoutbox == []
    assert EmailDelivery.objects.filter(
        event=Event.PASSWORD_RESET, recipient=alice.user
    ).exists()


def test_requests_for_one_account_are_limited(client, alice, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 3
    answers = [
        client.post(
            reverse("password_reset"),
            {"email": alice.user.email},
            REMOTE_ADDR=f"198.51.100.{n}",
        ).status_code
        for n in range(5)
    ]

    assert answers == [302, 302, 302, 429, 429]
    assert EmailDelivery.objects.filter(event=Event.PASSWORD_RESET).count() == 3


def test_unknown_accounts_are_limited_the_same_way(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT = 1
    first = client.post(reverse("password_reset"), {"email": "ghost@example.com"})
    second = client.post(reverse("password_reset"), {"email": "ghost@example.com"})

    assert (first.status_code, second.status_code) == (302, 429)
    assert "Too many password reset requests" in second.content.decode()


def test_requests_from_one_client_address_are_limited(client, settings):
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 2
    answers = [
        client.post(
            reverse("password_reset"),
            {"email": f"someone{n}@example.com"},
            REMOTE_ADDR="203.0.113.9",
        ).status_code
        for n in range(3)
    ]

    assert answers == [302, 302, 429]
