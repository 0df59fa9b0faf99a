"""Emails waiting together are processed together, with the outcome of one at a time.

The email task takes the message it was queued for and the ones waiting behind it:
the leading plain replies become comments in one transaction, everything after
goes the single way, in arrival order.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications import inbound, tasks
from notifications.inbound import inbound_store
from notifications.inbound_batches import inbound_process_waiting
from notifications.models import EmailDelivery, Event, InboundMessage, InboundStatus
from notifications.recipients import customer_reply_recipients
from notifications.tokens import reply_address
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from sla.models import ClockKind, ResponseClock
from tests.factories import ContactFactory, StaffFactory
from tests.notifications.builders import quoted_reply, raw_email, run_together
from tests.sla.conftest import open_ticket
from tickets import services as ticket_services
from tickets.choices import CommentSource, Priority, Status
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    engineer = StaffFactory(email="queue@support.example.com")
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return engineer


def answered(contact, engineer) -> Ticket:
    """A contact's ticket that support has answered: the customer's turn."""
    ticket = open_ticket(contact, Priority.MAJOR)
    ticket_services.comment_create(
        ticket=ticket, author=engineer, body="Restart the agent."
    )
    ticket.refresh_from_db()
    return ticket


def store(ticket, contact, text, *, sender=None, **extra) -> InboundMessage:
    """A reply by ``contact`` to their reply address on ``ticket``, stored, waiting."""
    raw = raw_email(
        sender=sender or contact.user.email,
        to=reply_address(ticket_number=ticket.number, user_id=contact.user.pk),
        body=quoted_reply(text, "Restart the agent."),
        **extra,
    )
    return inbound_store(raw=raw, transport="test")


def statuses(messages) -> list[tuple[str, str]]:
    rows = InboundMessage.objects.in_bulk([m.pk for m in messages])
    return [(rows[m.pk].status, rows[m.pk].reason) for m in messages]


def test_waiting_replies_become_comments_as_one_at_a_time_would(
    alice, gina, support, alice_client
):
    first, second = answered(alice, support), answered(gina, support)
    waiting = [
        store(first, alice, "Restarting fixed it."),
        store(second, gina, "Still broken here."),
        store(first, alice, "Actually, one more question."),
    ]
    page = reverse("tickets:detail", args=[first.number])
    assert "Restarting fixed it." not in alice_client.get(page).text  # now cached

    results = inbound_process_waiting(inbound_id=waiting[0].pk)

    assert results == [InboundStatus.PROCESSED] * 3
    comments = [m.comment for m in InboundMessage.objects.order_by("pk")]
    assert [(c.ticket, c.author, c.body) for c in comments] == [
        (first, alice.user, "Restarting fixed it."),
        (second, gina.user, "Still broken here."),
        (first, alice.user, "Actually, one more question."),
    ]
    assert all(c.is_public and c.source == CommentSource.EMAIL for c in comments)
    for message in InboundMessage.objects.all():
        assert message.from_address == message.comment.author.email
        assert message.ticket_id == message.comment.ticket_id
        assert message.message_id
        assert message.processed_at
        assert message.attempts == 1
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        latest = ticket.comments.order_by("-created_at", "-id").first()
        assert ticket.last_activity_at == latest.created_at
        # The customer's first reply started support's clock; a second while it
        # runs starts none.
        clock = ResponseClock.objects.get(ticket=ticket, kind=ClockKind.NEXT_RESPONSE)
        assert clock.is_running
        assert ticket.sla_due_at == clock.due_at
        assert (
            clock.started_at
            == ticket.comments.filter(source=CommentSource.EMAIL)
            .earliest("created_at", "id")
            .created_at
        )
    # Every reply tells support (the queue: nobody is assigned) and the watchers,
    # by the rule of a single reply, once.
    assert sorted(
        EmailDelivery.objects.filter(event=Event.CUSTOMER_REPLIED).values_list(
            "event_key", "recipient"
        )
    ) == sorted(
        (f"comment:{c.pk}", user.pk)
        for c in comments
        for user in customer_reply_recipients(c.ticket, author_id=c.author_id)
    )
    assert support in customer_reply_recipients(first, author_id=alice.user.pk)
    # The portal's cached thread shows the replies (bulk writes send no signals).
    assert "Actually, one more question." in alice_client.get(page).text


def test_a_batch_of_replies_costs_the_same_statements_however_many(support):
    """No statement per reply: ten replies and forty cost the same round trips."""

    def statements(count: int) -> int:
        contacts = [ContactFactory() for _ in range(count)]
        tickets = [answered(contact, support) for contact in contacts]
        waiting = [
            store(ticket, contact, "Thanks.")
            for ticket, contact in zip(tickets, contacts, strict=True)
        ]
        with CaptureQueriesContext(connection) as queries:
            results = inbound_process_waiting(inbound_id=waiting[0].pk)
        assert results == [InboundStatus.PROCESSED] * count
        return len(queries)

    assert statements(10) == statements(40) <= 30


def test_an_unusual_message_ends_the_run_and_the_rest_follow_in_order(alice, support):
    ticket = answered(alice, support)
    plain = store(ticket, alice, "First.")
    tampered = inbound_store(
        raw=raw_email(
            sender=alice.user.email,
            to=reply_address(
                ticket_number=ticket.number, user_id=alice.user.pk
            ).replace("+", "+x"),
            body="Tampered.",
        ),
        transport="test",
    )
    attached = store(
        ticket,
        alice,
        "Logs attached.",
        attachments=[("agent.log", b"ERROR boom\n", "text/plain")],
    )
    after = store(ticket, alice, "Last.")

    inbound_process_waiting(inbound_id=plain.pk)

    assert statuses([plain, tampered, attached, after]) == [
        (InboundStatus.PROCESSED, ""),
        (
            InboundStatus.QUARANTINED,
            "The reply address carries an invalid or tampered token.",
        ),
        (InboundStatus.PROCESSED, ""),
        (InboundStatus.PROCESSED, ""),
    ]
    thread = ticket.comments.filter(source=CommentSource.EMAIL).order_by(
        "created_at", "id"
    )
    assert [c.body for c in thread] == ["First.", "Logs attached.", "Last."]
    assert thread[1].attachments.get().filename == "agent.log"


def test_two_people_writing_on_one_ticket_are_both_heard(alice, bob, support):
    ticket = answered(alice, support)
    waiting = [store(ticket, alice, "From Alice."), store(ticket, bob, "From Bob.")]

    inbound_process_waiting(inbound_id=waiting[0].pk)

    assert statuses(waiting) == [(InboundStatus.PROCESSED, "")] * 2
    assert sorted(ticket.comments.filter(source="email").values_list("body")) == [
        ("From Alice.",),
        ("From Bob.",),
    ]


def test_a_message_delivered_twice_while_waiting_is_one_comment(alice, support):
    ticket = answered(alice, support)
    twice = [
        store(ticket, alice, "Once only.", message_id="<twice@customer.example.com>")
        for _ in range(2)
    ]

    inbound_process_waiting(inbound_id=twice[0].pk)

    assert statuses(twice) == [
        (InboundStatus.PROCESSED, ""),
        (InboundStatus.IGNORED, "Duplicate of a message already added."),
    ]
    assert ticket.comments.filter(body="Once only.").count() == 1


def test_a_reply_to_a_long_closed_ticket_still_opens_a_follow_up(alice, support):
    ticket = answered(alice, support)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.CLOSED, closed_at=timezone.now() - timedelta(days=20)
    )
    waiting = [store(ticket, alice, "It is back.")]

    assert inbound_process_waiting(inbound_id=waiting[0].pk) == [
        InboundStatus.PROCESSED
    ]

    follow_up = Ticket.objects.get(follow_up_of=ticket)
    assert "It is back." in follow_up.description


def test_the_rate_limit_counts_the_messages_waiting_with_it(alice, support):
    ticket = answered(alice, support)
    for n in range(inbound.SENDER_RATE_LIMIT - 1):
        InboundMessage.objects.create(
            raw=b"x",
            raw_sha256=f"{n:064}",
            size=1,
            transport="test",
            from_address=alice.user.email.upper(),
            status=InboundStatus.PROCESSED,
        )
    waiting = [store(ticket, alice, "Nineteenth."), store(ticket, alice, "One more.")]

    inbound_process_waiting(inbound_id=waiting[0].pk)

    assert statuses(waiting) == [
        (InboundStatus.PROCESSED, ""),
        (
            InboundStatus.QUARANTINED,
            "Too many messages from this sender; rate limited.",
        ),
    ]


def test_a_failed_batch_is_retried_one_message_at_a_time(
    alice, gina, support, monkeypatch
):
    tickets = [answered(alice, support), answered(gina, support)]
    waiting = [store(tickets[0], alice, "Mine."), store(tickets[1], gina, "Ours.")]

    def collide(replies):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(ticket_services, "replies_create", collide)
    assert (
        inbound_process_waiting(inbound_id=waiting[0].pk)
        == [InboundStatus.PROCESSED] * 2
    )

    assert [m.comment.body for m in InboundMessage.objects.order_by("pk")] == [
        "Mine.",
        "Ours.",
    ]


def test_a_message_tried_before_is_never_taken_with_others(alice, support):
    """One that killed its worker must not take its neighbours down again."""
    ticket = answered(alice, support)
    crashed, *fresh = [store(ticket, alice, f"Reply {n}.") for n in range(3)]
    InboundMessage.objects.filter(pk=crashed.pk).update(attempts=1)

    assert (
        inbound_process_waiting(inbound_id=fresh[0].pk) == [InboundStatus.PROCESSED] * 2
    )
    crashed.refresh_from_db()
    assert (crashed.status, crashed.attempts) == (InboundStatus.RECEIVED, 1)

    # Its own task (or the sweep's) takes it alone.
    assert inbound_process_waiting(inbound_id=crashed.pk) == [InboundStatus.PROCESSED]
    crashed.refresh_from_db()
    assert crashed.attempts == 2


@pytest.fixture
def queued(monkeypatch) -> list[list[object]]:
    """The arguments of each processing task sent to the broker."""
    sent: list[list[object]] = []
    monkeypatch.setattr(
        tasks.process_inbound, "apply_async", lambda args: sent.append(list(args))
    )
    return sent


def test_a_message_stored_while_a_task_waits_gets_no_task_of_its_own(
    alice, support, queued, django_capture_on_commit_callbacks
):
    """A queued task takes every message stored before it starts."""
    ticket = answered(alice, support)

    with django_capture_on_commit_callbacks(execute=True):
        waiting = [store(ticket, alice, f"Reply {n}.") for n in range(3)]
    assert queued == [[waiting[0].pk]]

    assert (
        inbound_process_waiting(inbound_id=waiting[0].pk)
        == [InboundStatus.PROCESSED] * 3
    )
    # Started, the task no longer stands for messages stored after it.
    with django_capture_on_commit_callbacks(execute=True):
        later = store(ticket, alice, "Later.")
    assert queued == [[waiting[0].pk], [later.pk]]


def test_with_no_mark_every_message_gets_its_task(
    alice, support, settings, queued, django_capture_on_commit_callbacks
):
    settings.INBOUND_TASK_MARK_SECONDS = 0
    ticket = answered(alice, support)

    with django_capture_on_commit_callbacks(execute=True):
        waiting = [store(ticket, alice, f"Reply {n}.") for n in range(3)]

    assert queued == [[message.pk] for message in waiting]


def test_only_a_contact_of_the_tickets_organisation_is_batched(alice, gina, support):
    """A token issued to someone who has since left the organisation."""
    ticket = answered(alice, support)
    leaver = ContactFactory(organization=alice.organization)
    message = store(ticket, leaver, "Hello again.")
    leaver.organization = gina.organization
    leaver.save(update_fields=["organization"])

    inbound_process_waiting(inbound_id=message.pk)

    assert statuses([message]) == [
        (
            InboundStatus.QUARANTINED,
            "The reply token's recipient can no longer see that ticket.",
        )
    ]
    assert not Comment.objects.filter(ticket=ticket, source="email").exists()


@pytest.mark.django_db(transaction=True)
def test_workers_racing_over_the_waiting_messages_add_each_once(support):
    contacts = [ContactFactory() for _ in range(4)]
    tickets = [answered(contact, support) for contact in contacts]
    waiting = [
        store(ticket, contact, f"Reply {n} from {contact.user.email}.")
        for n in range(5)
        for ticket, contact in zip(tickets, contacts, strict=True)
    ]

    run_together(
        lambda pk: inbound_process_waiting(inbound_id=pk),
        [(m.pk,) for m in (waiting[0], waiting[7], waiting[13], waiting[-1])],
    )
    for message in waiting:  # each message's own task, delivered after
        inbound_process_waiting(inbound_id=message.pk)

    assert statuses(waiting) == [(InboundStatus.PROCESSED, "")] * len(waiting)
    assert Comment.objects.filter(source=CommentSource.EMAIL).count() == len(waiting)
    for ticket in tickets:
        assert (
            ResponseClock.objects.filter(
                ticket=ticket, kind=ClockKind.NEXT_RESPONSE
            ).count()
            == 1
        )


def test_support_answering_by_email_in_a_batch_stops_each_clock(alice, gina, support):
    """Staff replies by email are public replies: support's clocks stop."""
    tickets = [open_ticket(alice, Priority.MAJOR), open_ticket(gina, Priority.MAJOR)]
    waiting = [
        inbound_store(
            raw=raw_email(
                sender=support.email,
                to=reply_address(ticket_number=ticket.number, user_id=support.pk),
                body=f"Fixed on our side for #{ticket.number}.",
            ),
            transport="test",
            envelope_from=support.email,  # staff need the envelope to vouch for them
        )
        for ticket in tickets
    ]

    assert (
        inbound_process_waiting(inbound_id=waiting[0].pk)
        == [InboundStatus.PROCESSED] * 2
    )

    for ticket, contact in zip(tickets, (alice, gina), strict=True):
        ticket.refresh_from_db()
        assert ticket.status == Status.WAITING_ON_CUSTOMER
        clock = ResponseClock.objects.get(ticket=ticket, kind=ClockKind.FIRST_RESPONSE)
        reply = ticket.comments.get(author=support)
        assert clock.responded_at == reply.created_at
        assert clock.response_id == reply.pk
        assert ticket.first_responded_at == reply.created_at
        assert ticket.sla_due_at is None
        assert EmailDelivery.objects.filter(
            event=Event.SUPPORT_REPLIED, ticket=ticket, recipient=contact.user
        ).exists()
