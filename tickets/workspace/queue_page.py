"""The queue page's data: the tabs' counts, a page of rows as HTML, the option
lists, saved views.

Per request the queue reads, in one cache round trip, the tabs' counts, its
page's rows' HTML, the staff and tier lists and the user's saved views, and
its page of tickets (``LiveRow``: order, SLA fields, ``updated_at``) from the
database. Only what is missing or stale is read from the database and
rendered, and stored in one more round trip. What invalidates what:

- a row's parts (``rows.RowParts``): keyed by ticket, ``ROW_FORMAT``, time
  zone and language; valid while the ticket's ``updated_at`` (moved by every
  write of a shown column and by every comment), the ``versions.NAMES`` stamp
  (organisation, tier and staff names; see there) and the day (the version
  flag) are those it was rendered under. The SLA badge and the view the row's
  link carries are added per request, never cached. A page's rows are also
  kept together (``_page_parts``), valid under the same conditions for each.
- the staff and tier lists: the ``versions.NAMES`` stamp.
- a user's saved views: the ``versions.SAVED_VIEWS`` stamp.

Nothing here is per viewer except the saved views, whose key holds the user.
A thread whose open transaction will bump a stamp reads and stores nothing
under it: it sees its own uncommitted rows.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.safestring import SafeString

from scalr_support.accounts.models import User

from ..models import SupportTier
from . import live_sql, queues, versions
from .models import SavedView
from .rows import RowParts, row_parts_renderer, rows_html

ROW_FORMAT = "1"  # change with the markup of rows.RowParts: old entries then miss
ENTRY_SECONDS = 6 * 3600  # bounds how long unused entries take up the cache
STAFF_KEY = "workspace:staff"
TIERS_KEY = "workspace:tiers"
# What ``staff_names`` reads (callers may read them with their own keys).
STAFF_CACHE_KEYS = (versions.NAMES, STAFF_KEY)

T = TypeVar("T")


class SavedViewItem(NamedTuple):
    """A saved view as the queue shows it (``SavedView``'s fields it reads)."""

    name: str
    query: str
    is_shared: bool


@dataclass(frozen=True)
class QueuePage:
    counts: dict[str, int]  # by tab (queues.tab_counts)
    page: Page  # of LiveRow
    rows_html: SafeString
    staff: list[tuple[int, str]]  # (id, display name), by name
    tiers: list[tuple[str, str]]  # (slug, name)
    saved_views: list[SavedViewItem]


def _row_key(pk: int, zone: str, language: str) -> str:
    return f"workspace:row:{ROW_FORMAT}:{pk}:{zone}:{language}"


def _views_key(user: User) -> str:
    return f"workspace:saved-views:{user.pk}"


def staff_names_read() -> list[tuple[int, str]]:
    """Everyone a ticket can be assigned to as (id, display name), by name."""
    return [(person.pk, person.display_name) for person in queues.staff_choices()]


def tiers_read() -> list[tuple[str, str]]:
    return list(SupportTier.objects.values_list("slug", "name"))


def saved_views_read(user: User) -> list[SavedViewItem]:
    """The shared views and the user's own, in their order."""
    return [
        SavedViewItem(name, query, owner_id is None)
        for name, query, owner_id in SavedView.objects.filter(
            Q(owner__isnull=True) | Q(owner=user)
        ).values_list("name", "query", "owner_id")
    ]


def staff_names(found: dict[str, Any] | None = None) -> list[tuple[int, str]]:
    """``staff_names_read``, cached under the ``versions.NAMES`` stamp (for pages
    that need only this list, such as the ticket page's assignee field).

    ``found``: a ``get_many`` result already holding ``versions.NAMES`` and
    ``STAFF_KEY``, read with the caller's other keys in one round trip.
    """
    if versions.pending(versions.NAMES):
        return staff_names_read()
    if found is None:
        found = cache.get_many(STAFF_CACHE_KEYS)
    lookup = _Lookup(found)
    staff = lookup.value(
        STAFF_KEY, versions.current(found, versions.NAMES), staff_names_read
    )
    if lookup.stores:
        cache.set_many(lookup.stores, ENTRY_SECONDS)
    return staff


class _Lookup:
    """Versioned entries read in one ``get_many`` and written in one ``set_many``.

    An entry is ``(stamp, value)``; it counts only while its stamp is the
    current one, read in the same round trip. A stamp of None (this thread will
    bump it on commit) reads and stores nothing.
    """

    def __init__(self, found: dict[str, Any]) -> None:
        self.found = found
        self.stores: dict[str, Any] = {}

    def value(self, key: str, stamp: str | None, read: Callable[[], T]) -> T:
        entry = self.found.get(key)
        if stamp is not None and isinstance(entry, tuple) and entry[:1] == (stamp,):
            return entry[1]  # type: ignore[no-any-return]
        value = read()
        if stamp is not None:
            self.stores[key] = (stamp, value)
        return value


def _rows_parts(
    live: list[queues.LiveRow],
    found: dict[str, Any],
    keys: dict[int, str],
    stamps: dict[int, str] | None,
    stores: dict[str, Any],
) -> dict[int, RowParts | list[str]]:
    """Every row's parts: from the cache where current, else rendered and kept in
    ``stores`` (unless ``stamps`` is None: this thread's names are uncommitted).

    An entry is one string, its stamp and the four parts separated by NUL (which
    no database text holds): unpickling a string costs a tenth of a tuple's.
    """
    parts: dict[int, RowParts | list[str]] = {}
    missing = []
    for row in live:
        entry = found.get(keys[row.pk]) if stamps is not None else None
        if isinstance(entry, str):
            stamp, *cached = entry.split("\0")
            if stamp == stamps[row.pk] and len(cached) == 4:  # type: ignore[index]
                parts[row.pk] = cached
                continue
        missing.append(row.pk)
    if missing:
        render = row_parts_renderer(timezone.get_current_timezone())
        for pk, shown in queues.queue_rows(missing).items():
            parts[pk] = rendered = render(shown)
            if stamps is not None:
                stores[keys[pk]] = "\0".join((stamps[pk], *rendered))
    return parts


def _page_key(query: queues.QueueQuery, user: User, zone: str, language: str) -> str:
    """Where a list's page of row parts is kept: one entry per page asked for of
    a list (and viewer, for "My open"), replaced as the page changes."""
    viewer = user.pk if query.tab == "mine" else None
    listed = repr((query.tab, query.q, query.priority, query.tier, query.assignee))
    listed += repr((query.version, query.sla, query.page, viewer))
    digest = hashlib.blake2b(listed.encode(), digest_size=16).hexdigest()
    return f"workspace:rows-page:{ROW_FORMAT}:{zone}:{language}:{digest}"


def _page_parts(
    live: list[queues.LiveRow],
    entry: object,
    page_key: str,
    names: str | None,
    day: str,
    zone: str,
    language: str,
    stores: dict[str, Any],
) -> Mapping[int, Sequence[str]]:
    """Every row's parts, from the page's entry when it holds these very rows,
    else from the rows' own entries (``_rows_parts``), then kept as the page's.

    The page's entry is one string: the rows' ids and ``updated_at`` stamps in
    their order, the names stamp and day, then each row's four parts, all
    separated by NUL. It counts only when all of these are those of the rows
    just read: exactly what each row's own entry requires of it (the key holds
    the zone and language), so it is never staler than they are. Where it is
    kept decides only how often it is found, never what it shows.
    """
    listed = ",".join(f"{row.pk}:{row.stamp}" for row in live)
    page_stamp = f"{names}|{day}"
    if names is not None and isinstance(entry, str):
        shown, stamp, *cached = entry.split("\0")
        if shown == listed and stamp == page_stamp and len(cached) == 4 * len(live):
            return {row.pk: cached[i * 4 : i * 4 + 4] for i, row in enumerate(live)}
    keys = {row.pk: _row_key(row.pk, zone, language) for row in live}
    found = cache.get_many(list(keys.values())) if names is not None else {}
    stamps = (
        None
        if names is None
        else {row.pk: f"{row.stamp}|{names}|{day}" for row in live}
    )
    parts = _rows_parts(live, found, keys, stamps, stores)
    if names is not None and all(row.pk in parts for row in live):
        stores[page_key] = "\0".join(
            (listed, page_stamp, *(part for row in live for part in parts[row.pk]))
        )
    return parts


def _live_page(
    query: queues.QueueQuery,
    user: User,
    *,
    now: datetime,
    counts: queues.TabCounts,
    found: Mapping[str, Any],
) -> Page:
    """The page of ``LiveRow``s the query asks for (the last one past the end).

    The paginator only numbers the pages: an unfiltered tab's count is the
    tab's (one query fewer, and no queryset built), a filtered one is counted
    and kept with the tab counts (``queues.list_count``).
    """
    if query.is_filtered:
        count = queues.list_count(
            query,
            user,
            counts=counts,
            found=found,
            count=lambda: live_sql.live_count(query, user, now=now),
        )
    else:
        count = counts.by_tab[query.tab]
    numbers: Sequence[Any] = range(count)  # its page's list is the rows below
    page = Paginator(numbers, queues.PAGE_SIZE).get_page(query.page)
    # A whole page, whatever the count says: the counts may lag others' changes
    # (``tab_counts``), the rows must not (the paginator would stop at the count).
    start = (page.number - 1) * queues.PAGE_SIZE
    page.object_list = live_sql.live_page(query, user, now=now, start=start)
    return page


def queue_page(
    query: queues.QueueQuery,
    user: User,
    *,
    now: datetime,
    gate_keys: Sequence[str] = (),
    gate: Callable[[Mapping[str, Any]], None] | None = None,
) -> QueuePage:
    """The tabs' counts, the queue's page of rows and the lists around it (see
    the module).

    ``gate`` is called with the round trip's answer, which holds ``gate_keys``
    too, before anything is read from the database or stored: the view checks
    the viewer's permissions there (raising to refuse), read in this round trip
    rather than in one of their own.
    """
    zone = timezone.get_current_timezone()
    zone_name, language = (
        timezone.get_current_timezone_name(),
        translation.get_language(),
    )
    page_key = _page_key(query, user, zone_name, language)
    views_key = _views_key(user)
    names_pending = versions.pending(versions.NAMES)
    views_pending = versions.pending(versions.SAVED_VIEWS)
    lookup = _Lookup(
        cache.get_many(
            [
                queues.counts_key(user),
                versions.NAMES,
                versions.SAVED_VIEWS,
                STAFF_KEY,
                TIERS_KEY,
                views_key,
                page_key,
                *([queues.list_count_key(query, user)] if query.is_filtered else []),
                *gate_keys,
            ]
        )
    )
    if gate is not None:
        gate(lookup.found)
    counts = queues.tab_counts(user, now=now, found=lookup.found)
    page = _live_page(query, user, now=now, counts=counts, found=lookup.found)
    live: list[queues.LiveRow] = page.object_list  # type: ignore[assignment]
    names = None if names_pending else versions.current(lookup.found, versions.NAMES)
    views = (
        None if views_pending else versions.current(lookup.found, versions.SAVED_VIEWS)
    )
    day = now.date().isoformat()
    parts = _page_parts(
        live,
        lookup.found.get(page_key),
        page_key,
        names,
        day,
        zone_name,
        language,
        lookup.stores,
    )

    staff = lookup.value(STAFF_KEY, names, staff_names_read)
    tiers = lookup.value(TIERS_KEY, names, tiers_read)
    saved = lookup.value(views_key, views, lambda: saved_views_read(user))
    if lookup.stores:
        cache.set_many(lookup.stores, ENTRY_SECONDS)
    return QueuePage(
        counts=counts.by_tab,
        page=page,
        rows_html=rows_html(live, parts, now=now, zone=zone, view=query.params()),
        staff=staff,
        tiers=tiers,
        saved_views=saved,
    )
