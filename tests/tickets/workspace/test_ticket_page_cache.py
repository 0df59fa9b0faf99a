"""The ticket page's cached parts: always the current state, fixed queries, one read.

The page reads its thread and side fragments, presence and the engineer's macros
from the cache in one round trip, and renders its form without Django's form
machinery (``page_form``). Writes here run their commit callbacks
(``django_capture_on_commit_callbacks``), as a committed write elsewhere would,
so that the cache is really read and really invalidated.
"""

import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.conftest import signed_in
from tests.factories import CommentFactory, StaffFactory, TicketFactory
from tickets import cache as ticket_cache
from tickets import services
from tickets.models import Macro
from tickets.workspace import bulk, page
from tickets.workspace.collision import Seen
from tickets.workspace.forms import TicketPageForm
from tickets.workspace.page_form import ShownForm

from .test_ticket_page import form_data, page_url

pytestmark = pytest.mark.django_db


def html(client, ticket, view=""):
    response = client.get(page_url(ticket, view))
    assert response.status_code == 200
    return response.content.decode()


def selected(content, name):
    select = re.search(rf'<select [^>]*name="{name}"[^>]*>(.*?)</select>', content)
    assert select is not None
    return re.findall(r'<option value="([^"]*)" selected>', select.group(1))


def no_csrf(content):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content)


@pytest.fixture
def warm(settle_cache_bumps):
    """Commit what the fixtures wrote, so that the page's cache is used from here."""
    settle_cache_bumps()


def test_another_engineers_reply_priority_and_assignment_show_at_once(
    eli_client, erin, file_ticket, django_capture_on_commit_callbacks, warm
):
    ticket = file_ticket()
    warm_page = html(eli_client, ticket)
    assert selected(warm_page, "assignee") == [""]

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(
            ticket=ticket, author=erin, body="Upgrade the agent to 9.3"
        )
        for change in (
            bulk.BulkChange(action="assign", value=str(erin.pk)),
            bulk.BulkChange(action="priority", value="0", text="Production down"),
        ):
            bulk.tickets_bulk_change(actor=erin, ticket_ids=[ticket.pk], change=change)
    ticket.refresh_from_db()
    content = html(eli_client, ticket)

    assert "Upgrade the agent to 9.3" in content
    assert selected(content, "assignee") == [str(erin.pk)]
    assert selected(content, "priority") == ["0"]
    assert f'value="{Seen.of(ticket).token()}"' in content


def test_a_macro_edit_and_deletion_show_at_once(
    eli_client, file_ticket, django_capture_on_commit_callbacks, warm
):
    ticket = file_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        macro = Macro.objects.create(title="Ask for logs", body="Logs, please.")
    assert "Ask for logs" in html(eli_client, ticket)
    with CaptureQueriesContext(connection) as warm_queries:
        html(eli_client, ticket)
    assert not [q for q in warm_queries if "tickets_macro" in q["sql"]]

    with django_capture_on_commit_callbacks(execute=True):
        macro.title = "Ask for the agent's logs"
        macro.save(update_fields=["title"])
    edited = html(eli_client, ticket)
    with django_capture_on_commit_callbacks(execute=True):
        macro.delete()
    deleted = html(eli_client, ticket)

    assert "Ask for the agent&#x27;s logs" in edited
    assert "Ask for logs" not in edited
    assert "Ask for the agent" not in deleted


def test_a_personal_macro_is_shown_to_its_owner_only(
    eli, eli_client, erin, file_ticket, django_capture_on_commit_callbacks, warm
):
    ticket = file_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        Macro.objects.create(title="Eli's own", body="x", owner=eli)
    assert "Eli&#x27;s own" in html(eli_client, ticket)

    assert "Eli&#x27;s own" not in html(signed_in(erin), ticket)


def test_a_deleted_assignee_leaves_the_macros_at_once(
    eli_client, file_ticket, django_capture_on_commit_callbacks, warm
):
    ticket = file_ticket()
    leaver = StaffFactory()
    leaver_id = str(leaver.pk)
    with django_capture_on_commit_callbacks(execute=True):
        Macro.objects.create(
            title="To the leaver", body="x", assignee_action="user", assignee=leaver
        )
    before = page_macros(eli_client, ticket)
    with django_capture_on_commit_callbacks(execute=True):
        leaver.delete()  # SET_NULL on the macro: an update without a signal

    assert before["To the leaver"]["assignee"] == leaver_id
    assert page_macros(eli_client, ticket)["To the leaver"]["assignee"] is None


def page_macros(client, ticket):
    response = client.get(page_url(ticket))
    return {m["title"]: m for m in response.context_data["macros"]}


def test_a_new_staff_member_can_be_assigned_at_once(
    eli_client, file_ticket, django_capture_on_commit_callbacks, warm
):
    ticket = file_ticket()
    html(eli_client, ticket)

    with django_capture_on_commit_callbacks(execute=True):
        newcomer = StaffFactory(first_name="Nora", last_name="New")

    assert f'<option value="{newcomer.pk}">Nora New</option>' in html(
        eli_client, ticket
    )


def cached_thread(client, ticket):
    """Whether the page now takes its thread from the cache (no comment query)."""
    with CaptureQueriesContext(connection) as queries:
        html(client, ticket)
    return not any("tickets_comment" in q["sql"] for q in queries.captured_queries)


def test_a_renamed_engineer_shows_at_once_in_the_thread_and_the_select(
    eli_client,
    erin,
    file_ticket,
    django_capture_on_commit_callbacks,
    settle_cache_bumps,
):
    """The thread and the assignee options are kept under the NAMES stamp."""
    ticket = file_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(ticket=ticket, author=erin, body="Looking at it")
    ticket.refresh_from_db()
    settle_cache_bumps()
    before = html(eli_client, ticket)
    assert cached_thread(eli_client, ticket)
    assert f'<option value="{erin.pk}">Erin Other</option>' in before
    assert "<strong>Erin Other</strong>" in before

    with django_capture_on_commit_callbacks(execute=True):
        erin.last_name = "Renamed"
        erin.save(update_fields=["last_name"])
    after = html(eli_client, ticket)

    assert "Erin Other" not in after
    assert f'<option value="{erin.pk}">Erin Renamed</option>' in after
    assert "<strong>Erin Renamed</strong>" in after


def test_a_rename_not_yet_committed_is_shown_to_its_writer_only(
    eli_client,
    erin,
    file_ticket,
    django_capture_on_commit_callbacks,
    settle_cache_bumps,
):
    """A rename rolled back never reaches the cache: it was never stored."""
    ticket = file_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(ticket=ticket, author=erin, body="Looking at it")
    ticket.refresh_from_db()
    settle_cache_bumps()
    html(eli_client, ticket)
    assert cached_thread(eli_client, ticket)

    shown = []

    def rename_then_fail():
        with transaction.atomic():
            erin.last_name = "Uncommitted"
            erin.save(update_fields=["last_name"])
            shown.append(html(eli_client, ticket))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rename_then_fail()
    (pending,) = shown
    after = html(eli_client, ticket)

    assert "<strong>Erin Uncommitted</strong>" in pending
    assert f'<option value="{erin.pk}">Erin Uncommitted</option>' in pending
    assert "Uncommitted" not in after
    assert "<strong>Erin Other</strong>" in after


def test_the_thread_is_kept_longer_than_the_side_panel(
    eli_client, file_ticket, settle_cache_bumps, monkeypatch
):
    """Only the side panel shows time-driven text: it alone expires soon."""
    ticket = file_ticket()
    settle_cache_bumps()
    timeouts = {}
    real_set, real_set_many = cache.set, cache.set_many

    def set_many(entries, timeout=None, **kwargs):
        for key in entries:
            timeouts[(key.split(":")[2:3] or [key])[0]] = timeout
        return real_set_many(entries, timeout, **kwargs)

    def set_one(key, value, timeout=None, **kwargs):
        timeouts[(key.split(":")[2:3] or [key])[0]] = timeout
        return real_set(key, value, timeout, **kwargs)

    monkeypatch.setattr(cache, "set_many", set_many)
    monkeypatch.setattr(cache, "set", set_one)
    html(eli_client, ticket)

    assert timeouts["ws-thread"] == page.THREAD_SECONDS
    assert timeouts["ws-side"] == ticket_cache.STALE_AFTER


@pytest.mark.parametrize("comments", [1, 30])
def test_queries_are_constant_in_thread_length_cold_and_warm(
    eli, alice, django_assert_max_num_queries, settle_cache_bumps, comments
):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    for n in range(comments):
        CommentFactory(ticket=ticket, author=eli if n % 2 else alice.user)
    settle_cache_bumps()
    client = signed_in(eli)
    client.get(page_url(ticket))  # the session and permissions, as in use
    cache.clear()

    # One more than warm for the ticket: its key columns, then all of it.
    with django_assert_max_num_queries(16):
        cold = client.get(page_url(ticket))
    # Session, user, the ticket (permissions and the staff list come from the cache).
    with django_assert_max_num_queries(3):
        warm = client.get(page_url(ticket))

    assert cold.status_code == warm.status_code == 200
    assert no_csrf(cold.content.decode()) == no_csrf(warm.content.decode())


def test_a_warm_page_reads_the_cache_in_one_round_trip(
    eli_client, file_ticket, settle_cache_bumps
):
    ticket = file_ticket()
    settle_cache_bumps()  # the ticket committed: its page is kept from here
    html(eli_client, ticket)
    calls = []

    def spy(name):
        real = getattr(cache, name)
        return mock.patch.object(
            cache, name, side_effect=lambda *a, **k: calls.append(name) or real(*a, **k)
        )

    with spy("get"), spy("get_many"), spy("set"), spy("set_many"):
        html(eli_client, ticket)

    # One read for the user's permissions (accounts.backends), one for the page.
    assert calls == ["get_many", "get_many"]


def test_a_form_with_errors_keeps_the_typed_text_and_is_never_cached(
    eli_client, file_ticket, warm
):
    ticket = file_ticket()
    html(eli_client, ticket)
    data = form_data(
        eli_client, ticket, priority=0, reply="Typed <b>draft</b> text", _save="Save"
    )

    refused = eli_client.post(page_url(ticket), data).content.decode()
    again = html(eli_client, ticket)

    assert isinstance(
        eli_client.post(page_url(ticket), data).context_data["form"], TicketPageForm
    )
    assert "Typed &lt;b&gt;draft&lt;/b&gt; text" in refused
    assert "Say why the priority changes" in refused
    assert "Typed" not in again
    assert selected(again, "priority") == [str(ticket.priority)]


@pytest.mark.parametrize("view", ["", 'view=open&q="><script>'])
def test_the_shown_form_renders_as_the_real_form_token_for_token(
    eli_client, erin, file_ticket, view, monkeypatch
):
    """Against ``TicketPageForm`` itself, on tickets that show every field state."""
    plain = file_ticket()
    assigned = file_ticket("Assigned, out of scope", priority=1)
    bulk.tickets_bulk_change(
        actor=erin,
        ticket_ids=[assigned.pk],
        change=bulk.BulkChange(action="assign", value=str(erin.pk)),
    )
    assigned.refresh_from_db()
    assigned.scope_exclusion = "third_party"
    assigned.save(update_fields=["scope_exclusion"])
    low = file_ticket("No session at P4", priority=4)

    def real_form(ticket, *, view, staff):
        return TicketPageForm(
            instance=ticket, initial={"seen": Seen.of(ticket).token(), "view": view}
        )

    for ticket in (plain, assigned, low):
        response = eli_client.get(page_url(ticket, view))
        assert isinstance(response.context_data["form"], ShownForm)
        shown = no_csrf(response.content.decode())
        # The head is kept: rendered again here from the real form.
        cache.clear()
        with monkeypatch.context() as patched:
            patched.setattr(page, "ticket_page_form_shown", real_form)
            patched.setattr(
                page,
                "reply_form_shown",
                lambda view, ticket=ticket: real_form(ticket, view=view, staff=()),
            )
            response = eli_client.get(page_url(ticket, view))
        assert isinstance(response.context_data["form"], TicketPageForm)

        assert shown.split() == no_csrf(response.content.decode()).split()
