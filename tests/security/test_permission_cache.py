"""Cached permissions (accounts/backends.py): no queries, and every change counts.

Each check loads the user afresh, as every request does, so nothing is carried on
the user object from one "request" to the next.
"""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from scalr_support.accounts.groups import SUPPORT_ENGINEER, ensure_staff_groups
from scalr_support.accounts.models import User
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

VIEW_TICKET = "tickets.view_ticket"
SHARE_VIEWS = "tickets.share_savedview"


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def engineer_group() -> Group:
    ensure_staff_groups()
    return Group.objects.get(name=SUPPORT_ENGINEER)


@pytest.fixture
def member(engineer_group: Group) -> User:
    user = StaffFactory(is_superuser=False)
    user.groups.add(engineer_group)
    return user


def permission(codename: str) -> Permission:
    app_label, name = codename.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=name)


def test_a_second_request_checks_permissions_without_a_query(
    member: User, django_assert_num_queries: Callable[..., object]
) -> None:
    assert fresh(member).has_perm(VIEW_TICKET)
    user = fresh(member)
    with django_assert_num_queries(0):  # type: ignore[attr-defined]
        assert user.has_perm(VIEW_TICKET)
        assert not user.has_perm(SHARE_VIEWS)


def test_leaving_the_group_takes_its_permissions_at_once(
    member: User, engineer_group: Group
) -> None:
    assert fresh(member).has_perm(VIEW_TICKET)
    member.groups.remove(engineer_group)
    assert not fresh(member).has_perm(VIEW_TICKET)
    member.groups.add(engineer_group)
    assert fresh(member).has_perm(VIEW_TICKET)
    member.groups.clear()
    assert not fresh(member).has_perm(VIEW_TICKET)


def test_a_permission_taken_from_the_group_is_gone_at_once(
    member: User, engineer_group: Group
) -> None:
    assert fresh(member).has_perm(VIEW_TICKET)
    engineer_group.permissions.remove(permission(VIEW_TICKET))
    assert not fresh(member).has_perm(VIEW_TICKET)


def test_a_permission_given_to_the_user_counts_at_once(member: User) -> None:
    assert not fresh(member).has_perm(SHARE_VIEWS)
    member.user_permissions.add(permission(SHARE_VIEWS))
    assert fresh(member).has_perm(SHARE_VIEWS)


def test_a_deleted_group_takes_its_permissions(
    member: User, engineer_group: Group
) -> None:
    assert fresh(member).has_perm(VIEW_TICKET)
    engineer_group.delete()
    assert not fresh(member).has_perm(VIEW_TICKET)


def test_superuser_and_active_flags_are_read_from_the_user(member: User) -> None:
    assert SHARE_VIEWS not in fresh(member).get_all_permissions()
    User.objects.filter(pk=member.pk).update(is_superuser=True)
    assert SHARE_VIEWS in fresh(member).get_all_permissions()
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert fresh(member).get_all_permissions() == set()


def test_the_change_is_published_again_when_it_commits(
    member: User,
    engineer_group: Group,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    """A request that read the old permissions before the commit cached them
    under the version the change set first; the commit retires that version."""
    from scalr_support.accounts import backends

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        member.groups.remove(engineer_group)
        stale_version = backends.cache.get(backends.VERSION_KEY)
    assert backends.cache.get(backends.VERSION_KEY) != stale_version


def test_the_admin_refuses_a_removed_engineer_on_the_next_request(
    member: User, engineer_group: Group
) -> None:
    client = Client()
    client.force_login(member)
    assert client.get("/admin/tickets/ticket/").status_code == 200
    member.groups.remove(engineer_group)
    assert client.get("/admin/tickets/ticket/").status_code == 403
