"""Version stamps of what the queue caches, replaced after the commit of a change.

A cached queue entry carries the stamp it was rendered under and counts only
while that stamp is still current, so a change invalidates every entry at once
without knowing their keys:

- ``NAMES``: what a queue row shows from outside its ticket's own row (the
  organisation's name and tier, the tier's name and slug, the assignee's
  name), the staff and tier option lists, and whatever changes the "last
  customer update" without a write to the ticket (a deleted comment, an author
  who becomes or stops being staff). Bumped by the signals of ``connect`` on
  organisations, tiers, users (their names, email, staff and active flags) and
  comment deletions: all rare writes.
- ``SAVED_VIEWS``: the saved views, shared or personal (any save or delete).
- ``MACROS``: every user's macros (any save or delete of a macro, and a
  deleted user, whom a macro may name as its assignee; ``macros.macros_changed``).

A bump is sent once per key after the transaction commits (never on rollback;
outside a transaction, at once). A reader reads the stamp before the rows it
renders, so what it stores under an old stamp is never served after the bump.
"""

import time
from collections.abc import Mapping
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from ..cache import current_stamp

NAMES = "workspace:version:names"
SAVED_VIEWS = "workspace:version:saved-views"
MACROS = "workspace:version:macros"

# The user fields a queue shows (names, email) or that decide who counts as
# staff: a login's last_login or a password change bumps nothing.
USER_FIELDS = frozenset({"first_name", "last_name", "email", "is_staff", "is_active"})
ORGANIZATION_FIELDS = frozenset({"name", "tier"})


def current(found: Mapping[str, Any], key: str) -> str:
    """The version of ``key`` from a ``get_many`` result, created when missing."""
    return current_stamp(key, found)


class _Bump:
    """One key's bump, registered with ``on_commit`` as itself (see ``bump``).

    ``done`` once it ran: Django's bookkeeping keeps a callback listed while the
    commit runs the others (and tests run them without committing).
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.done = False

    def __call__(self) -> None:
        self.done = True
        cache.set(self.key, str(time.time_ns()), timeout=None)


def pending(key: str) -> bool:
    """Whether this thread's open transaction will bump ``key`` on commit.

    Such a thread sees its own uncommitted rows: it must neither read nor store
    entries under ``key``'s current stamp until then.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return False
    # run_on_commit holds (savepoint ids, callback, robust) of the open transaction;
    # a rolled-back savepoint's callbacks are already gone from it.
    return any(
        isinstance(entry[1], _Bump) and entry[1].key == key and not entry[1].done
        for entry in connection.run_on_commit
    )


def bump(key: str) -> None:
    """Give ``key`` a new version once the current write is committed.

    One cache write per key and transaction however many rows it changes.
    ``robust``: a cache failing after the commit must not fail the request.
    """
    if not transaction.get_connection().in_atomic_block:
        _Bump(key)()
    elif not pending(key):
        transaction.on_commit(_Bump(key), robust=True)


def _touches(fields: frozenset[str], update_fields: Any) -> bool:
    return update_fields is None or not fields.isdisjoint(update_fields)


def _user_saved(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    # A new customer is nobody's assignee and has written nothing yet.
    if created and not instance.is_staff:
        return
    if _touches(USER_FIELDS, kwargs.get("update_fields")):
        bump(NAMES)


def _organization_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    if _touches(ORGANIZATION_FIELDS, kwargs.get("update_fields")):
        bump(NAMES)


def _names_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    bump(NAMES)


def _saved_views_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    bump(SAVED_VIEWS)


def connect() -> None:
    """Connect the bumps (called from the app's ``ready``)."""
    from scalr_support.accounts.models import User

    from ..models import Comment, Organization, SupportTier
    from .models import SavedView

    post_save.connect(_user_saved, sender=User, dispatch_uid="ws-version-user")
    post_delete.connect(_names_changed, sender=User, dispatch_uid="ws-version-user-d")
    post_save.connect(
        _organization_saved, sender=Organization, dispatch_uid="ws-version-org"
    )
    post_delete.connect(
        _names_changed, sender=Organization, dispatch_uid="ws-version-org-d"
    )
    for signal in (post_save, post_delete):
        signal.connect(
            _names_changed, sender=SupportTier, dispatch_uid=f"ws-version-tier-{signal}"
        )
        signal.connect(
            _saved_views_changed,
            sender=SavedView,
            dispatch_uid=f"ws-version-views-{signal}",
        )
    # A deleted customer comment can change a row's "last customer update".
    post_delete.connect(
        _names_changed, sender=Comment, dispatch_uid="ws-version-comment-d"
    )
