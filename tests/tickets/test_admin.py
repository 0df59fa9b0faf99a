"""Admin triage: the queue and the ticket page engineers work from."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from tests.conftest import signed_in
from tests.factories import ContactFactory, StaffFactory, TicketFactory, tier
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import PriorityChange, Ticket
from tickets.workspace.collision import Seen

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer_in_group(db):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


@pytest.fixture
def manager_in_group(db):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=SUPPORT_MANAGER))
    return user


def change_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def triage_post(ticket, **overrides):
    data = {
        # What the page posts back: the ticket as it showed it (collision check).
        "seen": Seen.of(Ticket.objects.get(pk=ticket.pk)).token(),
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "category": ticket.category,
        "priority_change_reason": "",
        "reply": "",
        "reply_visibility": "public",
    }
    data.update(overrides)
    return data


def test_customers_cannot_reach_the_admin(alice_client):
    response = alice_client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_queue_orders_by_priority_then_age(engineer_in_group):
    late_blocker = TicketFactory(priority=Priority.BLOCKER, subject="late blocker")
    minor = TicketFactory(priority=Priority.MINOR, subject="minor issue")
    early_blocker = TicketFactory(priority=Priority.BLOCKER, subject="early blocker")
    type(late_blocker).objects.filter(pk=early_blocker.pk).update(
        created_at=late_blocker.created_at.replace(year=2020)
    )

    page = signed_in(engineer_in_group).get(reverse("admin:tickets_ticket_changelist"))
    html = page.content.decode()

    assert page.status_code == 200
    assert (
        html.index("early blocker")
        < html.index("late blocker")
        < html.index("minor issue")
    )
    _ = minor


def test_queue_filters_by_tier_and_searches_by_number(
    engineer_in_group, org_a, free_org
):
    business = TicketFactory(organization=org_a, subject="business ticket")
    # A requester address without digits: the search also matches emails, and a
    # generated user123@customer123 address could contain the ticket's number.
    free = TicketFactory(
        organization=free_org,
        subject="free ticket",
        requester=ContactFactory(
            organization=free_org, user__email="frank@freeloader.example.com"
        ).user,
    )
    client = signed_in(engineer_in_group)
    url = reverse("admin:tickets_ticket_changelist")

    filtered = client.get(url, {"tier": tier("free").slug}).content.decode()
    searched = client.get(url, {"q": str(business.number)}).content.decode()

    assert "free ticket" in filtered
    assert "business ticket" not in filtered
    assert "business ticket" in searched
    assert free.subject not in searched


def test_ticket_page_shows_thread_with_internal_notes_marked(engineer_in_group, alice):
    ticket = TicketFactory(organization=alice.organization)
    services.comment_create(ticket=ticket, author=alice.user, body="Customer says hi")
    services.comment_create(
        ticket=ticket, author=engineer_in_group, body="Secret", is_public=False
    )

    html = signed_in(engineer_in_group).get(change_url(ticket)).content.decode()

    assert "Customer says hi" in html
    assert 'class="ws-badge-internal"' in html


def test_ticket_page_shows_who_changed_the_priority_and_the_notes_files(
    engineer_in_group, alice
):
    ticket = TicketFactory(organization=alice.organization, priority=Priority.MAJOR)
    services.comment_create(
        ticket=ticket,
        author=engineer_in_group,
        body="Trace attached",
        is_public=False,
        files=[SimpleUploadedFile("trace.log", b"stack", "text/plain")],
    )
    services.ticket_priority_change(
        ticket=ticket,
        actor=engineer_in_group,
        priority=Priority.BLOCKER,
        reason="Production is down.",
    )

    html = signed_in(engineer_in_group).get(change_url(ticket)).content.decode()

    name = engineer_in_group.display_name
    assert f"<strong>{name}</strong> changed the priority" in html
    assert "Production is down." in html
    assert "trace.log" in html


def test_engineer_replies_publicly_from_the_admin(engineer_in_group, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.NEW)

    response = signed_in(engineer_in_group).post(
        change_url(ticket), triage_post(ticket, reply="Please send the agent logs.")
    )

    assert response.status_code == 302
    comment = ticket.comments.get()
    assert comment.is_public
    assert comment.source == "admin"
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER


def test_engineer_posts_an_internal_note(engineer_in_group):
    ticket = TicketFactory(status=Status.OPEN)

    signed_in(engineer_in_group).post(
        change_url(ticket),
        triage_post(ticket, reply="Escalate?", reply_visibility="internal"),
    )

    comment = ticket.comments.get()
    assert not comment.is_public
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_priority_change_without_reason_is_refused_inline(engineer_in_group):
    ticket = TicketFactory(priority=Priority.MINOR)

    response = signed_in(engineer_in_group).post(
        change_url(ticket), triage_post(ticket, priority=Priority.BLOCKER)
    )

    assert response.status_code == 200
    assert "Say why the priority changes" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MINOR
    assert not PriorityChange.objects.exists()


def test_priority_change_with_reason_is_recorded(engineer_in_group):
    ticket = TicketFactory(priority=Priority.MINOR)

    signed_in(engineer_in_group).post(
        change_url(ticket),
        triage_post(
            ticket, priority=Priority.CRITICAL, priority_change_reason="Prod impact"
        ),
    )

    change = PriorityChange.objects.get()
    assert (change.from_priority, change.to_priority, change.reason) == (
        3,
        1,
        "Prod impact",
    )
    assert change.changed_by == engineer_in_group


def test_engineer_assigns_and_changes_status(engineer_in_group):
    ticket = TicketFactory(status=Status.NEW)

    signed_in(engineer_in_group).post(
        change_url(ticket),
        triage_post(ticket, assignee=engineer_in_group.pk, status=Status.ON_HOLD),
    )

    ticket.refresh_from_db()
    assert ticket.assignee == engineer_in_group
    assert ticket.status == Status.ON_HOLD


def test_assign_to_me_action(engineer_in_group):
    tickets = TicketFactory.create_batch(3)

    signed_in(engineer_in_group).post(
        reverse("admin:tickets_ticket_workspace_bulk"),
        {
            "action": "assign",
            "value": engineer_in_group.pk,
            "tickets": [t.pk for t in tickets],
            "confirm": "on",
        },
    )

    assert {t.assignee_id for t in type(tickets[0]).objects.all()} == {
        engineer_in_group.pk
    }


def test_engineers_cannot_edit_tiers_but_managers_can(
    engineer_in_group, manager_in_group
):
    business = tier("business")
    url = reverse("admin:tickets_supporttier_change", args=[business.pk])

    engineer_view = signed_in(engineer_in_group).get(url).content.decode()
    manager_view = signed_in(manager_in_group).get(url).content.decode()

    assert 'name="_save"' not in engineer_view
    assert 'name="_save"' in manager_view
    assert (
        signed_in(engineer_in_group)
        .get(reverse("admin:tickets_organization_add"))
        .status_code
        == 403
    )
    assert (
        signed_in(manager_in_group)
        .get(reverse("admin:tickets_organization_add"))
        .status_code
        == 200
    )


@pytest.mark.parametrize("count", [1, 50])
def test_queue_query_count_is_constant(
    engineer_in_group, django_assert_max_num_queries, count
):
    TicketFactory.create_batch(count)
    client = signed_in(engineer_in_group)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:tickets_ticket_changelist"))

    assert response.status_code == 200
