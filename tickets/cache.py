"""Rendered fragments of the portal's busiest pages, shared by an organisation.

Every contact of an organisation sees the same ticket list and threads, so the
HTML is rendered once and reused until something of the organisation changes.
The key carries a per-organisation version (replaced on commit of any write to
its tickets, comments, priority changes or attachments) and a one-minute time
bucket, which bounds how stale time-driven text ("due in …") and bulk updates
that send no signal can be.
"""

import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

FRAGMENT_TTL = 120  # seconds
TIME_BUCKET = 60  # seconds


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
    """Return cached HTML for ``name``/``parts`` or render and store it."""
    context = "\x1f".join(
        str(part)
        for part in (
            organization_version(organization_id),
            int(time.time()) // TIME_BUCKET,
            timezone.get_current_timezone_name(),
            translation.get_language(),
            *parts,
        )
    )
    digest = hashlib.sha256(context.encode()).hexdigest()[:32]
    key = f"tickets:fragment:{name}:{organization_id}:{digest}"
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html, FRAGMENT_TTL)
    return html
