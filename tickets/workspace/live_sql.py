"""The queue's live page as SQL compiled once per query and bound per request.

Building the page's queryset (the tab's and filters' ``Q``s, their lookups) and
compiling it cost the queue about as much CPU as PostgreSQL spends running it,
on every request, for SQL that changes only with the query. So the queryset
``queues.queue_tickets`` builds is compiled once per (query, viewer, offset)
with a marker in place of the current time, and each request puts its own time
(and date: the version filter's) where the marker's went; so is a filtered
list's count (``count()``'s statement, taken as Django sends it). The time is the only
value that changes between two requests for the same list; everything else the
SQL holds comes from the key. ``tests/tickets/workspace/test_live_sql.py``
checks the bound SQL and parameters against the ORM's for every tab, filter and
search.

The rows are read with a plain cursor: ``LIVE_COLUMNS`` are integers, booleans
and text, for which Django converts nothing, so the tuples are those the
queryset would give.
"""

import contextlib
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from django.db import connections

from scalr_support.accounts.models import User

from ..models import Ticket
from . import queues

# A time no request has, so that every parameter equal to it (or to its date)
# is the current time the SQL compares with, and nothing else.
_NOW = datetime(2000, 1, 1, 0, 0, 0, 123457, tzinfo=UTC)
_TODAY = _NOW.date()
COMPILED_QUERIES = 512  # per process; a search term makes its own entry


class _Compiled(NamedTuple):
    sql: str
    params: tuple[Any, ...]
    now_at: tuple[int, ...]  # where the current time goes
    today_at: tuple[int, ...]  # where the current date goes

    def bind(self, now: datetime) -> list[Any]:
        params = list(self.params)
        for i in self.now_at:
            params[i] = now
        today = now.date()
        for i in self.today_at:
            params[i] = today
        return params

    @classmethod
    def of(cls, sql: str, params: Sequence[Any]) -> "_Compiled":
        """The statement compiled under ``_NOW``, with the places of the time."""
        return cls(
            sql,
            tuple(params),
            tuple(i for i, p in enumerate(params) if type(p) is datetime and p == _NOW),
            tuple(i for i, p in enumerate(params) if type(p) is date and p == _TODAY),
        )


class _Captured(Exception):
    """Raised by ``_statement``'s wrapper once it holds the statement."""


def _statement(run: Callable[[], object]) -> tuple[str, Sequence[Any]]:
    """The SQL and parameters of the first statement ``run`` sends, unsent.

    For what Django compiles only as it runs it (a queryset's ``count()``).
    """
    seen: list[tuple[str, Sequence[Any]]] = []

    def capture(
        execute: Any, sql: str, params: Sequence[Any], many: bool, context: Any
    ) -> None:
        seen.append((sql, params))
        raise _Captured

    connection = connections[Ticket.objects.db]
    with connection.execute_wrapper(capture), contextlib.suppress(_Captured):
        run()
    return seen[0]


@functools.lru_cache(maxsize=COMPILED_QUERIES)
def _compiled(query: queues.QueueQuery, user_pk: int, start: int) -> _Compiled:
    tickets = queues.queue_tickets(query, User(pk=user_pk), now=_NOW)
    return _Compiled.of(
        *tickets[start : start + queues.PAGE_SIZE].query.sql_with_params()
    )


@functools.lru_cache(maxsize=COMPILED_QUERIES)
def _compiled_count(query: queues.QueueQuery, user_pk: int) -> _Compiled:
    tickets = queues.queue_tickets(query, User(pk=user_pk), now=_NOW)
    return _Compiled.of(*_statement(tickets.count))


def live_page_sql(
    query: queues.QueueQuery, user: User, *, now: datetime, start: int
) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``queue_tickets(query, user, now=now)``'s
    ``PAGE_SIZE`` tickets from ``start``."""
    compiled = _compiled(query, user.pk, start)
    return compiled.sql, compiled.bind(now)


def live_count_sql(
    query: queues.QueueQuery, user: User, *, now: datetime
) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``queue_tickets(query, user, now=now).count()``."""
    compiled = _compiled_count(query, user.pk)
    return compiled.sql, compiled.bind(now)


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connections[Ticket.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def live_page(
    query: queues.QueueQuery, user: User, *, now: datetime, start: int
) -> list[queues.LiveRow]:
    """The ``LiveRow``s of the query's ``PAGE_SIZE`` tickets from ``start``."""
    return queues.live_rows(_fetch(*live_page_sql(query, user, now=now, start=start)))


def live_count(query: queues.QueueQuery, user: User, *, now: datetime) -> int:
    """How many tickets the query lists (``queue_tickets(...).count()``)."""
    ((count,),) = _fetch(*live_count_sql(query, user, now=now))
    return int(count)
