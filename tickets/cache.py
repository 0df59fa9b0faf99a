"""Rendered fragments of the portal's busiest pages, shared by an organisation.

Every contact of an organisation sees the same ticket list and threads, so the
HTML is rendered once and reused until something of the organisation changes.
Each entry is valid only under the per-organisation version it was rendered
with (replaced after the commit of any write to its tickets, comments, priority
changes, attachments or sessions; never from inside the write's transaction), and
it expires a minute after it was rendered, which
bounds how stale time-driven text ("due in …") and bulk updates that send no
signal can be. (Entries expire a minute after their own rendering, not at shared
minute boundaries, so a busy organisation's pages are not all rebuilt at once.)
"""

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

STALE_AFTER = 60  # seconds an entry is served without a change

T = TypeVar("T")


def _version_key(organization_id: int) -> str:
    return f"tickets:org:{organization_id}:version"


def current_stamp(key: str, found: Mapping[str, Any] | None = None) -> str:
    """The version stamp under ``key``, created (never reset) when missing.

    ``found``: a ``get_many`` result that already holds the key, saving a round
    trip. Created with ``add``, so a concurrent bump or creation wins.
    """
    version = cache.get(key) if found is None else found.get(key)
    if version is None:
        version = str(time.time_ns())
        if not cache.add(key, version, timeout=None):
            version = cache.get(key) or version
    return str(version)


def organization_version(organization_id: int) -> str:
    """The organisation's current version; created (not reset) on a cache miss."""
    return current_stamp(_version_key(organization_id))


class _Bumps:
    """Organisations changed in the open transaction, bumped when it commits.

    Registered with ``transaction.on_commit`` as itself, so that Django's own
    bookkeeping says whether it still counts: a rollback (of the transaction, or
    of the savepoint it was registered in) drops it along with the other
    callbacks, and the next change starts a new one.
    """

    def __init__(self) -> None:
        self.organization_ids: set[int] = set()
        self.done = False

    def __call__(self) -> None:
        self.done = True
        _bump(self.organization_ids)


_state = threading.local()


def _bump(organization_ids: set[int]) -> None:
    """Give each organisation a new version, in one round trip."""
    version = str(time.time_ns())
    if len(organization_ids) == 1:
        (organization_id,) = organization_ids
        cache.set(_version_key(organization_id), version, timeout=None)
    elif organization_ids:
        cache.set_many(
            {_version_key(pk): version for pk in organization_ids}, timeout=None
        )


def _current_bumps() -> _Bumps | None:
    """This thread's pending bumps, while their callback is still queued.

    Not once it has run, nor after a rollback dropped it: then the state it holds
    belongs to a finished transaction.
    """
    bumps: _Bumps | None = getattr(_state, "bumps", None)
    if bumps is None or bumps.done:
        return None
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    # run_on_commit holds (savepoint ids, callback, robust) for the open transaction.
    return (
        bumps if any(entry[1] is bumps for entry in connection.run_on_commit) else None
    )


def organization_changed(organization_id: int) -> None:
    """Invalidate the organisation's fragments once the write is committed.

    Inside a transaction nothing is sent now: the organisation is bumped once on
    commit however many of its rows the block writes (one cache round trip per
    transaction, none inside it), and not at all on rollback. A page rendered
    meanwhile by another process read the version before its rows, so what it
    stored is under the old version and never served after the bump. This thread
    sees its own uncommitted rows, so ``fragment`` neither reads nor stores the
    organisation's entries until the commit. Outside a transaction the write is
    already committed, so one bump now does.
    """
    if not transaction.get_connection().in_atomic_block:
        _bump({organization_id})
        return
    bumps = _current_bumps()
    if bumps is None:
        bumps = _Bumps()
        # robust: a cache that fails after the commit must not fail the request;
        # the entries' STALE_AFTER bounds the staleness then.
        transaction.on_commit(bumps, robust=True)
        _state.bumps = bumps
    bumps.organization_ids.add(organization_id)


@dataclass(frozen=True)
class Fragment:
    """A fragment to fetch: its name, what its content depends on, its renderer.

    ``stamps`` are cache keys of version stamps (besides the organisation's) the
    content depends on: an entry counts only while each holds the value it held
    when the entry was rendered, read in the same round trip. ``cacheable`` False
    (this thread's open transaction will bump one of them) renders the fragment
    without reading or storing an entry. ``timeout`` is how long an entry is kept
    (None: ``STALE_AFTER``); longer only when every change the content shows bumps
    the version or a stamp, or changes its ``parts``.
    """

    name: str
    parts: tuple[Any, ...]
    render: Callable[[], Any]
    timeout: int | None = None
    stamps: tuple[str, ...] = ()
    cacheable: bool = True


def _fragment_key(organization_id: int, name: str, parts: tuple[Any, ...]) -> str:
    context = "\x1f".join(
        str(part)
        for part in (
            timezone.get_current_timezone_name(),
            translation.get_language(),
            *parts,
        )
    )
    digest = hashlib.sha256(context.encode()).hexdigest()[:32]
    return f"tickets:fragment:{name}:{organization_id}:{digest}"


def fragments(
    *,
    organization_id: int,
    wanted: Sequence[Fragment],
    also: Sequence[str] = (),
) -> tuple[list[Any], dict[str, Any]]:
    """Several of the organisation's fragments, and other cache keys, in one trip.

    Returns the fragments' content in the order asked, and what the cache holds
    for the keys of ``also`` (absent keys left out), which the caller reads as it
    would from ``cache.get_many``: a page pays one round trip for everything it
    keeps in the cache when all is warm. Misses are rendered and stored with one
    more round trip. Each fragment follows the rules of ``fragment``.
    """
    keys = [_fragment_key(organization_id, f.name, f.parts) for f in wanted]
    bumps = _current_bumps()
    if bumps is not None and organization_id in bumps.organization_ids:
        # This thread's uncommitted rows: for nobody else's eyes.
        found = cache.get_many(list(also)) if also else {}
        return [f.render() for f in wanted], found
    version_key = _version_key(organization_id)
    stamp_keys = [k for f in wanted for k in f.stamps if k not in also]
    found = cache.get_many([version_key, *keys, *stamp_keys, *also])
    version = current_stamp(version_key, found)
    contents: list[Any] = []
    missed: dict[int, dict[str, Any]] = {}
    for spec, key in zip(wanted, keys, strict=True):
        entry = found.pop(key, None)
        if not spec.cacheable:
            contents.append(spec.render())
            continue
        # The version and stamps were read before rendering: a write that lands
        # meanwhile bumps one, and this entry, stored under the old, is never served.
        valid = (version, *(_stamp(found, k) for k in spec.stamps))
        if isinstance(entry, tuple) and entry[:-1] == valid:
            contents.append(entry[-1])
            continue
        content = spec.render()
        timeout = STALE_AFTER if spec.timeout is None else spec.timeout
        missed.setdefault(timeout, {})[key] = (*valid, content)
        contents.append(content)
    for timeout, entries in missed.items():
        if len(entries) == 1:
            ((key, entry),) = entries.items()
            cache.set(key, entry, timeout)
        else:
            cache.set_many(entries, timeout)
    found.pop(version_key, None)
    for key in stamp_keys:
        found.pop(key, None)
    return contents, found


def _stamp(found: dict[str, Any], key: str) -> str:
    """The stamp ``key``'s value from ``found``, created (never reset) if missing."""
    stamp = found[key] = current_stamp(key, found)
    return stamp


def fragment(
    *,
    organization_id: int,
    name: str,
    parts: tuple[Any, ...],
    render: Callable[[], T],
) -> T:
    """Return the cached rendering for ``name``/``parts`` or render and store it.

    What is stored is shared by every viewer of the organisation, so it must hold
    nothing of one viewer's (a CSRF token, a form with errors): those are rendered
    around it on each request, never substituted into it.

    The entry carries the organisation version it was rendered under and counts
    only while that is still the current version; the version and the entry are
    read in one round trip, which every view of a busy page pays.
    """
    (content,), _found = fragments(
        organization_id=organization_id,
        wanted=[Fragment(name, parts, render)],
    )
    return content  # type: ignore[no-any-return]
