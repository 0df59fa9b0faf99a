"""The queue page's kept frame: the same page as a full rendering, with each
request's own rows, CSRF token and clock, and never another viewer's or an
older state's frame."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import signed_in
from tests.factories import TicketFactory
from tests.tickets.workspace.test_queue_cache import queue_html
from tickets.models import SavedView
from tickets.workspace import queue_frame

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CLOCK = re.compile(r'data-now="([^"]+)"')


@pytest.fixture(autouse=True)
def no_frames() -> None:
    queue_frame._FRAMES.clear()


def per_request_free(html: str) -> str:
    return CLOCK.sub("", TOKEN.sub("", html))


def test_a_kept_frame_writes_the_page_a_full_rendering_writes(
    eli_client, settle_queue_caches, monkeypatch
):
    TicketFactory(subject="Framed subject")
    SavedView.objects.create(name="Mine & <urgent>", query="view=mine")
    settle_queue_caches()
    monkeypatch.setattr(queue_frame, "frame_key", lambda context: None)
    full = queue_html(eli_client)  # written in full, not kept
    monkeypatch.undo()
    assert len(queue_frame._FRAMES) == 0

    first, kept = queue_html(eli_client), queue_html(eli_client)

    assert len(queue_frame._FRAMES) == 1
    assert per_request_free(kept) == per_request_free(first) == per_request_free(full)
    assert "Framed subject" in kept
    assert "Mine &amp; &lt;urgent&gt;" in kept


def test_every_page_has_its_own_csrf_token_and_clock(
    eli_client, settle_queue_caches, monkeypatch
):
    TicketFactory()
    settle_queue_caches()
    start = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: start)
    first = queue_html(eli_client)
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=7))
    second = queue_html(eli_client)

    assert len(queue_frame._FRAMES) == 1
    first_tokens, second_tokens = set(TOKEN.findall(first)), set(TOKEN.findall(second))
    assert len(first_tokens) == len(second_tokens) == 1  # in every form of the page
    assert first_tokens != second_tokens
    assert CLOCK.findall(first) == [timezone.localtime(start).isoformat()]
    assert CLOCK.findall(second) == [
        timezone.localtime(start + timedelta(seconds=7)).isoformat()
    ]


def test_the_kept_pages_token_is_accepted_by_its_forms(eli, settle_queue_caches):
    ticket = TicketFactory()
    settle_queue_caches()
    client = Client(enforce_csrf_checks=True)
    client.force_login(eli)
    queue_html(client)
    (token,) = set(TOKEN.findall(queue_html(client)))
    assign = reverse("admin:tickets_ticket_workspace_assign_me", args=[ticket.pk])

    refused = client.post(assign, {"csrfmiddlewaretoken": "x" * 64})
    accepted = client.post(assign, {"csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == eli


def test_each_viewer_sees_their_own_name_and_saved_views(
    eli, erin, settle_queue_caches
):
    TicketFactory()
    SavedView.objects.create(name="Eli's own", query="view=mine", owner=eli)
    settle_queue_caches()
    eli_client, erin_client = signed_in(eli), signed_in(erin)

    for _ in range(2):
        eli_page, erin_page = queue_html(eli_client), queue_html(erin_client)
        assert eli.get_short_name() in eli_page
        assert erin.get_short_name() in erin_page
        assert eli.get_short_name() not in erin_page.split('id="user-tools"')[1][:400]
        assert "Eli&#x27;s own" in eli_page or "Eli&#39;s own" in eli_page
        assert "own</a>" not in erin_page


def test_new_counts_a_new_page_and_a_lost_permission_each_write_anew(
    eli, eli_client, settle_queue_caches
):
    TicketFactory()
    settle_queue_caches()
    before = queue_html(eli_client)
    assert "ws-bulkbar" in before

    eli.groups.clear()
    view = Permission.objects.get(
        codename="view_ticket", content_type__app_label="tickets"
    )
    eli.user_permissions.add(view)
    eli.refresh_from_db()
    after = queue_html(signed_in(eli))

    assert "ws-bulkbar" not in after  # no change permission, no bulk bar
    assert len(queue_frame._FRAMES) == 2


def test_a_message_is_shown_once_and_never_kept(eli_client, settle_queue_caches):
    ticket = TicketFactory()
    settle_queue_caches()
    queue_html(eli_client)
    assign = reverse("admin:tickets_ticket_workspace_assign_me", args=[ticket.pk])
    done = eli_client.post(assign, follow=True)
    with_message = done.content.decode()
    after = queue_html(eli_client)

    assert 'class="messagelist"' in with_message
    assert 'class="messagelist"' not in after


def test_a_page_whose_markers_appear_in_its_text_is_written_in_full(
    eli_client, settle_queue_caches, monkeypatch
):
    """Were a marker ever guessable, text holding it would cut the page in the
    wrong place: such a rendering is not kept, and the page is written in full."""
    guessed = iter(letter * 32 for letter in "abc")  # rows, token, clock
    monkeypatch.setattr(queue_frame.secrets, "token_hex", lambda n: next(guessed))
    SavedView.objects.create(name="a" * 32, query="view=open")
    TicketFactory(subject="Marker test")
    settle_queue_caches()

    html = queue_html(eli_client)

    assert html.count("Marker test") == 2  # the row's title and text, once each
    assert "a" * 32 in html  # the view's name, as it is
    assert len(set(TOKEN.findall(html))) == 1
    assert list(queue_frame._FRAMES._values.values()) == [None]


def test_a_context_value_it_cannot_key_is_written_in_full():
    assert queue_frame.frame_key({"title": "Queue", "unknown": object()}) is None
    assert queue_frame.frame_key({"title": "Queue", "count": 3}) is not None


def test_a_value_that_cannot_be_hashed_is_written_in_full():
    context = {"tabs": [{"slug": "open", "nested": ["a list"]}], "clock": "now"}

    html = queue_frame.render_framed(lambda shown: f"page {shown['clock']}", context)

    assert html == "page now"
    assert len(queue_frame._FRAMES) == 0
