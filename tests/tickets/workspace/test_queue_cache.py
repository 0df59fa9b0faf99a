"""The queue's cached rows, option lists and saved views: never stale, never shared
across what a row depends on, and the SLA badge still live."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as fixed_zone

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from scalr_support.accounts import backends
from tests.conftest import signed_in
from tests.factories import CommentFactory, StaffFactory, TicketFactory
from tickets import services, sla_state
from tickets.choices import Priority
from tickets.lifecycle import tickets_version_support_refresh
from tickets.models import Release, SavedView, Ticket
from tickets.workspace import queue_page, rows, versions

pytestmark = pytest.mark.django_db

QUEUE = "admin:tickets_ticket_changelist"
PLUS_ONE = fixed_zone(timedelta(hours=1))
WARM_QUERIES = 5  # session, user, its two permission reads, the page's tickets


@pytest.fixture
def settle(settle_queue_caches: Callable[[], None]) -> Callable[[], None]:
    return settle_queue_caches


def queue_html(client, **params: str) -> str:
    response = client.get(reverse(QUEUE), params)
    assert response.status_code == 200
    return response.content.decode()


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def row_of(html: str, ticket: Ticket) -> str:
    match = re.search(rf'<tr data-ws-row data-id="{ticket.pk}".*?</tr>', html)
    assert match, f"no row for {ticket.reference}"
    return match.group(0)


def row_keys() -> list[str]:
    return [
        key
        for key in cache._cache.get_client().keys("*")  # type: ignore[attr-defined]
        if b"workspace:row:" in key
    ]


def test_a_warm_queue_reads_only_the_page_of_tickets(
    eli_client, settle, monkeypatch, django_assert_max_num_queries
):
    ticket = TicketFactory(subject="Cached subject")
    settle()
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)
    cold = queue_html(eli_client)

    with django_assert_max_num_queries(WARM_QUERIES):
        warm = queue_html(eli_client)

    assert without_csrf(warm) == without_csrf(cold)
    assert "Cached subject" in row_of(warm, ticket)


def test_a_changed_subject_priority_and_status_show_at_once(
    eli, eli_client, settle, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(subject="Old subject", priority=Priority.MAJOR)
    settle()
    queue_html(eli_client)

    ticket.subject = "New subject"
    ticket.save()  # the admin's way: auto_now moves updated_at
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_priority_change(
            ticket=ticket, actor=eli, priority=Priority.CRITICAL, reason="Outage"
        )
        services.ticket_status_change(ticket=ticket, actor=eli, status="on_hold")
    row = row_of(queue_html(eli_client), ticket)

    assert "New subject" in row
    assert "P1 Critical" in row
    assert "ws-status-on_hold" in row


def test_a_new_assignee_and_a_renamed_one_show_at_once(
    eli, eli_client, settle, django_capture_on_commit_callbacks
):
    ticket = TicketFactory()
    settle()
    assert "Unassigned" in row_of(queue_html(eli_client), ticket)

    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=ticket, actor=eli, assignee=eli)
    assert "Eli Engineer" in row_of(queue_html(eli_client), ticket)

    with django_capture_on_commit_callbacks(execute=True):
        eli.first_name = "Elias"
        eli.save(update_fields=["first_name"])
    html = queue_html(eli_client)

    assert "Elias Engineer" in row_of(html, ticket)
    assert ">Elias Engineer</option>" in html  # the assignee filter's list too


def test_a_renamed_organisation_and_tier_show_at_once(
    eli_client, org_a, settle, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(organization=org_a)
    settle()
    queue_html(eli_client)

    with django_capture_on_commit_callbacks(execute=True):
        org_a.name = "Acme Renamed"
        org_a.save(update_fields=["name"])
        tier = org_a.tier
        tier.name = "Business Plus"
        tier.save()
    html = queue_html(eli_client)

    assert "Acme Renamed" in row_of(html, ticket)
    assert ">Business Plus</span>" in row_of(html, ticket)
    assert ">Business Plus</option>" in html  # the tier filter's list too


def test_a_customer_reply_moves_the_last_customer_update(
    eli_client, alice, settle, monkeypatch
):
    opened = timezone.now().replace(microsecond=0) - timedelta(days=3)
    ticket = TicketFactory(requester=alice.user, organization=alice.organization)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=opened)
    settle()
    before = row_of(queue_html(eli_client), ticket)

    services.comment_create(ticket=ticket, author=alice.user, body="Still broken")
    after = row_of(queue_html(eli_client), ticket)

    assert f"{opened:%b}" in before
    assert before != after
    assert f"{timezone.now():%H:%M}" in after.split('class="ws-updated"')[1]


def test_a_deleted_customer_comment_moves_the_last_customer_update_back(
    eli_client, alice, settle, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(requester=alice.user, organization=alice.organization)
    comment = CommentFactory(ticket=ticket, author=alice.user)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=comment.created_at - timedelta(days=40)
    )
    settle()
    with_comment = row_of(queue_html(eli_client), ticket)

    with django_capture_on_commit_callbacks(execute=True):
        comment.delete()
    without = row_of(queue_html(eli_client), ticket)

    assert with_comment != without


def test_each_time_zone_sees_its_own_times(eli, erin, settle):
    ticket = TicketFactory()
    eli.time_zone = "Asia/Tokyo"
    eli.save(update_fields=["time_zone"])
    settle()

    tokyo = row_of(queue_html(signed_in(eli)), ticket)
    utc = row_of(queue_html(signed_in(erin)), ticket)

    assert "JST" in tokyo
    assert "UTC" in utc
    assert "JST" not in utc


def test_each_view_carries_itself_in_the_links_of_shared_rows(eli_client, settle):
    ticket = TicketFactory()
    settle()

    in_open = row_of(queue_html(eli_client), ticket)
    in_unassigned = row_of(queue_html(eli_client, view="unassigned"), ticket)
    filtered = row_of(queue_html(eli_client, priority=str(ticket.priority)), ticket)

    # The link's ``view`` is the queue's own query string, URL-encoded.
    assert f'/{ticket.pk}/change/?view=view%3Dopen"' in in_open
    assert f'/{ticket.pk}/change/?view=view%3Dunassigned"' in in_unassigned
    priority = f"view%3Dopen%26priority%3D{ticket.priority}"
    assert f'/{ticket.pk}/change/?view={priority}"' in filtered
    assert "unassigned" not in in_open.split("<td", 1)[0]


def test_the_sla_badge_counts_down_without_any_write(
    eli_client, settle, monkeypatch, django_assert_max_num_queries
):
    start = timezone.now()
    ticket = TicketFactory()
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=start + timedelta(minutes=30),
        sla_due_at=start + timedelta(minutes=30),
        sla_at_risk_at=start + timedelta(minutes=10),
    )
    settle()
    monkeypatch.setattr(timezone, "now", lambda: start)
    on_track = row_of(queue_html(eli_client), ticket)

    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=20))
    with django_assert_max_num_queries(WARM_QUERIES):
        at_risk = row_of(queue_html(eli_client), ticket)
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=45))
    with django_assert_max_num_queries(WARM_QUERIES):
        breached = row_of(queue_html(eli_client), ticket)

    assert "sla-on_track" in on_track
    assert "30m left" in on_track
    assert "sla-at_risk" in at_risk
    assert "10m left" in at_risk
    assert "sla-breached" in breached
    assert "15m late" in breached


def test_the_unsupported_version_flag_appears_the_day_after_support_ends(
    eli_client, settle, monkeypatch
):
    today = timezone.now()
    ticket = TicketFactory()
    Ticket.objects.filter(pk=ticket.pk).update(version_support_ends_on=today.date())
    settle()
    monkeypatch.setattr(timezone, "now", lambda: today)
    supported = row_of(queue_html(eli_client), ticket)

    monkeypatch.setattr(timezone, "now", lambda: today + timedelta(days=1))
    unsupported = row_of(queue_html(eli_client), ticket)

    assert "policy-flag-unsupported-version" not in supported
    assert "policy-flag-unsupported-version" in unsupported


def test_a_release_that_ends_a_version_flags_its_tickets_at_once(eli_client, settle):
    ticket = TicketFactory(version_reported="1.2.0")
    settle()
    assert "unsupported-version" not in row_of(queue_html(eli_client), ticket)

    Release.objects.create(version="1.2.0", major=1, released_on=date(2019, 1, 1))
    Release.objects.create(version="3.0.0", major=3, released_on=date(2024, 1, 1))
    Release.objects.create(version="4.0.0", major=4, released_on=date(2025, 1, 1))
    tickets_version_support_refresh()
    ticket.refresh_from_db()

    assert ticket.version_support_ends_on is not None
    assert "unsupported-version" in row_of(queue_html(eli_client), ticket)


def test_staff_list_follows_new_and_departing_staff(
    eli_client, settle, django_capture_on_commit_callbacks
):
    settle()
    assert "Nina Newcomer" not in queue_html(eli_client)

    with django_capture_on_commit_callbacks(execute=True):
        nina = StaffFactory(first_name="Nina", last_name="Newcomer")
    assert ">Nina Newcomer</option>" in queue_html(eli_client)

    with django_capture_on_commit_callbacks(execute=True):
        nina.is_active = False
        nina.save(update_fields=["is_active"])
    assert "Nina Newcomer" not in queue_html(eli_client)


def test_saved_views_follow_their_changes(
    maya, eli_client, settle, django_capture_on_commit_callbacks
):
    settle()
    queue_html(eli_client)

    with django_capture_on_commit_callbacks(execute=True):
        view = SavedView.objects.create(name="Team blockers", query="view=open")
    assert "Team blockers" in queue_html(eli_client)

    with django_capture_on_commit_callbacks(execute=True):
        view.delete()
    assert "Team blockers" not in queue_html(eli_client)


def test_a_writer_neither_reads_nor_stores_under_its_uncommitted_names(
    eli_client, org_a, settle
):
    ticket = TicketFactory(organization=org_a)
    settle()
    queue_html(eli_client)
    cache.clear()

    org_a.name = "Uncommitted name"
    org_a.save(update_fields=["name"])  # its bump waits for a commit never made
    html = queue_html(eli_client)

    assert "Uncommitted name" in row_of(html, ticket)
    assert row_keys() == []
    assert versions.pending(versions.NAMES)


def test_rows_are_rendered_only_for_the_tickets_the_cache_misses(
    eli_client, settle, monkeypatch
):
    tickets = TicketFactory.create_batch(3)
    settle()
    queue_html(eli_client)
    tickets[0].subject = "Changed"
    tickets[0].save()
    rendered: list[list[int]] = []
    real = queue_page.queues.queue_rows
    monkeypatch.setattr(
        queue_page.queues,
        "queue_rows",
        lambda ids: rendered.append(sorted(ids)) or real(ids),
    )

    queue_html(eli_client)

    assert rendered == [[tickets[0].pk]]


@pytest.fixture
def cache_reads(monkeypatch) -> Callable[[], list[list[str]]]:
    """Start recording the keys of every ``cache.get_many``; returns the record."""

    def start() -> list[list[str]]:
        asked: list[list[str]] = []
        real = cache.get_many
        monkeypatch.setattr(
            cache, "get_many", lambda keys: asked.append(list(keys)) or real(keys)
        )
        return asked

    return start


def test_a_warm_page_reads_its_rows_from_one_entry_and_a_changed_one_from_each(
    eli_client, settle, cache_reads
):
    tickets = TicketFactory.create_batch(3)
    settle()
    queue_html(eli_client)
    asked = cache_reads()

    queue_html(eli_client)
    tickets[1].subject = "Changed"
    tickets[1].save()
    changed = queue_html(eli_client)

    row_reads = [[k for k in keys if k.startswith("workspace:row:")] for keys in asked]
    assert [len(keys) for keys in row_reads if keys] == [3]  # the changed page only
    assert "Changed" in row_of(changed, tickets[1])


def test_the_cached_staff_names_follow_a_rename(
    eli, settle, django_capture_on_commit_callbacks, django_assert_num_queries
):
    settle()
    assert (eli.pk, "Eli Engineer") in queue_page.staff_names()
    with django_assert_num_queries(0):
        queue_page.staff_names()

    with django_capture_on_commit_callbacks(execute=True):
        eli.last_name = "Renamed"
        eli.save()

    assert (eli.pk, "Eli Renamed") in queue_page.staff_names()


def test_a_ticket_deleted_while_the_page_is_read_is_left_out(
    eli_client, settle, monkeypatch
):
    kept, gone = TicketFactory.create_batch(2)
    settle()
    real = queue_page.queues.queue_rows

    def rows_after_a_delete(ids):
        Ticket.objects.filter(pk=gone.pk).delete()
        return real(ids)

    monkeypatch.setattr(queue_page.queues, "queue_rows", rows_after_a_delete)
    html = queue_html(eli_client)

    assert f'data-id="{kept.pk}"' in html
    assert f'data-id="{gone.pk}"' not in html


def test_a_warm_queue_reads_the_viewers_permissions_in_its_one_round_trip(
    eli_client, settle, cache_reads
):
    settle()
    queue_html(eli_client)
    asked = cache_reads()

    queue_html(eli_client)

    assert len(asked) == 1
    assert backends.VERSION_KEY in asked[0]


def test_a_permission_taken_away_refuses_the_queue_at_once(
    eli, eli_client, settle, django_capture_on_commit_callbacks
):
    settle()
    queue_html(eli_client)
    queue_html(eli_client)  # the permissions come from the page's round trip

    with django_capture_on_commit_callbacks(execute=True):
        eli.groups.clear()

    assert eli_client.get(reverse(QUEUE)).status_code == 403


def test_a_kept_sla_badge_is_that_of_its_due_times_own_zone_and_minute():
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    due = now + timedelta(minutes=30)
    cell = rows.sla_cell_renderer(now, UTC)

    in_utc = cell(sla_state.ON_TRACK, due, False)
    same_instant = cell(sla_state.ON_TRACK, due.astimezone(PLUS_ONE), False)
    a_minute_later = rows.sla_cell_renderer(now + timedelta(minutes=1), UTC)(
        sla_state.ON_TRACK, due, False
    )

    assert 'data-ws-due="2026-12-04T12:30:00+00:00"' in in_utc
    assert 'data-ws-due="2026-12-04T13:30:00+01:00"' in same_instant
    assert "30m left" in in_utc
    assert "29m left" in a_minute_later
