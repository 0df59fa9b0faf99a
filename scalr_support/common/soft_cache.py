"""Read-through caching where an outage costs a query, never a page.

Read-through caches (the maintenance banner, the releases) go through these; when
the cache backend is unreachable (Redis down), reads miss, writes and deletes are
skipped, and a warning is logged. The database stays the source of truth.
"""

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_get(key: str) -> Any:
    """The cached value, or None if it is absent or the cache is unreachable."""
    try:
        return cache.get(key)
    except Exception:  # any backend failure (e.g. Redis down) is a miss
        logger.warning("cache unavailable; reading %s from the database", key)
        return None


def cache_set(key: str, value: Any, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:  # not caching is always safe
        logger.warning("cache unavailable; %s not cached", key)


def cache_delete(key: str) -> None:
    """Forget a key; if the cache is unreachable, its timeout bounds the staleness."""
    try:
        cache.delete(key)
    except Exception:  # the entry's timeout bounds the staleness
        logger.warning("cache unavailable; %s not forgotten", key)
