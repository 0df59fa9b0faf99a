"""Django's ModelBackend with each user's permissions kept in the cache.

Every admin page checks permissions, and ``ModelBackend`` reads them with two
queries on every request (the user's own and their groups'): on a workspace page
that is more than the page's own data costs. Permissions change rarely and only
through a few writes, so each user's set is cached under a global version that
any of those writes replaces once it commits (``permissions_changed``): group
membership, a user's or a group's permissions, a group or permission saved or
deleted. A user's superuser flag is part of the entry, so flipping it needs no
signal. Writes that send no signal (``QuerySet.update`` or SQL on the auth
tables) are seen within ``PERMISSIONS_SECONDS``.

A cache entry is trusted only when it carries the current version, so a request
that read the permissions before a change committed can store them, but no one
will use them: the change's new version no longer matches. A page may read the
entry and the version with its own keys (``permission_keys``,
``prime_permissions``): the same entry, trusted on the same condition.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import User

PERMISSIONS_SECONDS = 300
# For ``login(backend=...)`` where more than one backend is configured.
BACKEND_PATH = "scalr_support.accounts.backends.CachedPermissionsBackend"
VERSION_KEY = "accounts:permissions:version"


def _user_key(user_id: object) -> str:
    return f"accounts:permissions:user:{user_id}"


def _new_version() -> str:
    return uuid.uuid4().hex


def permission_keys(user: User) -> tuple[str, str]:
    """What ``prime_permissions`` reads: for a page that reads them with its own
    keys in one round trip instead of the backend's own."""
    return (VERSION_KEY, _user_key(user.pk))


def _current(user_obj: Any, found: Mapping[str, Any]) -> set[str] | None:
    """The user's permissions from ``found`` (a ``get_many`` of
    ``permission_keys``) if its entry carries the current version, else None."""
    version = found.get(VERSION_KEY)
    entry = found.get(_user_key(user_obj.pk))
    if (
        version is not None
        and entry is not None
        and entry[0] == version
        and entry[1] == user_obj.is_superuser
    ):
        return set(entry[2])
    return None


def prime_permissions(user: User, found: Mapping[str, Any]) -> None:
    """Let this request's permission checks use ``found`` where it is current
    (exactly what ``_cached`` would trust); otherwise they read as usual."""
    if user.is_active and not hasattr(user, "_perm_cache"):
        permissions = _current(user, found)
        if permissions is not None:
            user._perm_cache = permissions  # type: ignore[attr-defined]


class CachedPermissionsBackend(ModelBackend):
    """``ModelBackend`` whose ``get_all_permissions`` is served from the cache."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = self._cached(user_obj)
        return user_obj._perm_cache

    def _cached(self, user_obj: Any) -> set[str]:
        """The user's permissions from the cache, or read and stored there."""
        key = _user_key(user_obj.pk)
        found = cache.get_many([VERSION_KEY, key])
        cached = _current(user_obj, found)
        if cached is not None:
            return cached
        version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, _new_version(), timeout=None)
            version = cache.get(VERSION_KEY)
        permissions = super().get_all_permissions(user_obj)
        if version is not None:
            cache.set(
                key,
                (version, user_obj.is_superuser, sorted(permissions)),
                timeout=PERMISSIONS_SECONDS,
            )
        return permissions


def _retire() -> None:
    cache.set(VERSION_KEY, _new_version(), timeout=None)


def permissions_changed(**_kwargs: Any) -> None:
    """Retire every cached permission set now and again when the write commits.

    Now, so that the writer's own next check sees the change; on commit, because
    until then other requests read the old permissions and may have cached them
    under the version of "now".
    """
    _retire()
    transaction.on_commit(_retire)


def _membership_changed(action: str = "", **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        permissions_changed()


def connect_signals() -> None:
    """Listen for every write that changes what a user may do (from ``ready``)."""
    for through in (
        User.groups.through,
        User.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _membership_changed,
            sender=through,
            dispatch_uid=f"accounts.permissions.{through._meta.label}",
        )
    for model in (Group, Permission):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                permissions_changed,
                sender=model,
                dispatch_uid=f"accounts.permissions.{model._meta.label}.{name}",
            )
