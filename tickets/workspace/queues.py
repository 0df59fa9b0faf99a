"""Reads of the queue: its tabs, their counts, the rows of a page, the next ticket.

A queue request is a ``QueueQuery`` parsed from the query string (the tab and the
filters), so a saved view, a link from the ticket page and "Save and next" all
describe the same list the same way. Counts of every tab come in one aggregate
query and a page of rows (``LiveRow``) in one more, whatever the page size; the
shown values of the rows the cache misses (``QueueRow``) in two more
(``tickets.workspace.queue_page``).
"""

import functools
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, F, Max, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scalr_support.accounts.models import User
from tickets import sla_state as sla_rules
from tickets.selectors import tickets_in_sla_state

from ..choices import ACTIVE_STATUSES, Priority, Status
from ..models import Comment, Ticket

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DONE_STATUSES = (Status.SOLVED, Status.CLOSED)
PAGE_SIZE = 50
COUNTS_SECONDS = 15
NEXT_LOOKAHEAD = 500  # "Save and next" looks this far into the view

# (slug, label), in the order of the tabs.
TABS: "tuple[tuple[str, StrOrPromise], ...]" = (
    ("mine", _("My open")),
    ("unassigned", _("Unassigned")),
    ("breaching", _("Breaching soon")),
    ("breached", _("Breached")),
    ("waiting", _("Waiting on customer")),
    ("open", _("All open")),
    ("done", _("Solved/closed")),
)
TAB_SLUGS = frozenset(slug for slug, _label in TABS)
DEFAULT_TAB = "open"
SLA_TABS = {"breaching": sla_rules.AT_RISK, "breached": sla_rules.BREACHED}

# Priority, then guaranteed before best effort, then the running clock's due time.
OPEN_ORDER = (
    "priority",
    "sla_best_effort",
    F("sla_due_at").asc(nulls_last=True),
    "created_at",
    "pk",
)
DONE_ORDER = ("-last_activity_at", "-pk")


def is_number(value: str, max_digits: int = 18) -> bool:
    """Whether ``int(value)`` works and fits a database id: ASCII digits only.

    ``str.isdigit`` also accepts "²" and other Unicode digits that ``int``
    refuses, so a crafted parameter would otherwise end in a server error.
    """
    return value.isascii() and value.isdigit() and len(value) <= max_digits


def view_param(raw: str) -> str:
    """The queue view a link or form carried, rebuilt from what the queue reads.

    Pages pass it on in links and hidden fields; rebuilt, it is short enough for
    the ticket form's ``view`` field and holds nothing the queue ignores. Empty
    stays empty (the default view).
    """
    if not raw:
        return ""
    return QueueQuery.from_params(QueryDict(raw)).params()


@dataclass(frozen=True)
class QueueQuery:
    """Which list the engineer looks at: a tab narrowed by optional filters."""

    tab: str = DEFAULT_TAB
    q: str = ""
    priority: int | None = None
    tier: str = ""
    assignee: str = ""  # a user id, or "none"
    version: str = ""  # "unsupported" or "supported" (the lifecycle's verdict)
    sla: str = ""  # one of sla.rules.SLA_STATES
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "QueueQuery":
        """Parse a query string leniently: anything unknown means the default."""
        tab = params.get("view", DEFAULT_TAB)
        priority = params.get("priority", "")
        assignee = params.get("assignee", "")
        version = params.get("version", "")
        sla = params.get("sla", "")
        page = params.get("page", "1")
        return cls(
            tab=tab if tab in TAB_SLUGS else DEFAULT_TAB,
            q=" ".join(params.get("q", "").split())[:100],
            priority=int(priority) if priority in {str(p) for p in Priority} else None,
            tier=params.get("tier", "")[:50],
            assignee=assignee if assignee == "none" or is_number(assignee) else "",
            version=version if version in ("unsupported", "supported") else "",
            sla=sla if sla in sla_rules.SLA_STATES else "",
            page=int(page) if is_number(page, 5) else 1,
        )

    def params(self) -> str:
        """This query as a query string (page 1: no page), for links."""
        return self._params

    @cached_property
    def _params(self) -> str:
        # Once per query: a queue page writes it into a dozen links and fields.
        values = (
            ("view", self.tab),
            ("q", self.q),
            ("priority", "" if self.priority is None else str(self.priority)),
            ("tier", self.tier),
            ("assignee", self.assignee),
            ("version", self.version),
            ("sla", self.sla),
        )
        return urlencode([(k, v) for k, v in values if v])

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.priority is not None
            or self.tier
            or self.assignee
            or self.version
            or self.sla
        )


def _tab_filter(tab: str, user: User, now: datetime) -> Q:
    """The tab's condition as a Q, usable both to filter and to count."""
    active = Q(status__in=ACTIVE_STATUSES)
    if tab == "mine":
        return active & Q(assignee_id=user.pk)
    if tab == "unassigned":
        return active & Q(assignee__isnull=True)
    if tab in SLA_TABS:
        in_state = tickets_in_sla_state(Ticket.objects.all(), SLA_TABS[tab], now=now)
        return active & Q(pk__in=in_state.values("pk"))
    if tab == "waiting":
        return Q(status=Status.WAITING_ON_CUSTOMER)
    if tab == "done":
        return Q(status__in=DONE_STATUSES)
    return active


def counts_key(user: User) -> str:
    """Where ``tab_counts`` keeps the user's counts."""
    return f"workspace:tab-counts:{user.pk}"


class TabCounts(NamedTuple):
    """How many tickets each tab holds, and the token of this reading."""

    by_tab: dict[str, int]
    token: str  # a filtered list's count counts only under it (``list_count``)


def tab_counts(
    user: User,
    *,
    now: datetime | None = None,
    found: Mapping[str, Any] | None = None,
) -> TabCounts:
    """How many tickets each tab holds: one query, reused for ``COUNTS_SECONDS``.

    Counting every tab scans the open tickets, which costs more than the rest of
    the page; the counts may lag others' changes by a few seconds (the rows
    never do), and the engineer's own changes drop them (``tab_counts_forget``).
    ``found``: a ``get_many`` result that read ``counts_key`` with the caller's
    other keys, in one round trip.
    """
    key = counts_key(user)
    entry = cache.get(key) if found is None else found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2:
        token, by_tab = entry
    else:
        now = now or timezone.now()
        by_tab = Ticket.objects.aggregate(
            **{
                slug: Count("pk", filter=_tab_filter(slug, user, now))
                for slug, _label in TABS
            }
        )
        token = uuid.uuid4().hex
        cache.set(key, (token, by_tab), timeout=COUNTS_SECONDS)
    return TabCounts(dict(by_tab), token)


def tab_counts_forget(user: User) -> None:
    """Count again on the next page: the user just changed tickets."""
    cache.delete(counts_key(user))


def list_count_key(query: QueueQuery, user: User) -> str:
    """Where ``list_count`` keeps a filtered list's count for the user."""
    digest = hashlib.sha256(query.params().encode()).hexdigest()[:32]
    return f"workspace:list-count:{user.pk}:{digest}"


def list_count(
    query: QueueQuery,
    user: User,
    *,
    counts: TabCounts,
    found: Mapping[str, Any],
    count: Callable[[], int],
) -> int:
    """A filtered list's count (``count()``), kept as long as the tab counts it
    was read with: under their token, so it lags others' changes no longer than
    they do, and the engineer's own changes, which drop the tab counts, drop it.

    A filter over a joined column (the tier) counts thousands of rows, which
    cost the database several times the page itself. ``found``: a ``get_many``
    result that read ``list_count_key``.
    """
    key = list_count_key(query, user)
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == counts.token:
        return int(entry[1])
    value = count()
    cache.set(key, (counts.token, value), timeout=COUNTS_SECONDS)
    return value


def _filtered(
    query: QueueQuery,
    user: User,
    now: datetime,
    base: "QuerySet[Ticket, Any] | None" = None,
) -> "QuerySet[Ticket, Any]":
    """The query's tickets in its order, from ``base`` (all tickets by default)."""
    base = Ticket.objects.all() if base is None else base
    if query.tab in SLA_TABS:
        # Filtered directly rather than through the count's subquery: the planner
        # then walks the SLA index instead of the whole table.
        tickets = tickets_in_sla_state(
            base.filter(status__in=ACTIVE_STATUSES),
            SLA_TABS[query.tab],
            now=now,
        )
    else:
        tickets = base.filter(_tab_filter(query.tab, user, now))
    if query.priority is not None:
        tickets = tickets.filter(priority=query.priority)
    if query.tier:
        tickets = tickets.filter(organization__tier__slug=query.tier)
    if query.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif query.assignee:
        tickets = tickets.filter(assignee_id=int(query.assignee))
    if query.version:
        unsupported = Q(version_support_ends_on__lt=now.date())
        tickets = tickets.filter(
            unsupported if query.version == "unsupported" else ~unsupported
        )
    if query.sla:
        tickets = tickets_in_sla_state(tickets, query.sla, now=now)
    if query.q:
        term = query.q
        match = (
            Q(subject__icontains=term)
            | Q(organization__name__icontains=term)
            | Q(requester__email__iexact=term)
        )
        digits = term.removeprefix("#")
        if is_number(digits, 9):
            match |= Q(number=int(digits))
        tickets = tickets.filter(match)
    order = DONE_ORDER if query.tab == "done" else OPEN_ORDER
    return tickets.order_by(*order)


class LiveRow(NamedTuple):
    """What a queue reads of each ticket on every request: the ordering's result,
    the key of the row's cached HTML (``stamp``) and the SLA badge's fields.

    The badge depends on the current time, so it is never cached; the rest of the
    row is (``tickets.workspace.queue_page``), rendered from a ``QueueRow``.
    """

    pk: int
    number: int
    stamp: str  # updated_at as the database writes it: moved by every shown change
    has_clock: bool
    sla_due_at: datetime | None
    sla_at_risk_at: datetime | None
    sla_best_effort: bool
    sla_breached: bool


# Datetimes come as the database's text and are parsed by ``fromisoformat``:
# Django's psycopg 3 loader for timestamptz is pure Python, a few microseconds a
# value, which cost more than the rest of this query's reading.
_LIVE_SELECT = {
    "live_stamp": Cast("updated_at", TextField()),
    "live_first_due": Cast("first_response_due_at", TextField()),  # read: is there
    "live_due": Cast("sla_due_at", TextField()),
    "live_at_risk": Cast("sla_at_risk_at", TextField()),
}
LIVE_COLUMNS = ("pk", "number", *_LIVE_SELECT, "sla_best_effort", "sla_breached")


def _aware(text: str | None) -> datetime | None:
    """A datetime the database wrote as text (SQLite's is naive UTC)."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def live_rows(values: Iterable[tuple[Any, ...]]) -> list[LiveRow]:
    """``LiveRow``s of ``queue_tickets``' tuples."""
    return [
        LiveRow(pk, n, stamp, first is not None, _aware(due), _aware(at_risk), *flags)
        for pk, n, stamp, first, due, at_risk, *flags in values
    ]


class QueueRow(NamedTuple):
    """What one row of the queue shows: plain values, no model instances.

    Fifty tickets with their organisation, tier and assignee as model instances
    cost more CPU than the query that reads them; the rows need only these values.
    """

    pk: int
    number: int
    subject: str
    priority: int
    status: str
    category: str
    created_at: datetime
    scope_exclusion: str
    version_support_ends_on: date | None
    organization_name: str
    tier_name: str
    tier_slug: str
    assignee_id: int | None
    assignee_email: str | None
    assignee_first_name: str | None
    assignee_last_name: str | None
    last_customer_at: datetime

    @property
    def assignee_name(self) -> str:
        """The assignee as ``User.display_name`` shows them ("" when unassigned)."""
        if self.assignee_id is None:
            return ""
        full = f"{self.assignee_first_name} {self.assignee_last_name}".strip()
        return full or self.assignee_email or ""


# The columns of QueueRow but the last, in its order, as the queryset reads them.
ROW_COLUMNS = (
    "pk",
    "number",
    "subject",
    "priority",
    "status",
    "category",
    "created_at",
    "scope_exclusion",
    "version_support_ends_on",
    "organization__name",
    "organization__tier__name",
    "organization__tier__slug",
    "assignee_id",
    "assignee__email",
    "assignee__first_name",
    "assignee__last_name",
)


def queue_tickets(
    query: QueueQuery, user: User, *, now: datetime | None = None
) -> "QuerySet[Ticket, tuple[Any, ...]]":
    """A queue's tickets as tuples of ``LIVE_COLUMNS``, in its order: one query
    per page (``live_rows`` makes ``LiveRow``s of them).

    No joins (but a tier filter's): the rows' shown values come from their cache,
    or from ``queue_rows`` for the rows it misses.
    """
    now = now or timezone.now()
    return _filtered(query, user, now, _live_base())


@functools.cache
def _live_base() -> "QuerySet[Ticket, tuple[Any, ...]]":
    """All tickets as tuples of ``LIVE_COLUMNS``, built once per process.

    Resolving the four casts and the columns cost as much as the page's filters;
    this queryset is never evaluated itself, only cloned by the filters each
    request adds (every queryset method returns a new one).
    """
    return Ticket.objects.annotate(**_LIVE_SELECT).values_list(*LIVE_COLUMNS)


def queue_rows(ids: Iterable[int]) -> dict[int, QueueRow]:
    """The shown values of these tickets, by id, with their ``last_customer_at``:
    the customer's latest public comment, else the time the ticket was opened.

    Two queries, whatever the number of tickets. (A subquery per row would also
    run for the rows a later page skips.)
    """
    wanted = list(ids)
    values = list(
        Ticket.objects.filter(pk__in=wanted).order_by().values_list(*ROW_COLUMNS)
    )
    latest = dict(
        Comment.objects.filter(
            ticket_id__in=wanted,
            is_public=True,
            author__is_staff=False,
        )
        .values("ticket_id")
        .annotate(at=Max("created_at"))
        .values_list("ticket_id", "at")
        .order_by()
    )
    created = ROW_COLUMNS.index("created_at")
    return {
        row[0]: QueueRow(*row, latest.get(row[0], row[created]))  # type: ignore[call-arg]
        for row in values
    }


def queue_ticket_ids(
    query: QueueQuery, user: User, *, limit: int = NEXT_LOOKAHEAD
) -> list[int]:
    """The ids of a view's first tickets, in its order (for "Save and next")."""
    return list(
        _filtered(query, user, timezone.now()).values_list("pk", flat=True)[:limit]
    )


def next_ticket_id(ids: list[int], current: int) -> int | None:
    """The ticket after ``current`` in a view; the first one if it is not there."""
    if current in ids:
        after = ids[ids.index(current) + 1 :]
        return after[0] if after else None
    others = [pk for pk in ids if pk != current]
    return others[0] if others else None


def staff_choices() -> list[User]:
    """Everyone a ticket can be assigned to, by name."""
    return list(
        User.objects.filter(is_staff=True, is_active=True)
        .only("id", "email", "first_name", "last_name")
        .order_by("first_name", "last_name", "email")
    )
