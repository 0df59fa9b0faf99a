"""Who has a ticket open: a short-lived entry per ticket in the cache.

The ticket page calls the heartbeat every ``HEARTBEAT_SECONDS``; an engineer
counts as present until ``PRESENCE_SECONDS`` after their last beat, so a closed
tab disappears within a minute. The entry is a small dict read and written
whole: two beats racing can drop one viewer until their next beat, which is
acceptable for a hint and needs no lock.
"""

import time

from django.core.cache import cache

from scalr_support.accounts.models import User

HEARTBEAT_SECONDS = 20
PRESENCE_SECONDS = 50


def presence_key(ticket_id: int) -> str:
    """The ticket's entry, for pages that read it with their other cache keys."""
    return f"workspace:presence:{ticket_id}"


def presence_beat(*, ticket_id: int, user: User, typing: bool = False) -> list[dict]:
    """Mark the user as viewing the ticket; return the others viewing it now."""
    now = time.time()
    key = presence_key(ticket_id)
    viewers: dict[str, dict] = cache.get(key) or {}
    viewers = {uid: v for uid, v in viewers.items() if v["until"] > now}
    viewers[str(user.pk)] = {
        "name": user.display_name,
        "until": now + PRESENCE_SECONDS,
        "typing": typing,
    }
    cache.set(key, viewers, timeout=PRESENCE_SECONDS)
    return _others(viewers, user)


def presence_others_in(entry: dict[str, dict] | None, *, user: User) -> list[dict]:
    """The other engineers viewing the ticket, without marking the user.

    ``entry`` is the ticket's entry (``presence_key``) as the page read it from the
    cache, in the one round trip of its other keys.
    """
    now = time.time()
    viewers = entry or {}
    return _others({u: v for u, v in viewers.items() if v["until"] > now}, user)


def _others(viewers: dict[str, dict], user: User) -> list[dict]:
    return [
        {"name": v["name"], "typing": v["typing"]}
        for uid, v in sorted(viewers.items())
        if uid != str(user.pk)
    ]
