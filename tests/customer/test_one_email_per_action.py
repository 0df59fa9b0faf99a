"""One agent action is one email per recipient, whatever it changes at once."""

import pytest
from django.core import mail

from notifications import services as notification_services
from notifications.models import EmailDelivery, Event
from notifications.services import Notice, merge_notices, notifications_combined
from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Priority, Status

pytestmark = pytest.mark.django_db


def send_all(django_capture_on_commit_callbacks, action):
    with django_capture_on_commit_callbacks(execute=True):
        result = action()
    for delivery_id in notification_services.deliveries_sweep():
        notification_services.delivery_send(delivery_id=delivery_id)
    return result


def test_reply_priority_change_and_solve_in_one_save_is_one_email(
    alice, bob, engineer, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(
        organization=alice.organization, requester=alice.user, status=Status.OPEN
    )
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.ticket_triage(
            ticket=ticket,
            actor=engineer,
            changes=services.TriageInput(
                status=Status.SOLVED,
                priority=Priority.MINOR,
                priority_change_reason="Workaround in place.",
                reply="Fixed in 9.5.1; upgrade when you can.",
            ),
        ),
    )
    by_person = sorted(m.to[0] for m in mail.outbox)
    assert by_person == ["alice@acme.example.com", "bob@acme.example.com"]
    alice_mail = next(m for m in mail.outbox if m.to == ["alice@acme.example.com"])
    assert "Fixed in 9.5.1" in alice_mail.body
    assert "now marked solved" in alice_mail.body
    assert "Priority changed from" in alice_mail.body
    assert "Workaround in place." in alice_mail.body
    # The requester rates the solve from the same email; a colleague does not.
    assert "/tickets/rate/" in alice_mail.body
    bob_mail = next(m for m in mail.outbox if m.to == ["bob@acme.example.com"])
    assert "/tickets/rate/" not in bob_mail.body
    assert set(EmailDelivery.objects.values_list("event", flat=True)) == {
        Event.SUPPORT_REPLIED
    }


def test_separate_actions_still_mail_separately(
    alice, engineer, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(
        organization=alice.organization, requester=alice.user, status=Status.OPEN
    )
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.comment_create(ticket=ticket, author=engineer, body="Hi"),
    )
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.ticket_status_change(
            ticket=ticket, actor=engineer, status=Status.SOLVED
        ),
    )
    assert len(mail.outbox) == 2


def test_a_failed_action_records_no_mail(alice, engineer):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)

    def failing_action() -> None:
        with notifications_combined():
            notification_services.notification_enqueue(
                event=Event.SUPPORT_REPLIED,
                event_key="x",
                recipients=[alice.user],
                ticket=ticket,
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_action()
    assert not EmailDelivery.objects.exists()


def test_merge_keeps_people_only_in_later_notices(alice, bob, engineer):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    merged = merge_notices(
        [
            Notice("support_replied", "c1", [alice.user], ticket=ticket),
            Notice("ticket_solved", "s1", [alice.user, bob.user], ticket=ticket),
        ]
    )
    assert [(n.event, [u.pk for u in n.recipients], n.context) for n in merged] == [
        ("support_replied", [alice.user.pk], {"also": ["ticket_solved"]}),
        ("ticket_solved", [bob.user.pk], None),
    ]
