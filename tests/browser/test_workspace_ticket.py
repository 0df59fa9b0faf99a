"""The ticket page in a real browser: a macro inserted and sent, and a collision."""

import pytest

from tests.browser.workspace_helpers import customer, engineer, file_ticket, sign_in
from tickets.choices import Status
from tickets.models import Comment, Macro, Ticket
from tickets.workspace.models import AssigneeAction

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def ticket_path(ticket: Ticket) -> str:
    return f"/admin/tickets/ticket/{ticket.pk}/change/"


@pytest.fixture
def contexts(browser):
    opened = []

    def new_page():
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        opened.append(context)
        return context.new_page()

    yield new_page
    for context in opened:
        context.close()


def test_inserting_a_macro_and_sending_it(live_server, contexts, tmp_path):
    eli = engineer("eli@support.example.com", "Eli", "Engineer")
    alice = customer()
    ticket = file_ticket(alice, "Runs stuck in pending")
    Macro.objects.create(
        title="Ask for logs",
        body="Hi {{ contact.first_name }},\n\ncould you attach the agent logs "
        "to #{{ ticket.number }}?",
        set_status=Status.WAITING_ON_CUSTOMER,
        assignee_action=AssigneeAction.SELF,
    )
    page = contexts()
    sign_in(page, live_server.url, eli.email, ticket_path(ticket))

    page.get_by_label("Macro").select_option(label="★ Ask for logs")
    reply = page.get_by_role("textbox", name="Reply")
    expected = f"Hi Alice,\n\ncould you attach the agent logs to #{ticket.number}?"
    assert reply.input_value() == expected
    assert page.get_by_label("Status").input_value() == Status.WAITING_ON_CUSTOMER
    assert page.get_by_label("Assignee").input_value() == str(eli.pk)
    assert page.get_by_text("The macro also set:").is_visible()
    reply.press("End")
    reply.type("\n\nThanks!")
    page.screenshot(path=str(tmp_path / "ticket-macro.png"), full_page=True)
    reply.press("Control+Enter")
    page.get_by_text("Reply sent.").wait_for()

    comment = Comment.objects.get(ticket=ticket)
    # Browsers send a textarea's line breaks as CRLF.
    assert comment.body.replace("\r\n", "\n") == expected + "\n\nThanks!"
    assert comment.is_public
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (Status.WAITING_ON_CUSTOMER, eli.pk)
    # The engineer stays on the ticket, at the reply box, the answer in the thread.
    assert page.url.endswith(f"{ticket_path(ticket)}#ws-reply")
    assert page.locator(".ws-thread").get_by_text("could you attach").is_visible()


def test_two_engineers_answering_at_once_get_a_collision_warning(
    live_server, contexts, tmp_path
):
    eli = engineer("eli@support.example.com", "Eli", "Engineer")
    erin = engineer("erin@support.example.com", "Erin", "Other")
    ticket = file_ticket(customer(), "Runs stuck in pending")
    eli_page, erin_page = contexts(), contexts()
    sign_in(eli_page, live_server.url, eli.email, ticket_path(ticket))
    sign_in(erin_page, live_server.url, erin.email, ticket_path(ticket))

    # Presence: each sees the other (Erin at once, Eli at his next heartbeat).
    assert erin_page.get_by_text("Eli Engineer also has this ticket open.").is_visible()
    erin_page.get_by_role("textbox", name="Reply").fill(
        "Erin's answer: restart the agent."
    )
    erin_page.get_by_role("button", name="Save", exact=True).first.click()
    erin_page.get_by_text("Reply sent.").wait_for()

    eli_page.get_by_role("textbox", name="Reply").fill(
        "Eli's answer: upgrade to 9.4.2."
    )
    eli_page.get_by_role("button", name="Save", exact=True).first.click()

    warning = eli_page.get_by_role("alert").filter(has_text="Not saved")
    warning.wait_for()
    replied = warning.get_by_role("listitem").filter(has_text="replied")
    assert replied.inner_text().startswith("Erin Other replied")
    assert eli_page.get_by_role("textbox", name="Reply").input_value() == (
        "Eli's answer: upgrade to 9.4.2."
    )
    assert eli_page.locator(".ws-thread").get_by_text("restart the agent").is_visible()
    eli_page.screenshot(path=str(tmp_path / "collision.png"), full_page=True)
    assert Comment.objects.count() == 1

    eli_page.get_by_role("button", name="Save", exact=True).first.click()
    eli_page.get_by_text("Reply sent.").wait_for()
    assert list(Comment.objects.order_by("id").values_list("author", flat=True)) == [
        erin.pk,
        eli.pk,
    ]
