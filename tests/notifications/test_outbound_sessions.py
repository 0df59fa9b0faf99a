"""An event's mail goes out over one SMTP session; a failure costs only its message."""

import socket

import pytest
from aiosmtpd.controller import Controller

from notifications import services
from notifications.models import DeliveryStatus, EmailDelivery, Event
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


class Sink:
    """A mail server that remembers each message with the session it came in."""

    def __init__(self, refuse: set[int] = frozenset()) -> None:
        self.refuse = refuse  # 1-based message numbers answered 451
        self.received: list[tuple[object, list[str]]] = []
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.attempts += 1
        if self.attempts in self.refuse:
            return "451 4.3.0 try again later"
        self.received.append((session, envelope.rcpt_tos))
        return "250 OK"

    def sessions(self) -> int:
        unique: list[object] = []
        for session, _ in self.received:
            if not any(session is seen for seen in unique):
                unique.append(session)
        return len(unique)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    def start(sink: Sink) -> Sink:
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return sink

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


def solved_event_for(contacts: int, alice) -> str:
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    others = ContactFactory.create_batch(contacts - 1, organization=alice.organization)
    services.notification_enqueue(
        event=Event.TICKET_SOLVED,
        event_key="solved-batch",
        recipients=[alice.user, *(contact.user for contact in others)],
        ticket=ticket,
    )
    return "solved-batch"


def test_an_events_mail_shares_one_smtp_session(alice, smtp_sink):
    sink = smtp_sink(Sink())
    key = solved_event_for(5, alice)

    assert services.deliveries_send_for_event(event_key=key) == 5

    assert len(sink.received) == 5
    assert sink.sessions() == 1
    assert set(
        EmailDelivery.objects.filter(event_key=key).values_list("status", flat=True)
    ) == {DeliveryStatus.SENT}


def test_a_refused_message_is_retried_later_and_the_rest_go_on_a_new_session(
    alice, smtp_sink
):
    sink = smtp_sink(Sink(refuse={2}))
    key = solved_event_for(5, alice)

    assert services.deliveries_send_for_event(event_key=key) == 4

    statuses = sorted(
        EmailDelivery.objects.filter(event_key=key).values_list("status", flat=True)
    )
    assert statuses == [DeliveryStatus.PENDING] + [DeliveryStatus.SENT] * 4
    retry = EmailDelivery.objects.get(event_key=key, status=DeliveryStatus.PENDING)
    assert "451" in retry.last_error
    assert sink.sessions() == 2
    delivered = {address for _, rcpts in sink.received for address in rcpts}
    assert retry.to_address not in delivered
    assert len(delivered) == 4


def test_mail_server_down_leaves_every_message_pending(alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_TIMEOUT = 1
    key = solved_event_for(3, alice)

    assert services.deliveries_send_for_event(event_key=key) == 0

    assert set(
        EmailDelivery.objects.filter(event_key=key).values_list("status", flat=True)
    ) == {DeliveryStatus.PENDING}
