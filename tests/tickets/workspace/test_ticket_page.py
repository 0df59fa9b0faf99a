"""The ticket page: conversation first, saves through the triage, refusals kept."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import signed_in
from tests.factories import CommentFactory, TicketFactory
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import Comment, PriorityChange, SupportSession, Ticket, TicketAudit
from tickets.workspace.collision import Seen

pytestmark = pytest.mark.django_db


def page_url(ticket, view=""):
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    return f"{url}?view={view}" if view else url


def form_data(client, ticket, **overrides):
    """What the page posts when the engineer changes nothing but ``overrides``."""
    content = client.get(page_url(ticket)).content.decode()
    (seen,) = re.findall(r'<input type="hidden" name="seen" value="([^"]*)"', content)
    data = {
        "seen": html.unescape(seen),
        "view": "",
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "category": ticket.category,
        "scope_exclusion": ticket.scope_exclusion,
        "priority_change_reason": "",
        "reply": "",
        "reply_visibility": "public",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_the_conversation_comes_first_newest_at_the_bottom(eli, eli_client, alice):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    CommentFactory(ticket=ticket, body="First, from the customer", source="email")
    services.comment_create(
        ticket=ticket, author=eli, body="Checking the logs", is_public=False
    )
    services.ticket_priority_change(
        ticket=ticket, actor=eli, priority=Priority.CRITICAL, reason="Prod is down"
    )
    services.comment_create(ticket=ticket, author=eli, body="Last, our answer")

    html = eli_client.get(page_url(ticket)).content.decode()

    order = [
        html.index(text)
        for text in (
            "First, from the customer",
            "Checking the logs",
            "Prod is down",
            "Last, our answer",
            'id="ws-reply"',
            "SLA: why this due time",
        )
    ]
    assert order == sorted(order)
    assert "by email" in html  # provenance of the emailed comment
    assert re.search(r'ws-internal[^"]*"[^>]*>\s*<header><strong>Eli', html)


def test_a_public_reply_is_sent_and_the_engineer_stays_on_the_ticket(
    eli_client, file_ticket
):
    ticket = file_ticket()

    response = eli_client.post(
        page_url(ticket, "view=mine"),
        form_data(eli_client, ticket, reply="Please try 9.4.2.", view="view=mine"),
    )

    assert response.status_code == 302
    assert response["Location"] == page_url(ticket, "view%3Dmine") + "#ws-reply"
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.body, comment.is_public, comment.source) == (
        "Please try 9.4.2.",
        True,
        "admin",
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    page = eli_client.get(response["Location"]).content.decode()
    assert "Reply sent." in page
    # The reply moved the status: the thread says so, from the audit row.
    assert "changed the status from New to <strong>Waiting on customer" in page


def test_a_refused_priority_change_keeps_the_typed_reply_and_saves_nothing(
    eli_client, file_ticket
):
    ticket = file_ticket()

    response = eli_client.post(
        page_url(ticket),
        form_data(eli_client, ticket, priority=0, reply="My long careful answer"),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "My long careful answer</textarea>" in html
    assert "Say why the priority changes" in html
    assert "Reply sent." not in html
    assert "updated." not in html
    assert not Comment.objects.exists()
    assert Ticket.objects.get().priority == Priority.MAJOR


def test_a_refusal_of_any_part_rolls_back_the_reply_too(eli_client, frank_ticket):
    """The session offer is refused on the Free tier: the reply must not go out."""
    data = form_data(
        eli_client,
        frank_ticket,
        reply="Let us have a call",
        session_link="https://zoom.us/j/1",
        session_note="",
    )
    data.update(
        {"session_proposed_at_0": "2030-01-01", "session_proposed_at_1": "10:00"}
    )

    response = eli_client.post(page_url(frank_ticket), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Let us have a call</textarea>" in html
    assert "not part of Free support" in html
    assert not Comment.objects.exists()
    assert not SupportSession.objects.exists()


def test_a_too_big_attachment_is_a_form_error_and_nothing_is_sent(
    settings, eli_client, file_ticket
):
    settings.ATTACHMENT_MAX_BYTES = 10
    ticket = file_ticket()
    data = form_data(eli_client, ticket, reply="See the log")
    data["reply_attachments"] = SimpleUploadedFile("big.log", b"x" * 100)

    response = eli_client.post(page_url(ticket), data)

    assert response.status_code == 200
    assert "See the log</textarea>" in response.content.decode()
    assert not Comment.objects.exists()


def test_an_internal_note_with_a_dropped_file(eli_client, file_ticket):
    ticket = file_ticket()
    data = form_data(
        eli_client, ticket, reply="Trace from the agent", reply_visibility="internal"
    )
    data["reply_attachments"] = [SimpleUploadedFile("trace.log", b"stack trace")]

    eli_client.post(page_url(ticket), data)

    note = Comment.objects.get()
    assert note.is_public is False
    assert [a.filename for a in note.attachments.all()] == ["trace.log"]
    assert Ticket.objects.get().status == Status.NEW  # a note moves nothing


def test_fields_change_with_a_reason_and_an_audit_row(
    eli, erin, eli_client, file_ticket
):
    ticket = file_ticket()

    eli_client.post(
        page_url(ticket),
        form_data(
            eli_client,
            ticket,
            priority=1,
            priority_change_reason="Blocks their release",
            assignee=erin.pk,
            status="on_hold",
        ),
    )

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, ticket.status) == (1, erin, "on_hold")
    assert PriorityChange.objects.get().reason == "Blocks their release"
    assert set(TicketAudit.objects.values_list("action", flat=True)) == {
        "assignee",
        "status",
    }


def test_someone_elses_reply_meanwhile_is_shown_instead_of_saving(
    eli_client, erin, file_ticket
):
    ticket = file_ticket()
    data = form_data(eli_client, ticket, reply="My answer", status="solved")
    services.comment_create(ticket=ticket, author=erin, body="I answered already")
    services.ticket_assign(ticket=ticket, actor=erin, assignee=erin)

    warned = eli_client.post(page_url(ticket), data)

    html = warned.content.decode()
    assert warned.status_code == 200
    assert "this ticket changed while you were working on it" in html
    assert "<strong>Erin Other</strong> replied" in html
    assert "My answer</textarea>" in html
    assert Comment.objects.count() == 1  # only Erin's
    # Saving again, having seen it, applies exactly Eli's edits on top of Erin's.
    form = warned.context_data["form"]
    again = {**data, "seen": form["seen"].value(), "assignee": form["assignee"].value()}
    eli_client.post(page_url(ticket), again)
    ticket.refresh_from_db()
    assert Comment.objects.count() == 2
    assert (ticket.status, ticket.assignee) == ("solved", erin)


def test_ones_own_earlier_save_is_not_a_collision(eli, eli_client, file_ticket):
    ticket = file_ticket()
    stale = form_data(eli_client, ticket, reply="Second thought")
    services.comment_create(ticket=ticket, author=eli, body="First thought")

    response = eli_client.post(page_url(ticket), stale)

    assert response.status_code == 302
    assert Comment.objects.count() == 2


def test_a_field_changed_outside_the_workspace_is_a_collision(
    eli_client, erin, file_ticket
):
    ticket = file_ticket()
    data = form_data(eli_client, ticket, reply="Done")
    services.ticket_category_change(ticket=ticket, actor=erin, category="question")

    response = eli_client.post(page_url(ticket), data)

    assert response.status_code == 200
    # The service audits the change, so the collision names who made it and how.
    page = response.content.decode()
    assert "Erin Other</strong> changed the category from “Bug” to “Question”" in page


def test_save_and_next_opens_the_next_ticket_of_the_view(eli_client, file_ticket):
    first = file_ticket(subject="first", priority=0)
    second = file_ticket(subject="second", priority=1)
    data = form_data(eli_client, first, reply="On it", view="view=open")
    data.pop("_save")
    data["_save_next"] = "Save and next"

    response = eli_client.post(page_url(first, "view=open"), data)

    assert response["Location"] == page_url(second, "view%3Dopen")


@pytest.mark.parametrize("comments", [1, 30])
def test_page_queries_stay_constant_in_thread_length(
    eli, alice, django_assert_max_num_queries, comments
):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    for n in range(comments):
        CommentFactory(ticket=ticket, author=eli if n % 2 else alice.user)
    client = signed_in(eli)

    with django_assert_max_num_queries(22):
        response = client.get(page_url(ticket))

    assert response.status_code == 200


def test_seen_tokens_round_trip_and_garbage_is_ignored(file_ticket):
    ticket = file_ticket()
    seen = Seen.of(ticket)

    assert Seen.parse(seen.token()) == seen
    assert Seen.parse("nonsense") is None
    assert Seen.parse("x|y|z|w|v") is None


def test_a_customers_solve_shows_in_the_thread_once_with_who(
    eli_client, alice, file_ticket
):
    by_customer = file_ticket(subject="solved by the customer")
    services.ticket_status_change(ticket=by_customer, actor=alice.user, status="solved")
    by_us = file_ticket(subject="solved by us")
    eli_client.post(page_url(by_us), form_data(eli_client, by_us, status="solved"))

    customer_page = eli_client.get(page_url(by_customer)).content.decode()
    our_page = eli_client.get(page_url(by_us)).content.decode()

    assert "The ticket became" not in customer_page
    assert (
        f"<strong>{alice.user.display_name}</strong>\n      changed the status from"
        " New to <strong>Solved</strong>"
    ) in customer_page
    assert "The ticket became" not in our_page
    assert "changed the status from New to <strong>Solved</strong>" in our_page
