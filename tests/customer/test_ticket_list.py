"""The ticket list: several statuses, whose tickets, and sorting both ways."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ContactFactory, TicketFactory
from tickets import followers
from tickets.choices import Status

pytestmark = pytest.mark.django_db


def numbers(client, **query) -> list[int]:
    import re

    html = client.get("/tickets/", query).content.decode()
    return [
        int(n)
        for n in re.findall(
            r'<td class="nowrap" data-label="[^"]+"><a href="/tickets/(\d+)/"', html
        )
    ]


@pytest.fixture
def tickets(alice, bob):
    org = alice.organization
    now = timezone.now()
    made = {
        "blocker": TicketFactory(
            organization=org,
            requester=bob.user,
            priority=0,
            status=Status.OPEN,
            last_activity_at=now - timedelta(hours=3),
        ),
        "minor": TicketFactory(
            organization=org,
            requester=alice.user,
            priority=3,
            status=Status.WAITING_ON_CUSTOMER,
            last_activity_at=now - timedelta(hours=1),
        ),
        "solved": TicketFactory(
            organization=org,
            requester=alice.user,
            priority=2,
            status=Status.SOLVED,
            last_activity_at=now,
        ),
    }
    return {key: ticket.number for key, ticket in made.items()}


def test_default_is_all_open_newest_activity_first(alice_client, tickets):
    assert numbers(alice_client) == [tickets["minor"], tickets["blocker"]]


def test_several_statuses_at_once(alice_client, tickets):
    chosen = numbers(alice_client, status=["solved", "open"])
    assert sorted(chosen) == sorted([tickets["solved"], tickets["blocker"]])
    assert len(numbers(alice_client, status="any")) == 3


def test_sort_by_priority_both_ways_and_by_number(alice_client, tickets):
    assert numbers(alice_client, sort="priority", status="any") == [
        tickets["blocker"],
        tickets["solved"],
        tickets["minor"],
    ]
    assert numbers(alice_client, sort="-priority", status="any")[0] == tickets["minor"]
    assert numbers(alice_client, sort="number", status="any") == sorted(
        tickets.values()
    )
    assert numbers(alice_client, sort="-number", status="any") == sorted(
        tickets.values(), reverse=True
    )


def test_sort_by_due_puts_tickets_without_a_due_time_last(alice_client, alice):
    now = timezone.now()
    late = TicketFactory(
        organization=alice.organization, sla_due_at=now + timedelta(hours=5)
    )
    soon = TicketFactory(
        organization=alice.organization, sla_due_at=now + timedelta(hours=1)
    )
    undated = TicketFactory(organization=alice.organization)
    assert numbers(alice_client, sort="due") == [
        soon.number,
        late.number,
        undated.number,
    ]
    assert numbers(alice_client, sort="-due") == [
        late.number,
        soon.number,
        undated.number,
    ]


def test_column_headers_sort_and_say_how(alice_client, tickets):
    html = alice_client.get("/tickets/", {"sort": "priority"}).content.decode()
    assert 'aria-sort="ascending"' in html
    assert "sort=-priority" in html


def test_mine_and_i_follow(alice, alice_client, bob, tickets):
    assert numbers(alice_client, scope="mine", status="any") == [
        tickets["solved"],
        tickets["minor"],
    ]
    assert numbers(alice_client, scope="following") == []
    blocker = alice.organization.tickets.get(number=tickets["blocker"])
    followers.follower_add(ticket=blocker, actor=bob.user, email=alice.user.email)
    assert numbers(alice_client, scope="following") == [tickets["blocker"]]
    # Another colleague's "mine" is not alice's (the cached list is per viewer here).
    carol = ContactFactory(organization=alice.organization)
    from tests.conftest import signed_in

    assert numbers(signed_in(carol.user), scope="mine") == []


def test_contract_parameters_still_filter(alice_client, tickets):
    assert numbers(alice_client, status="open") == [tickets["blocker"]]
    assert numbers(alice_client, priority=3) == [tickets["minor"]]
    assert numbers(alice_client, q=f"#{tickets['solved']}") == [tickets["solved"]]


def test_list_query_count_does_not_grow_with_tickets(
    alice_client, alice, django_assert_max_num_queries
):
    for _ in range(30):
        TicketFactory(organization=alice.organization)
    with django_assert_max_num_queries(8):
        alice_client.get("/tickets/", {"sort": "due", "status": "any"})


def test_a_bad_parameter_falls_back_alone_and_the_page_says_which(
    alice_client, tickets
):
    """A careless link (``sort=oops``) keeps the filters that are fine."""
    response = alice_client.get("/tickets/", {"status": "solved", "sort": "oops"})
    assert response.status_code == 200
    assert numbers(alice_client, status="solved", sort="oops") == [tickets["solved"]]
    assert "left at their defaults: Sort by." in response.content.decode()
    assert numbers(alice_client, priority="urgent", q=f"#{tickets['minor']}") == [
        tickets["minor"]
    ]
    response = alice_client.get(
        "/tickets/", {"status": ["open", "nonsense"], "scope": "<b>x</b>"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "left at their defaults: Status, Tickets." in page
    assert "<b>x</b>" not in page
