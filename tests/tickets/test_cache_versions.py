"""An organisation's fragment version: bumped after commit, once per transaction.

No cache call happens inside the write's transaction: several rows of one
organisation written in one transaction (a reply saves a comment and its ticket)
bump once, on commit; a rollback bumps nothing and leaves no state that
suppresses a later bump.
"""

import pytest
from django.db import transaction

from tickets import cache as ticket_cache

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def change_then_fail(organization_id: int) -> None:
    with transaction.atomic():
        ticket_cache.organization_changed(organization_id)
        raise Boom


@pytest.fixture
def bumps(monkeypatch):
    """The organisation ids of every bump, in order."""
    seen: list[set[int]] = []
    real = ticket_cache._bump

    def spy(organization_ids: set[int]) -> None:
        seen.append(set(organization_ids))
        real(organization_ids)

    monkeypatch.setattr(ticket_cache, "_bump", spy)
    return seen


def test_writes_in_one_transaction_bump_once_after_commit(
    bumps, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(3):
            ticket_cache.organization_changed(1)
            ticket_cache.organization_changed(2)
        assert bumps == []  # nothing inside the transaction

    assert bumps == [{1, 2}]


def test_the_commit_bump_gives_a_new_version(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ticket_cache.organization_changed(1)
        during = ticket_cache.organization_version(1)

    assert ticket_cache.organization_version(1) != during


def test_a_rolled_back_savepoint_does_not_suppress_the_bump_on_commit(
    bumps, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        with pytest.raises(Boom):
            change_then_fail(1)
        ticket_cache.organization_changed(1)

    assert len(callbacks) == 1
    assert bumps == [{1}]


def test_the_writing_thread_never_caches_its_uncommitted_rows(
    bumps, django_capture_on_commit_callbacks
):
    def fragment(html: str) -> str:
        return ticket_cache.fragment(
            organization_id=1, name="test", parts=(), render=lambda: html
        )

    def render_then_fail() -> None:
        with transaction.atomic():
            ticket_cache.organization_changed(1)
            assert fragment("uncommitted") == "uncommitted"
            raise Boom

    assert fragment("committed") == "committed"
    with pytest.raises(Boom):
        render_then_fail()

    assert fragment("later") == "committed"  # the rolled-back text was never stored
    assert bumps == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_does_not_suppress_later_bumps(bumps):
    with pytest.raises(Boom):
        change_then_fail(1)

    with transaction.atomic():
        ticket_cache.organization_changed(1)
        during = ticket_cache.organization_version(1)

    assert bumps == [{1}]
    assert ticket_cache.organization_version(1) != during


@pytest.mark.django_db(transaction=True)
def test_a_write_outside_a_transaction_bumps_once(bumps):
    ticket_cache.organization_changed(1)

    assert bumps == [{1}]
