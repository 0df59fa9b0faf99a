"""The queue in a real browser: the keyboard, a bulk reprioritisation, the layout."""

import pytest

from tests.browser.workspace_helpers import customer, engineer, file_ticket, sign_in
from tickets.models import PriorityChange, Ticket, TicketAudit

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

QUEUE = "/admin/tickets/ticket/"


@pytest.fixture
def queue_page(live_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_working_a_view_with_the_keyboard(live_server, queue_page):
    eli = engineer("eli@support.example.com", "Eli", "Engineer")
    alice = customer()
    blocker = file_ticket(alice, "Production down", priority=0)
    critical = file_ticket(alice, "Agent pool offline", priority=1)
    file_ticket(alice, "Question about tokens", priority=4)
    page = queue_page
    sign_in(page, live_server.url, eli.email, QUEUE)

    page.keyboard.press("?")
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    page.keyboard.press("Escape")
    assert not page.get_by_role("dialog").is_visible()

    page.keyboard.press("j")
    page.keyboard.press("j")
    current = page.locator("tr.is-current")
    assert current.get_by_text("Agent pool offline").is_visible()
    page.keyboard.press("k")
    assert page.locator("tr.is-current").get_by_text("Production down").is_visible()
    page.keyboard.press("a")  # assign to me, without leaving the queue
    page.wait_for_load_state()
    page.get_by_text(f"#{blocker.number} assigned to you.").wait_for()
    assert Ticket.objects.get(pk=blocker.pk).assignee_id == eli.pk

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "ws-search"
    page.keyboard.type("offline")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=offline**")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/tickets/ticket/{critical.pk}/change/**")
    assert page.get_by_role("heading", name="Agent pool offline").is_visible()


def test_bulk_reprioritisation_with_one_reason(live_server, queue_page):
    eli = engineer("eli@support.example.com", "Eli", "Engineer")
    alice = customer()
    first = file_ticket(alice, "Runs fail in eu-west-1", priority=3)
    second = file_ticket(alice, "Plans time out in eu-west-1", priority=3)
    untouched = file_ticket(alice, "Unrelated question", priority=4)
    page = queue_page
    sign_in(page, live_server.url, eli.email, QUEUE)

    for subject in ("Runs fail in eu-west-1", "Plans time out in eu-west-1"):
        page.get_by_role("row").filter(has_text=subject).get_by_role("checkbox").check()
    assert page.locator("[data-ws-selected]").inner_text() == "2"
    page.get_by_label("Bulk action", exact=True).select_option(label="Change priority")
    page.get_by_label("New priority").select_option(label="P1 Critical")
    page.get_by_label("Reason or note").fill("AWS eu-west-1 outage")
    page.get_by_role("button", name="Review…").click()

    page.get_by_text("AWS eu-west-1 outage").wait_for()
    assert page.get_by_text("Runs fail in eu-west-1").is_visible()
    assert Ticket.objects.get(pk=first.pk).priority == 3  # nothing yet
    page.get_by_role("button", name="Yes, change 2 tickets").click()
    page.get_by_text("2 tickets changed.").wait_for()

    assert {
        t.priority for t in Ticket.objects.filter(pk__in=[first.pk, second.pk])
    } == {1}
    assert Ticket.objects.get(pk=untouched.pk).priority == 4
    assert set(PriorityChange.objects.values_list("reason", flat=True)) == {
        "AWS eu-west-1 outage"
    }
    assert TicketAudit.objects.filter(action="priority").count() == 2


def test_every_column_fits_at_1366_by_900(live_server, queue_page, tmp_path):
    eli = engineer("eli@support.example.com", "Eli", "Engineer")
    alice = customer("Wayne Infrastructure Holdings International")
    for n in range(12):
        ticket = file_ticket(
            alice,
            f"Runs stuck in pending after the upgrade to 9.4 in workspace prod-{n} "
            "with a very long subject that must not push columns away",
            priority=n % 5,
        )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=eli)
    page = queue_page
    sign_in(page, live_server.url, eli.email, QUEUE)
    page.screenshot(path=str(tmp_path / "queue-1366.png"))

    headers = page.locator("#ws-rows thead th")
    names = [h.strip() for h in headers.all_inner_texts()]
    assert [n.lower() for n in names[1:]] == [
        "#",
        "subject",
        "organisation",
        "priority",
        "sla",
        "status",
        "assignee",
        "customer update",
    ]
    for index in range(headers.count()):
        box = headers.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 1366
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    row = page.get_by_role("row").filter(has_text="prod-11 ")
    assert row.get_by_text("Eli Engineer").is_visible()
    assert row.locator(".ws-sla .sla-state").is_visible()
    title = row.locator(".ws-sla [data-ws-due]").get_attribute("title")
    assert title is not None
    assert title.startswith("Due ")
    assert title.endswith("UTC")
