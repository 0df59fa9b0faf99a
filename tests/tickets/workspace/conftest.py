"""Fixtures of the workspace tests: staff in their real groups, tickets with clocks."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from scalr_support.accounts.models import User
from tests.conftest import signed_in
from tests.factories import ContactFactory, StaffFactory
from tickets import services
from tickets.models import Contact, Ticket
from tickets.workspace import versions


@pytest.fixture
def settle_queue_caches(settle_cache_bumps: Callable[[], None]) -> Callable[[], None]:
    """Commit, as far as the caches can tell: run the version bumps the set-up
    left waiting (a test's transaction never commits; until then the queue
    neither reads nor stores what they version)."""

    def settle() -> None:
        settle_cache_bumps()
        for (
            _savepoints,
            callback,
            _robust,
        ) in transaction.get_connection().run_on_commit:
            if isinstance(callback, versions._Bump) and not callback.done:
                callback()

    return settle


@pytest.fixture
def eli(db: None) -> User:
    """An engineer, in the Support Engineer group as the demo sets staff up."""
    user = StaffFactory(first_name="Eli", last_name="Engineer")
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


@pytest.fixture
def erin(db: None) -> User:
    """A second engineer, working the same queue."""
    user = StaffFactory(first_name="Erin", last_name="Other")
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


@pytest.fixture
def maya(db: None) -> User:
    user = StaffFactory(first_name="Maya", last_name="Manager")
    user.groups.add(Group.objects.get(name=SUPPORT_MANAGER))
    return user


@pytest.fixture
def eli_client(eli: User) -> Client:
    return signed_in(eli)


@pytest.fixture
def file_ticket(alice: Contact) -> Callable[..., Ticket]:
    """Open a ticket the way a customer does (so it has its SLA clock)."""

    def make(subject: str = "Runs stuck in pending", **kwargs: Any) -> Ticket:
        requester = kwargs.pop("requester", alice.user)
        data = {
            "subject": subject,
            "description": "New runs stay pending.",
            "priority": 2,
            "category": "bug",
            "deployment": "saas",
            **kwargs,
        }
        return services.ticket_create(
            requester=requester, data=services.TicketInput(**data)
        )

    return make


@pytest.fixture
def frank_ticket(free_org: Any) -> Ticket:
    frank = ContactFactory(organization=free_org, user__first_name="Frank").user
    return services.ticket_create(
        requester=frank,
        data=services.TicketInput(
            subject="OPA policy fails",
            description="It fails.",
            priority=3,
            category="bug",
            deployment="saas",
        ),
    )
