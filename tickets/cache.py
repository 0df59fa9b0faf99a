"""Rendered fragments of the portal's busiest pages, shared by an organisation.

Every contact of an organisation sees the same ticket list and threads, so the
HTML is rendered once and reused until something of the organisation changes.
Each entry is valid only under the per-organisation version it was rendered
with (replaced on commit of any write to its tickets, comments, priority changes,
attachments or sessions), and it expires a minute after it was rendered, which
bounds how stale time-driven text ("due in …") and bulk updates that send no
signal can be. (Entries expire a minute after their own rendering, not at shared
minute boundaries, so a busy organisation's pages are not all rebuilt at once.)
"""

import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

STALE_AFTER = 60  # seconds an entry is served without a change


def _version_key(organization_id: int) -> str:
    return f"tickets:org:{organization_id}:version"


def organization_version(organization_id: int) -> str:
    """The organisation's current version; created (not reset) on a cache miss."""
    key = _version_key(organization_id)
    version = cache.get(key)
    if version is None:
        version = str(time.time_ns())
        if not cache.add(key, version, timeout=None):
            version = cache.get(key) or version
    return str(version)


def organization_changed(organization_id: int) -> None:
    """Invalidate the organisation's fragments now and again on commit.

    The second bump matters: a page rendered between the write and the commit
    still saw the old rows and may have cached them under the first new version.
    """

    def bump() -> None:
        cache.set(_version_key(organization_id), str(time.time_ns()), timeout=None)

    bump()
    transaction.on_commit(bump)


def fragment(
    *,
    organization_id: int,
    name: str,
    parts: tuple[Any, ...],
    render: Callable[[], str],
) -> str:
    """Return cached HTML for ``name``/``parts`` or render and store it.

    The entry carries the organisation version it was rendered under and counts
    only while that is still the current version; the version and the entry are
    read in one round trip, which every view of a busy page pays.
    """
    context = "\x1f".join(
        str(part)
        for part in (
            timezone.get_current_timezone_name(),
            translation.get_language(),
            *parts,
        )
    )
    digest = hashlib.sha256(context.encode()).hexdigest()[:32]
    key = f"tickets:fragment:{name}:{organization_id}:{digest}"
    version_key = _version_key(organization_id)
    found = cache.get_many([version_key, key])
    version = found.get(version_key) or organization_version(organization_id)
    entry = found.get(key)
    if isinstance(entry, tuple) and entry[0] == version:
        return str(entry[1])
    # Read before rendering: a write that lands meanwhile bumps the version, and
    # this entry, stored under the old one, is never served.
    html = render()
    cache.set(key, (version, html), STALE_AFTER)
    return html
