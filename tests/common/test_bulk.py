"""Saving many rows: one UPDATE for each set of new values the rows share."""

import pytest

from scalr_support.common.bulk import update_by_value
from tests.factories import TicketFactory
from tickets.choices import Priority, Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_rows_sharing_new_values_are_saved_by_one_statement_each(
    django_assert_num_queries,
):
    tickets = [
        TicketFactory(status=Status.NEW, priority=Priority.MINOR) for _ in range(5)
    ]
    for n, ticket in enumerate(tickets):
        ticket.status = Status.OPEN if n % 2 else Status.ON_HOLD
        ticket.priority = Priority.MAJOR
        ticket.subject = "Changed in memory only"

    with django_assert_num_queries(2):
        assert update_by_value(tickets, ["status", "priority"]) == 2

    saved = Ticket.objects.in_bulk([t.pk for t in tickets])
    assert [saved[t.pk].status for t in tickets] == [
        Status.ON_HOLD,
        Status.OPEN,
        Status.ON_HOLD,
        Status.OPEN,
        Status.ON_HOLD,
    ]
    assert {saved[t.pk].priority for t in tickets} == {Priority.MAJOR}
    assert "Changed in memory only" not in {saved[t.pk].subject for t in tickets}


def test_nothing_to_save_costs_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert update_by_value([], ["status"]) == 0
