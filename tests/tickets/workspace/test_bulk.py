"""Bulk actions: a confirmation step, then one service call and audit row per ticket."""

import pytest
from django.urls import reverse

from tests.conftest import signed_in
from tests.factories import TicketFactory
from tickets.choices import Priority, Status
from tickets.models import Comment, PriorityChange, Ticket, TicketAudit

pytestmark = pytest.mark.django_db

BULK = "admin:tickets_ticket_workspace_bulk"


def bulk(client, tickets, *, confirm=True, **data):
    payload = {"tickets": [t.pk for t in tickets], "view": "view=open", **data}
    if confirm:
        payload["confirm"] = "on"
    return client.post(reverse(BULK), payload, follow=True)


def test_the_first_step_only_shows_what_will_change(eli_client, erin):
    tickets = TicketFactory.create_batch(2)

    response = bulk(eli_client, tickets, confirm=False, action="assign", value=erin.pk)

    html = response.content.decode()
    assert "Erin Other" in html
    assert all(t.subject in html for t in tickets)
    assert "Yes, change 2 tickets" in html
    assert not Ticket.objects.filter(assignee__isnull=False).exists()
    assert not TicketAudit.objects.exists()


def test_assigning_to_anyone_writes_an_audit_row_per_ticket(eli, eli_client, erin):
    tickets = TicketFactory.create_batch(3)

    response = bulk(eli_client, tickets, action="assign", value=erin.pk)

    assert set(Ticket.objects.values_list("assignee", flat=True)) == {erin.pk}
    audit = list(TicketAudit.objects.all())
    assert len(audit) == 3
    assert {(a.action, a.actor_id, a.to_value) for a in audit} == {
        ("assignee", eli.pk, "Erin Other")
    }
    assert len({a.batch for a in audit}) == 1  # one action, one batch
    assert "3 tickets changed." in response.content.decode()


def test_reprioritising_needs_one_reason_for_all(eli_client):
    tickets = TicketFactory.create_batch(2, priority=Priority.MINOR)

    refused = bulk(eli_client, tickets, confirm=False, action="priority", value="1")
    done = bulk(
        eli_client, tickets, action="priority", value="1", text="Outage at AWS."
    )

    assert "Say why the priority changes" in refused.content.decode()
    assert set(Ticket.objects.values_list("priority", flat=True)) == {Priority.CRITICAL}
    changes = PriorityChange.objects.all()
    assert {(c.reason, c.to_priority) for c in changes} == {("Outage at AWS.", 1)}
    assert changes.count() == 2
    assert TicketAudit.objects.filter(action="priority").count() == 2
    assert "2 tickets changed." in done.content.decode()


def test_a_forged_confirmation_without_reason_changes_nothing(eli_client):
    tickets = TicketFactory.create_batch(2, priority=Priority.MINOR)

    response = bulk(eli_client, tickets, action="priority", value="0")

    assert set(Ticket.objects.values_list("priority", flat=True)) == {Priority.MINOR}
    assert "Say why the priority changes" in response.content.decode()
    assert "changed." not in response.content.decode()


def test_status_change_leaves_tickets_already_there_alone(eli_client):
    waiting = TicketFactory(status=Status.WAITING_ON_CUSTOMER)
    new = TicketFactory(status=Status.NEW)

    response = bulk(eli_client, [waiting, new], action="status", value="on_hold")

    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.ON_HOLD}
    response = bulk(eli_client, [waiting, new], action="status", value="on_hold")
    assert "Already as asked, left alone" in response.content.decode()
    assert TicketAudit.objects.filter(action="status").count() == 2


def test_an_internal_note_on_each_ticket_never_reaches_customers(eli, eli_client):
    tickets = TicketFactory.create_batch(2)

    bulk(eli_client, tickets, action="note", text="Known issue INC-42.")

    notes = Comment.objects.all()
    assert notes.count() == 2
    assert {(n.is_public, n.body, n.author_id) for n in notes} == {
        (False, "Known issue INC-42.", eli.pk)
    }
    assert TicketAudit.objects.filter(action="note").count() == 2


def test_tickets_cannot_be_assigned_to_a_customer(eli_client, alice):
    tickets = TicketFactory.create_batch(1)

    response = bulk(eli_client, tickets, action="assign", value=alice.user.pk)

    assert "only be assigned to support staff" in response.content.decode()
    assert Ticket.objects.get().assignee is None


def test_customers_cannot_use_bulk_actions(alice_client):
    ticket = TicketFactory()

    response = alice_client.post(
        reverse(BULK),
        {
            "tickets": [ticket.pk],
            "action": "status",
            "value": "closed",
            "confirm": "on",
        },
    )

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert Ticket.objects.get().status == Status.NEW


def test_a_manager_can_use_bulk_actions_too(maya):
    ticket = TicketFactory()

    bulk(signed_in(maya), [ticket], action="assign", value=maya.pk)

    assert Ticket.objects.get().assignee == maya


def test_a_keyboard_assign_takes_one_ticket_with_its_audit(eli, eli_client):
    ticket = TicketFactory()

    eli_client.post(
        reverse("admin:tickets_ticket_workspace_assign_me", args=[ticket.pk]),
        {"view": "view=unassigned"},
    )

    assert Ticket.objects.get().assignee == eli
    assert TicketAudit.objects.get().action == "assignee"
