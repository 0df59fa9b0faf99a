"""The tickets' hook point: who reacts to a ticket event, in which order, and how."""

from dataclasses import dataclass

import pytest

from notifications import handlers as notification_handlers
from notifications.models import EmailDelivery, Event
from scalr_support.common import events as registry
from sla import handlers as sla_handlers
from sla.models import ResponseClock
from tests.tickets.test_services import ticket_input
from tickets import events, services
from tickets.models import Ticket


@dataclass(frozen=True)
class Pinged(registry.Event):
    """An event of the tests' own, so the app's handlers stay out of it."""

    text: str


@pytest.fixture
def subscribed():
    """Subscribe handlers for one test; unsubscribe them afterwards."""
    added: list[tuple[type, object]] = []

    def subscribe(event_type, handler, **kwargs):
        registry.subscribe(event_type, handler, **kwargs)
        added.append((event_type, handler))

    yield subscribe
    for event_type, handler in added:
        registry.unsubscribe(event_type, handler)


def test_state_handlers_run_before_notify_handlers_whatever_the_order_subscribed(
    subscribed,
):
    ran: list[str] = []
    subscribed(Pinged, lambda e: ran.append(f"notify {e.text}"))
    subscribed(
        Pinged, lambda e: ran.append(f"state {e.text}"), stage=registry.Stage.STATE
    )
    subscribed(Pinged, lambda e: ran.append(f"notify again {e.text}"))

    registry.publish(Pinged(text="x"))

    assert ran == ["state x", "notify x", "notify again x"]


def test_subscribing_the_same_handler_twice_runs_it_once(subscribed):
    ran: list[str] = []

    def handler(event: Pinged) -> None:
        ran.append(event.text)

    subscribed(Pinged, handler)
    subscribed(Pinged, handler)
    registry.publish(Pinged(text="once"))

    assert ran == ["once"]


def test_connecting_the_apps_handlers_again_adds_none():
    before = {
        kind: registry.handlers_of(kind)
        for kind in (events.TicketCreated, events.CommentsAdded)
    }
    sla_handlers.connect()
    notification_handlers.connect()

    assert before == {kind: registry.handlers_of(kind) for kind in before}


def test_only_frozen_event_dataclasses_can_be_subscribed_to():
    class NotAnEvent:
        pass

    class NotADataclass(registry.Event):
        pass

    with pytest.raises(TypeError):
        registry.subscribe(NotAnEvent, print)  # type: ignore[type-var]
    with pytest.raises(TypeError):
        registry.subscribe(NotADataclass, print)
    with pytest.raises(AttributeError):
        Pinged(text="a").text = "b"  # type: ignore[misc]


def test_a_new_ticket_runs_the_clock_handler_before_the_mail_handler():
    assert registry.handlers_of(events.TicketCreated) == [
        sla_handlers.ticket_created,
        notification_handlers.ticket_created,
    ]


@pytest.mark.django_db
def test_notification_handlers_see_the_clock_the_sla_handler_set(alice, subscribed):
    seen: list[object] = []
    subscribed(
        events.TicketCreated, lambda e: seen.append(e.ticket.first_response_due_at)
    )

    ticket = services.ticket_create(requester=alice.user, data=ticket_input())

    assert seen == [ticket.first_response_due_at]
    assert seen[0] is not None
    assert EmailDelivery.objects.filter(
        ticket=ticket, event=Event.TICKET_CREATED
    ).exists()


@pytest.mark.django_db
def test_a_handler_that_raises_rolls_the_ticket_and_its_clock_and_mail_back(
    alice, subscribed
):
    def refuse(event: events.TicketCreated) -> None:
        raise RuntimeError("handler failed")

    subscribed(events.TicketCreated, refuse)

    with pytest.raises(RuntimeError, match="handler failed"):
        services.ticket_create(requester=alice.user, data=ticket_input())

    assert not Ticket.objects.exists()
    assert not ResponseClock.objects.exists()
    assert not EmailDelivery.objects.exists()
