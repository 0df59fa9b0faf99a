"""Password reset: a link on SITE_URL, mailed from the outbox, rate-limited."""

import pytest
from django.urls import reverse

from notifications.models import EmailDelivery, Event
from notifications.services import deliveries_send_for_event
from scalr_support.accounts import password_reset

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def published(monkeypatch):
    """The tasks the requests hand to the broker, for the test to run as a worker."""
    sent: list[tuple[object, tuple[object, ...]]] = []
    monkeypatch.setattr(
        password_reset, "enqueue", lambda task, *args: sent.append((task, args))
    )
    return sent


def send_queued(published) -> None:
    """What the workers do: the request's task, then the outbox's."""
    for task, args in published:
        task(*args)
    for key in EmailDelivery.objects.filter(event=Event.PASSWORD_RESET).values_list(
        "event_key", flat=True
    ):
        deliveries_send_for_event(event_key=key)


def test_the_link_is_built_from_site_url_not_the_host_header(
    client, alice, mailoutbox, settings, published
):
    settings.SITE_URL = "https://support.scalr.example"
    settings.ALLOWED_HOSTS = ["*"]

    response = client.post(
        reverse("password_reset"),
        {"email": alice.user.email},
        HTTP_HOST="localhost:1337",
    )
    send_queued(published)

    assert response.status_code == 302
    (mail,) = mailoutbox
    assert "localhost:1337" not in mail.body
    assert "https://support.scalr.example/accounts/reset/" in mail.body
    assert "reply above this line" not in mail.body.lower()


def test_the_link_sets_a_new_password(client, alice, mailoutbox, published):
    client.post(reverse("password_reset"), {"email": alice.user.email})
    send_queued(published)
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


def test_known_and_unknown_addresses_do_the_same_work_in_the_request(
    client, alice, mailoutbox, published, django_assert_num_queries
):
    """Nothing in the request reads the accounts: the answer's time says nothing."""
    with django_assert_num_queries(0):
        known = client.post(reverse("password_reset"), {"email": alice.user.email})
    with django_assert_num_queries(0):
        unknown = client.post(reverse("password_reset"), {"email": "ghost@x.example"})

    assert known.status_code == unknown.status_code == 302
    assert mailoutbox == []
    assert not EmailDelivery.objects.exists()
    assert [args[0] for _task, args in published] == [
        alice.user.email,
        "ghost@x.example",
    ]


def test_the_task_delivered_twice_mails_once(client, alice, mailoutbox, published):
    client.post(reverse("password_reset"), {"email": alice.user.email})
    ((task, args),) = published

    assert task(*args) == 1
    assert task(*args) == 1
    send_queued([])

    assert len(mailoutbox) == 1
    assert (
        password_reset.password_reset_queue(email="ghost@x.example", request_key="k")
        == 0
    )


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
