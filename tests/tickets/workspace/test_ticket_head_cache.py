"""The ticket page's kept head (``page._head_fragment``): always the current ticket.

The header, the field panel, the ``seen`` token, the session refusal and the
macros' ticket placeholders are kept per ticket version; each test reads the page
from the cache first (no ticket read beyond its key columns), then changes what
the head shows in a way that reaches it by one invalidation only, and reads it
fresh.
"""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets import services
from tickets.choices import Status
from tickets.lifecycle import tickets_version_support_refresh
from tickets.models import Release, Ticket
from tickets.workspace.models import Macro
from tickets.workspace.page_ticket import PageTicket, page_ticket

from .test_ticket_page import page_url

pytestmark = pytest.mark.django_db


def html(client, ticket):
    response = client.get(page_url(ticket))
    assert response.status_code == 200
    return response.content.decode()


def head_cached(client, ticket):
    """Whether the page took its head from the cache: only the key columns read."""
    with CaptureQueriesContext(connection) as queries:
        html(client, ticket)
    return not any('"tickets_organization"' in q["sql"] for q in queries)


def header(content):
    match = re.search(r'<p class="ws-ticket-sub">(.*?)</p>', content, re.S)
    assert match is not None
    return match.group(1)


@pytest.fixture
def ticket(file_ticket, settle_cache_bumps):
    filed = file_ticket(version_reported="1.2.0")
    settle_cache_bumps()
    return filed


def test_an_organisation_rename_shows_in_the_header_at_once(
    eli_client, ticket, django_capture_on_commit_callbacks
):
    html(eli_client, ticket)
    assert head_cached(eli_client, ticket)
    organization = ticket.organization

    with django_capture_on_commit_callbacks(execute=True):
        # No ticket is saved: only the NAMES stamp says the head is stale.
        organization.name = "Renamed Org"
        organization.save(update_fields=["name"])

    assert "Renamed Org" in header(html(eli_client, ticket))


def test_a_tiers_session_terms_show_at_once(
    eli_client, ticket, django_capture_on_commit_callbacks
):
    before = html(eli_client, ticket)
    assert head_cached(eli_client, ticket)
    tier = ticket.organization.tier

    with django_capture_on_commit_callbacks(execute=True):
        tier.realtime_sessions = not tier.realtime_sessions
        tier.realtime_max_priority = 4
        tier.save(update_fields=["realtime_sessions", "realtime_max_priority"])

    assert ("Real-time sessions are not part of" in before) != (
        "Real-time sessions are not part of" in html(eli_client, ticket)
    )


def test_a_requester_rename_shows_in_the_macros_at_once(
    eli_client, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        Macro.objects.create(title="Hello", body="Hi {{ contact.first_name }}")
    html(eli_client, ticket)
    assert head_cached(eli_client, ticket)

    with django_capture_on_commit_callbacks(execute=True):
        ticket.requester.first_name = "Alicia"
        ticket.requester.save(update_fields=["first_name"])
    response = eli_client.get(page_url(ticket))

    (macro,) = response.context_data["macros"]
    assert macro["body"] == "Hi Alicia"


def test_the_unsupported_flag_appears_the_day_after_support_ends(
    eli_client, ticket, monkeypatch, settle_cache_bumps
):
    today = timezone.now()
    ticket.version_support_ends_on = today.date()
    ticket.save(update_fields=["version_support_ends_on"])
    ticket.refresh_from_db()
    settle_cache_bumps()
    monkeypatch.setattr(timezone, "now", lambda: today)
    supported = html(eli_client, ticket)
    assert head_cached(eli_client, ticket)

    monkeypatch.setattr(timezone, "now", lambda: today + timedelta(days=1))
    unsupported = html(eli_client, ticket)

    assert "unsupported" not in header(supported)
    assert "unsupported" in header(unsupported)


def test_a_release_that_ends_the_version_flags_the_header_at_once(
    eli_client, ticket, settle_cache_bumps
):
    html(eli_client, ticket)
    assert head_cached(eli_client, ticket)

    Release.objects.create(version="1.2.0", major=1, released_on=date(2019, 1, 1))
    Release.objects.create(version="3.0.0", major=3, released_on=date(2024, 1, 1))
    Release.objects.create(version="4.0.0", major=4, released_on=date(2025, 1, 1))
    settle_cache_bumps()
    tickets_version_support_refresh()  # QuerySet.update: no signal, a new updated_at

    assert "unsupported" in header(html(eli_client, ticket))


def test_the_auto_close_shows_in_the_header_and_fields_at_once(
    eli_client, ticket, settle_cache_bumps
):
    services.ticket_status_change(
        ticket=ticket, actor=ticket.requester, status=Status.SOLVED
    )
    ticket.refresh_from_db()
    settle_cache_bumps()
    html(eli_client, ticket)
    assert head_cached(eli_client, ticket)

    assert services.tickets_close_solved(now=timezone.now() + timedelta(days=30))
    content = html(eli_client, ticket)

    assert 'class="ws-status-closed"' in header(content)
    assert '<option value="closed" selected>' in content


def test_a_get_keys_the_fragments_as_a_submit_does(ticket):
    """A GET's key columns are the full ticket's, so both share their entries."""
    read = page_ticket(ticket.pk)

    assert read == PageTicket.of(Ticket.objects.get(pk=ticket.pk))
    assert page_ticket(ticket.pk + 1000) is None
