"""The queue: tabs with counts, the default view, filters, pages and saved views."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.conftest import signed_in
from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import SavedView, Ticket
from tickets.workspace import queues

pytestmark = pytest.mark.django_db

QUEUE = "admin:tickets_ticket_changelist"


def rows(html: str) -> list[str]:
    """The ticket numbers of the queue's rows, in order."""
    import re

    return re.findall(r'<td class="ws-num">(\d+)</td>', html)


def test_default_view_is_open_tickets_by_priority_then_due_time(eli_client):
    now = timezone.now()
    later_blocker = TicketFactory(priority=Priority.BLOCKER)
    minor = TicketFactory(priority=Priority.MINOR)
    sooner_blocker = TicketFactory(priority=Priority.BLOCKER)
    solved = TicketFactory(priority=Priority.BLOCKER, status=Status.SOLVED)
    Ticket.objects.filter(pk=later_blocker.pk).update(
        sla_due_at=now + timedelta(hours=3), first_response_due_at=now
    )
    Ticket.objects.filter(pk=sooner_blocker.pk).update(
        sla_due_at=now + timedelta(hours=1), first_response_due_at=now
    )

    html = eli_client.get(reverse(QUEUE)).content.decode()

    assert rows(html) == [
        str(sooner_blocker.number),
        str(later_blocker.number),
        str(minor.number),
    ]
    assert str(solved.number) not in rows(html)


def test_tabs_count_what_each_view_holds(eli, erin, eli_client):
    now = timezone.now()
    mine = TicketFactory(assignee=eli)
    TicketFactory(assignee=erin, status=Status.WAITING_ON_CUSTOMER)
    breaching = TicketFactory()
    breached = TicketFactory()
    TicketFactory(status=Status.SOLVED)
    TicketFactory(status=Status.CLOSED, assignee=eli)
    Ticket.objects.filter(pk=breaching.pk).update(
        first_response_due_at=now,
        sla_due_at=now + timedelta(minutes=20),
        sla_at_risk_at=now - timedelta(minutes=10),
    )
    Ticket.objects.filter(pk=breached.pk).update(
        first_response_due_at=now, sla_due_at=now - timedelta(minutes=5)
    )

    response = eli_client.get(reverse(QUEUE))
    counts = {tab["slug"]: tab["count"] for tab in response.context_data["tabs"]}

    assert counts == {
        "mine": 1,
        "unassigned": 2,
        "breaching": 1,
        "breached": 1,
        "waiting": 1,
        "open": 4,
        "done": 2,
    }
    breaching_html = eli_client.get(reverse(QUEUE), {"view": "breaching"})
    assert rows(breaching_html.content.decode()) == [str(breaching.number)]
    mine_html = eli_client.get(reverse(QUEUE), {"view": "mine"}).content.decode()
    assert rows(mine_html) == [str(mine.number)]


def test_every_column_is_there_with_the_zone_on_due_times(
    settings, eli_client, file_ticket, eli
):
    settings.TIME_ZONE = "America/New_York"
    ticket = file_ticket(subject="Agent pool offline", priority=Priority.CRITICAL)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=eli)

    html = eli_client.get(reverse(QUEUE)).content.decode()

    for header in (
        "Subject",
        "Organisation",
        "Priority",
        "SLA",
        "Status",
        "Assignee",
        "Customer update",
    ):
        assert f">{header}</th>" in html
    assert "Agent pool offline" in html
    assert "Acme Corp" in html
    assert ">Business</span>" in html
    assert "P1 Critical" in html
    assert "Eli Engineer" in html
    assert "left</span>" in html  # the countdown
    assert "EST" in html  # the absolute due time names the viewer's zone


def test_filters_and_search_narrow_the_view(eli_client, org_a, free_org):
    business = TicketFactory(organization=org_a, subject="business ticket")
    free = TicketFactory(organization=free_org, subject="free ticket")
    url = reverse(QUEUE)

    by_tier = rows(eli_client.get(url, {"tier": "free"}).content.decode())
    by_number = rows(eli_client.get(url, {"q": f"#{business.number}"}).content.decode())
    by_org = rows(eli_client.get(url, {"q": "freeloader"}).content.decode())

    assert by_tier == [str(free.number)]
    assert by_number == [str(business.number)]
    assert by_org == [str(free.number)]


def test_nonsense_in_the_query_string_falls_back_to_the_default_view(eli_client):
    TicketFactory()

    response = eli_client.get(
        reverse(QUEUE), {"view": "<script>", "priority": "9", "page": "x"}
    )

    assert response.status_code == 200
    assert response.context_data["query"].tab == "open"
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize("count", [1, 60])
def test_queue_queries_stay_constant_in_page_size_and_page(
    eli, django_assert_max_num_queries, count, settle_queue_caches
):
    TicketFactory.create_batch(count)
    settle_queue_caches()
    client = signed_in(eli)

    # Cold: session, user, permissions (2), counts, the page's tickets, their
    # shown values and last customer updates, staff, tiers, saved views.
    with django_assert_max_num_queries(11):
        first = client.get(reverse(QUEUE))
    # Warm: the rows, lists and counts come from the cache.
    with django_assert_max_num_queries(5):
        again = client.get(reverse(QUEUE))
    with django_assert_max_num_queries(8):  # + its count, its rows' values (2)
        filtered = client.get(reverse(QUEUE), {"q": "Runs", "page": "2"})
    with django_assert_max_num_queries(5):  # its count is kept with the tabs'
        filtered_again = client.get(reverse(QUEUE), {"q": "Runs", "page": "2"})

    assert first.status_code == again.status_code == 200
    assert filtered.status_code == filtered_again.status_code == 200


def test_an_engineer_saves_a_personal_view_others_do_not_see(eli, erin, eli_client):
    eli_client.post(
        reverse("admin:tickets_ticket_workspace_save_view"),
        {"name": "My blockers", "query": "view=mine&priority=0"},
    )

    view = SavedView.objects.get()
    assert (view.owner, view.query) == (eli, "view=mine&priority=0")
    assert "My blockers" in eli_client.get(reverse(QUEUE)).content.decode()
    assert "My blockers" not in signed_in(erin).get(reverse(QUEUE)).content.decode()


def test_links_and_saved_views_keep_every_filter_whose_value_is_one(eli_client):
    # P1, the user with id 1 and a search for "1" are filters like any other.
    query = queues.QueueQuery.from_params(
        {"view": "open", "priority": "1", "assignee": "1", "q": "1", "page": "1"}
    )
    eli_client.post(
        reverse("admin:tickets_ticket_workspace_save_view"),
        {"name": "Critical", "query": "view=open&priority=1"},
    )

    assert query.params() == "view=open&q=1&priority=1&assignee=1"
    assert SavedView.objects.get().query == "view=open&priority=1"
    page = eli_client.get(reverse(QUEUE), {"view": "open", "priority": "1"})
    assert page.context_data["page_url_prefix"].endswith("view=open&priority=1&page=")


def test_only_managers_share_a_view_with_everyone(maya, eli, eli_client):
    refused = eli_client.post(
        reverse("admin:tickets_ticket_workspace_save_view"),
        {"name": "Business P1", "query": "view=open&priority=1", "shared": "on"},
    )
    signed_in(maya).post(
        reverse("admin:tickets_ticket_workspace_save_view"),
        {
            "name": "Business P1",
            "query": "view=open&priority=1&tier=business",
            "shared": "on",
        },
    )

    assert refused.status_code == 403
    shared = SavedView.objects.get()
    assert shared.owner is None
    page = eli_client.get(
        reverse(QUEUE), {"view": "open", "priority": "1", "tier": "business"}
    )
    saved = page.context_data["saved_views"]
    assert [(item["view"].name, item["active"]) for item in saved] == [
        ("Business P1", True)
    ]


def test_a_hostile_subject_is_shown_as_text(eli_client):
    TicketFactory(subject='<img src=x onerror="alert(1)">')

    html = eli_client.get(reverse(QUEUE)).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_rows_do_not_wait_for_the_counts_to_see_others_changes(eli, erin, eli_client):
    assert rows(eli_client.get(reverse(QUEUE), {"view": "mine"}).content.decode()) == []

    ticket = TicketFactory()
    services.ticket_assign(ticket=ticket, actor=erin, assignee=eli)
    html = eli_client.get(reverse(QUEUE), {"view": "mine"}).content.decode()

    assert rows(html) == [str(ticket.number)]  # the count may lag; the rows do not


def test_counts_follow_the_engineers_own_bulk_action_at_once(eli, eli_client):
    ticket = TicketFactory()
    before = eli_client.get(reverse(QUEUE)).context_data["tabs"][0]["count"]

    eli_client.post(
        reverse("admin:tickets_ticket_workspace_bulk"),
        {"tickets": [ticket.pk], "action": "assign", "value": eli.pk, "confirm": "on"},
    )
    after = eli_client.get(reverse(QUEUE)).context_data["tabs"][0]["count"]

    assert (before, after) == (0, 1)  # "My open"


def shown_total(response) -> int:
    return response.context_data["page"].paginator.count


def test_a_filtered_count_lasts_as_long_as_the_tab_counts_and_no_longer(
    eli, erin, eli_client
):
    TicketFactory(priority=Priority.CRITICAL)
    critical = {"view": "open", "priority": "1"}
    assert shown_total(eli_client.get(reverse(QUEUE), critical)) == 1

    # Another engineer files one more: counts may lag, for as long as the tabs'.
    services.ticket_priority_change(
        ticket=TicketFactory(priority=Priority.MINOR),
        actor=erin,
        priority=Priority.CRITICAL,
        reason="Production down after all",
    )
    lagging = eli_client.get(reverse(QUEUE), critical)
    cache.delete(queues.counts_key(eli))  # the tab counts' COUNTS_SECONDS pass
    fresh = eli_client.get(reverse(QUEUE), critical)

    assert (shown_total(lagging), shown_total(fresh)) == (1, 2)
    assert len(rows(lagging.content.decode())) == 2  # the rows never lag


def test_a_filtered_count_follows_the_engineers_own_bulk_action_at_once(
    eli, eli_client
):
    ticket = TicketFactory(priority=Priority.CRITICAL)
    critical = {"view": "open", "priority": "1"}
    before = shown_total(eli_client.get(reverse(QUEUE), critical))

    eli_client.post(
        reverse("admin:tickets_ticket_workspace_bulk"),
        {
            "tickets": [ticket.pk],
            "action": "priority",
            "value": Priority.MINOR,
            "text": "Not that urgent",
            "confirm": "on",
        },
    )
    after = shown_total(eli_client.get(reverse(QUEUE), critical))

    assert (before, after) == (1, 0)


def test_the_live_pages_shared_queryset_is_only_ever_cloned(eli_client):
    """``queues._live_base`` lives as long as the process: evaluated once, it
    would serve its cached rows to every later page."""
    TicketFactory()
    for params in ({}, {"view": "breaching"}, {"q": "x", "tier": "gold"}):
        assert eli_client.get(reverse(QUEUE), params).status_code == 200
    assert queues._live_base()._result_cache is None
