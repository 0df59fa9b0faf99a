"""The access gate asked for many tickets at once answers as it does for one."""

import pytest

from tests.factories import StaffFactory, TicketFactory
from tickets.selectors import tickets_get_for_users

pytestmark = pytest.mark.django_db


def test_each_user_gets_only_the_tickets_they_may_see(
    alice, gina, django_assert_num_queries
):
    ours = TicketFactory(organization=alice.organization)
    theirs = TicketFactory(organization=gina.organization)
    other = TicketFactory(organization=gina.organization)
    engineer = StaffFactory()

    with django_assert_num_queries(1):
        found = tickets_get_for_users(
            [
                (alice.user, ours.number),
                (alice.user, theirs.number),  # another organisation's
                (engineer, other.number),  # staff see every ticket
                (alice.user, 999_999),  # no such ticket
            ],
            for_update=True,
        )

    assert found == {ours.number: ours, other.number: other}
    # The contact's organisation (with its tier) comes with the ticket, unqueried.
    with django_assert_num_queries(0):
        assert found[ours.number].organization.tier_id == alice.organization.tier_id


def test_a_number_asked_by_two_users_is_refused(alice, bob):
    ticket = TicketFactory(organization=alice.organization)

    with pytest.raises(ValueError, match="more than one user"):
        tickets_get_for_users([(alice.user, ticket.number), (bob.user, ticket.number)])


def test_the_partial_indexes_cover_exactly_the_active_statuses() -> None:
    """The queue's and organisation indexes only serve queries on these statuses."""
    from tickets.choices import ACTIVE_STATUSES
    from tickets.models.ticket import ACTIVE_STATUS_VALUES

    assert set(ACTIVE_STATUS_VALUES) == ACTIVE_STATUSES
    assert len(ACTIVE_STATUS_VALUES) == len(ACTIVE_STATUSES)
