"""Shared fixtures: real PostgreSQL and Redis, isolated media, signed-in clients."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db.models.signals import post_migrate
from django.test import Client

from scalr_support.accounts.models import User
from tests.factories import (
    PASSWORD,
    ContactFactory,
    OrganizationFactory,
    StaffFactory,
    reseed_policy_data,
    tier,
)
from tickets.models import Contact, Organization


def _restore_policy_data(sender: object, **kwargs: object) -> None:
    """Transactional tests end with a flush, which emits post_migrate; re-seed then."""
    if getattr(sender, "label", None) == "sla":
        reseed_policy_data()


post_migrate.connect(_restore_policy_data, dispatch_uid="tests-restore-policy-data")


@pytest.fixture(scope="session", autouse=True)
def _empty_test_broker() -> None:
    """Tasks left in the test broker by an earlier run must not reach this run."""
    from scalr_support.celery import app

    app.control.purge()


@pytest.fixture(autouse=True)
def _isolated_media(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def settle_cache_bumps(db: None) -> Callable[[], None]:
    """Apply the cache invalidations the set-up left waiting for its commit.

    A test runs in one transaction that never commits, so the contacts and tickets
    its fixtures made keep their organisation's version bump pending; like any
    writer, the thread then neither reads nor stores that organisation's cached
    fragments. Calling the returned function is that commit, for the
    organisations' versions and the workspace's stamps (``versions``: the staff
    the fixtures made leave ``NAMES`` pending).
    """
    from django.db import transaction

    from tickets import cache as ticket_cache
    from tickets.workspace import versions

    def settle() -> None:
        bumps = ticket_cache._current_bumps()
        if bumps is not None:
            bumps()
        for entry in transaction.get_connection().run_on_commit:
            if isinstance(entry[1], versions._Bump) and not entry[1].done:
                entry[1]()

    return settle


@pytest.fixture
def org_a(db: None) -> Organization:
    return OrganizationFactory(name="Acme Corp", tier=tier("business"))


@pytest.fixture
def org_b(db: None) -> Organization:
    return OrganizationFactory(name="Globex", tier=tier("business"))


@pytest.fixture
def free_org(db: None) -> Organization:
    return OrganizationFactory(name="Freeloader Ltd", tier=tier("free"))


@pytest.fixture
def alice(org_a: Organization) -> Contact:
    """A technical contact of organisation A."""
    return ContactFactory(
        organization=org_a,
        user__email="alice@acme.example.com",
        is_technical_contact=True,
    )


@pytest.fixture
def bob(org_a: Organization) -> Contact:
    """A contact of organisation A who is not a technical contact."""
    return ContactFactory(
        organization=org_a,
        user__email="bob@acme.example.com",
        is_technical_contact=False,
    )


@pytest.fixture
def gina(org_b: Organization) -> Contact:
    """A technical contact of organisation B."""
    return ContactFactory(organization=org_b, user__email="gina@globex.example.com")


@pytest.fixture
def engineer(db: None) -> User:
    return StaffFactory(email="engineer@support.example.com")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice: Contact) -> Client:
    return signed_in(alice.user)


@pytest.fixture
def bob_client(bob: Contact) -> Client:
    return signed_in(bob.user)


@pytest.fixture
def gina_client(gina: Contact) -> Client:
    return signed_in(gina.user)


@pytest.fixture
def engineer_client(engineer: User) -> Client:
    return signed_in(engineer)


__all__ = ["PASSWORD", "signed_in"]
