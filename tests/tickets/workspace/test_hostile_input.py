"""Crafted or careless input to the workspace: a clear answer, never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import TicketFactory
from tests.tickets.workspace.test_ticket_page import form_data, page_url
from tickets import services
from tickets.models import Comment, Ticket, TicketAudit
from tickets.workspace.bulk import BULK_MAX
from tickets.workspace.collision import Seen

pytestmark = pytest.mark.django_db

QUEUE = "admin:tickets_ticket_changelist"
BULK = "admin:tickets_ticket_workspace_bulk"
# "²" is a digit to str.isdigit but not to int().
SUPERSCRIPT_TWO = "\u00b2"


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    "params",
    [
        {"page": SUPERSCRIPT_TWO},
        {"assignee": SUPERSCRIPT_TWO},
        {"assignee": "9" * 30},
        {"q": f"#{SUPERSCRIPT_TWO}"},
    ],
)
def test_a_crafted_queue_query_falls_back_instead_of_failing(eli_client, params):
    ticket = TicketFactory(subject="Visible either way")

    response = eli_client.get(reverse(QUEUE), params)

    assert response.status_code == 200
    if "q" not in params:
        assert ticket.subject in response.content.decode()


@pytest.mark.parametrize(("bad", "saved"), [("priority", False), ("assignee", True)])
def test_a_mangled_seen_token_is_no_server_error(eli_client, file_ticket, bad, saved):
    """A bad priority voids the token; a bad assignee reads as "unassigned"."""
    ticket = file_ticket()
    seen = Seen.of(ticket)
    parts = seen.token().split("|")
    parts[2 if bad == "priority" else 3] = SUPERSCRIPT_TWO
    url = reverse("admin:tickets_ticket_workspace_presence", args=[ticket.pk])

    beat = eli_client.post(url, {"seen": "|".join(parts)})
    save = eli_client.post(
        page_url(ticket),
        form_data(eli_client, ticket, reply="Typed", seen="|".join(parts)),
    )

    assert beat.status_code == 200
    assert save.status_code == (302 if saved else 200)
    assert Comment.objects.filter(body="Typed").exists() == saved


@pytest.mark.parametrize(
    "seen",
    [
        "",
        "garbage",
        "2999-01-01T00:00:00+00:00|x|2||y",  # from the future
        "2026-01-01T00:00:00|new|2||bug",  # no offset
        "2026-13-01T00:00:00+00:00|new|2||bug",  # no such month
    ],
)
def test_a_missing_or_future_seen_never_undoes_anothers_change(
    eli_client, erin, file_ticket, seen
):
    """Without knowing what the page showed, the save cannot tell a collision."""
    ticket = file_ticket()
    stale = form_data(eli_client, ticket, reply="My answer", seen=seen)
    services.ticket_assign(ticket=ticket, actor=erin, assignee=erin)

    warned = eli_client.post(page_url(ticket), stale)

    ticket.refresh_from_db()
    assert (warned.status_code, ticket.assignee) == (200, erin)
    assert not Comment.objects.filter(body="My answer").exists()
    assert "did not say which version of the ticket you saw" in warned.text
    assert "My answer</textarea>" in warned.text
    # Saving again from the page it showed applies the reply.
    again = {**stale, "seen": warned.context_data["form"]["seen"].value()}
    saved = eli_client.post(page_url(ticket), again)
    assert saved.status_code == 302
    assert Comment.objects.filter(body="My answer").exists()


def test_a_bulk_assignee_that_is_not_a_number_is_refused(eli_client):
    ticket = TicketFactory()
    data = {"tickets": [ticket.pk], "action": "assign", "value": SUPERSCRIPT_TWO}

    first = eli_client.post(reverse(BULK), data)
    confirmed = eli_client.post(reverse(BULK), {**data, "confirm": "on"})

    assert first.status_code == 200
    assert "Tickets can only be assigned to support staff." in first.content.decode()
    assert confirmed.status_code == 302
    assert "Tickets can only be assigned to support staff." in said(confirmed)
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_too_many_tickets_are_refused_before_they_are_listed(
    eli_client, django_assert_max_num_queries
):
    ids = list(range(1, BULK_MAX + 2))

    with django_assert_max_num_queries(12):
        response = eli_client.post(
            reverse(BULK), {"tickets": ids, "action": "note", "text": "x"}
        )

    assert response.status_code == 302
    assert said(response) == [f"Select at most {BULK_MAX} tickets at a time."]


def test_a_bulk_action_on_tickets_that_do_not_exist_says_so(eli_client):
    data = {"tickets": [987654, 10**15], "action": "note", "text": "Checked"}

    response = eli_client.post(reverse(BULK), {**data, "confirm": "on"})

    assert response.status_code == 302
    assert said(response) == ["None of the selected tickets exists; nothing changed."]
    assert not TicketAudit.objects.exists()


def test_assign_to_me_on_a_missing_or_own_ticket_says_so(eli, eli_client):
    mine = TicketFactory(assignee=eli)

    def press(pk):
        url = reverse("admin:tickets_ticket_workspace_assign_me", args=[pk])
        return said(eli_client.post(url))

    assert press(987654) == ["That ticket does not exist; nothing changed."]
    assert press(mine.pk)[-1] == f"{mine.reference} is already assigned to you."


def test_a_long_view_in_the_link_does_not_make_the_page_unsavable(
    eli_client, file_ticket
):
    ticket = file_ticket()
    long_view = "view=mine&q=" + "x" * 600 + "&junk=" + "y" * 100

    page = eli_client.get(page_url(ticket), {"view": long_view})
    shown = page.context_data["form"]["view"].value()
    saved = eli_client.post(
        page_url(ticket), form_data(eli_client, ticket, reply="Hello", view=shown)
    )

    assert saved.status_code == 302
    assert shown == "view=mine&q=" + "x" * 100
    assert saved["Location"].endswith(f"?view=view%3Dmine%26q%3D{'x' * 100}#ws-reply")


@pytest.mark.parametrize(
    "seen", ["2026-01-01T00:00:00|new|2||bug", "2026-13-01T00:00:00+00:00|new|2||bug"]
)
def test_the_heartbeat_ignores_a_seen_time_it_cannot_compare(
    eli_client, file_ticket, seen
):
    ticket = file_ticket()
    url = reverse("admin:tickets_ticket_workspace_presence", args=[ticket.pk])

    response = eli_client.post(url, {"seen": seen})

    assert response.status_code == 200
    assert response.json()["changed"] is False


def test_a_ticket_address_with_a_unicode_digit_is_not_found(eli_client):
    response = eli_client.get(f"/admin/tickets/ticket/{SUPERSCRIPT_TWO}/change/")

    assert response.status_code == 404
