"""The portal banner's cache, forgotten once a window change commits.

On commit, not before: a rolled-back change must leave the cached banner alone,
and a reader between the delete and the commit would cache the old state again.
"""

from django.db import transaction

from ..selectors import banner_forget


def banner_forget_on_commit() -> None:
    """Drop the cached banner when the open transaction commits (never on rollback)."""
    transaction.on_commit(banner_forget)
