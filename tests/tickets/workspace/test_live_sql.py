"""The live page's SQL, compiled once per query and bound per request, is the
ORM's SQL for that request: same text, same parameters in the same order, same
rows."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TicketFactory
from tickets.choices import Priority
from tickets.workspace import live_sql, queues

pytestmark = pytest.mark.django_db

FILTERS = [
    {},
    {"priority": str(Priority.CRITICAL)},
    {"priority": "3"},
    {"tier": "business"},
    {"assignee": "none"},
    {"assignee": "7"},
    {"version": "unsupported"},
    {"version": "supported"},
    *({"sla": state} for state in queues.sla_rules.SLA_STATES),
    {"q": "stuck"},
    {"q": "#42"},
    {"q": "42"},
    {"q": "ops@example.com"},
    {"q": r"100% _done_ \ back"},
    {"q": "x", "tier": "gold", "priority": "2", "sla": "breached", "page": "3"},
]


def orm_sql(query, user, now, start):
    tickets = queues.queue_tickets(query, user, now=now)
    return tickets[start : start + queues.PAGE_SIZE].query.sql_with_params()


@pytest.mark.parametrize(
    ("tab", "params"), list(itertools.product([t for t, _l in queues.TABS], FILTERS))
)
def test_bound_sql_is_the_orms_for_every_tab_filter_and_search(eli, erin, tab, params):
    query = queues.QueueQuery.from_params({"view": tab, **params})
    start = (query.page - 1) * queues.PAGE_SIZE
    first = timezone.now()
    later = first + timedelta(days=1, minutes=7)  # another day: the version filter

    for user, now in ((eli, first), (eli, later), (erin, later)):
        sql, params_bound = live_sql.live_page_sql(query, user, now=now, start=start)
        expected_sql, expected_params = orm_sql(query, user, now, start)
        assert sql == expected_sql
        assert params_bound == list(expected_params)


def test_the_live_page_reads_the_orms_rows(eli):
    now = timezone.now()
    TicketFactory.create_batch(3, assignee=eli)
    clock = {"first_response_due_at": now}
    TicketFactory(**clock, sla_due_at=now + timedelta(hours=1), sla_at_risk_at=now)
    TicketFactory(**clock, sla_due_at=now - timedelta(hours=1), sla_breached=True)
    shown = []
    for tab, _label in queues.TABS:
        query = queues.QueueQuery(tab=tab)
        orm = queues.live_rows(queues.queue_tickets(query, eli, now=now)[:50])

        assert live_sql.live_page(query, eli, now=now, start=0) == orm
        shown += orm
    assert {row.sla_breached for row in shown if row.has_clock} == {True, False}
