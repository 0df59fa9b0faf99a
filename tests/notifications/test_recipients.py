"""Who hears about a customer's reply: handlers and watchers, in one query."""

import pytest
from django.contrib.auth.models import Group

from notifications.recipients import (
    customer_reply_recipients,
    customer_reply_recipients_for,
    support_staff,
)
from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from tests.factories import ContactFactory, StaffFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineers(db):
    first, second = StaffFactory(), StaffFactory()
    first.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    second.groups.add(
        Group.objects.get(name=SUPPORT_ENGINEER),
        Group.objects.get(name=SUPPORT_MANAGER),
    )
    return [first, second]


def test_an_unassigned_ticket_reply_reaches_support_and_watchers_but_not_the_author(
    alice, bob, gina, engineers, django_assert_num_queries
):
    quiet = ContactFactory(
        organization=alice.organization, notify_organization_tickets=False
    )
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)

    with django_assert_num_queries(1):
        found = customer_reply_recipients(ticket, author_id=bob.user_id)

    assert [user.pk for user in found] == sorted(
        [alice.user_id, *(engineer.pk for engineer in engineers)]
    )
    assert quiet.user_id not in {user.pk for user in found}
    assert gina.user_id not in {user.pk for user in found}


def test_a_staff_member_in_both_support_groups_is_listed_once(engineers):
    assert list(support_staff()) == sorted(engineers, key=lambda user: user.pk)


def test_an_assigned_ticket_reply_reaches_the_assignee_not_the_queue(alice, engineers):
    ticket = TicketFactory(
        organization=alice.organization, requester=alice.user, assignee=engineers[0]
    )

    found = customer_reply_recipients(ticket, author_id=alice.user_id)

    assert found == [engineers[0]]


def test_a_ticket_of_an_inactive_assignee_goes_back_to_the_queue(alice, engineers):
    gone = StaffFactory(is_active=False)
    ticket = TicketFactory(
        organization=alice.organization, requester=alice.user, assignee=gone
    )

    found = customer_reply_recipients(ticket, author_id=alice.user_id)

    assert found == sorted(engineers, key=lambda user: user.pk)


def test_many_replies_at_once_reach_who_each_would_alone(
    alice, bob, gina, engineers, django_assert_num_queries
):
    """The email gateway asks for a batch of replies in one query; same answers."""
    follower = ContactFactory(
        organization=alice.organization, notify_organization_tickets=True
    )
    away = StaffFactory(is_active=False)
    other_org = ContactFactory(organization=gina.organization)
    replies = [
        (TicketFactory(organization=alice.organization, requester=alice.user), bob),
        (TicketFactory(organization=alice.organization, requester=bob.user), bob),
        (
            TicketFactory(
                organization=alice.organization,
                requester=alice.user,
                assignee=engineers[0],
            ),
            alice,
        ),
        (
            TicketFactory(
                organization=gina.organization, requester=gina.user, assignee=away
            ),
            other_org,
        ),
        (TicketFactory(organization=gina.organization, requester=gina.user), gina),
    ]
    asked = [(ticket, contact.user_id) for ticket, contact in replies]
    alone = [customer_reply_recipients(t, author_id=a) for t, a in asked]

    with django_assert_num_queries(1):
        together = customer_reply_recipients_for(asked)

    assert together == alone
    assert follower.user in together[0]
    assert together[3] == sorted([*engineers, gina.user], key=lambda u: u.pk)
    assert customer_reply_recipients_for([]) == []
