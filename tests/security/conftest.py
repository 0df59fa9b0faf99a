"""The world every security test runs in: two organisations and six kinds of user.

Roles, in the order of the columns of ``route_policy.py``:

- ``anonymous``: not signed in;
- ``customer_a``: technical contact of organisation A (owns the objects below);
- ``contact_a``: contact of A who is not a technical contact;
- ``customer_b``: technical contact of organisation B (must see none of A);
- ``engineer``: staff in the "Support Engineer" group;
- ``manager``: staff in the "Support Manager" group.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from scalr_support.accounts.groups import (
    SUPPORT_ENGINEER,
    SUPPORT_MANAGER,
    ensure_staff_groups,
)
from scalr_support.accounts.models import ApiToken, User
from scalr_support.accounts.services import api_token_create
from tests.factories import ContactFactory, OrganizationFactory, StaffFactory, tier
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import Attachment, Organization, SupportSession, Ticket
from tickets.sessions import session_request

from .canary import Canary, plant_canary

ROLES = (
    "anonymous",
    "customer_a",
    "contact_a",
    "customer_b",
    "engineer",
    "manager",
)
CUSTOMER_ROLES = ("customer_a", "contact_a")


@dataclass
class World:
    org_a: Organization
    org_b: Organization
    users: dict[str, User | None]
    ticket_a: Ticket
    ticket_b: Ticket
    attachment_a: Attachment
    token_a: ApiToken
    canary: Canary
    admin_objects: dict[str, str] = field(default_factory=dict)

    _clients: dict[tuple[str, bool], Client] = field(default_factory=dict)

    def client(self, role: str, *, enforce_csrf: bool = False) -> Client:
        """A client signed in as the role (one per role and CSRF mode, reused)."""
        key = (role, enforce_csrf)
        if key not in self._clients:
            # A server error is a status to compare, not an exception in the test.
            client = Client(
                enforce_csrf_checks=enforce_csrf, raise_request_exception=False
            )
            user = self.users[role]
            if user is not None:
                client.force_login(user)
            self._clients[key] = client
        return self._clients[key]

    @property
    def url_values(self) -> dict[str, Any]:
        """What each URL parameter name is filled with: organisation A's objects."""
        return {
            "number": self.ticket_a.number,
            "attachment_id": self.attachment_a.pk,
            "token_id": self.token_a.pk,
            "uidb64": "MQ",
            "token": "set-password",
            "content_type_id": ContentType.objects.get_for_model(Ticket).pk,
            "object_id": self.ticket_a.pk,
            "id": self.users["contact_a"].pk,  # type: ignore[union-attr]
            "contact_id": self.users["contact_a"].contact.pk,  # type: ignore[union-attr]
            "user_id": self.users["contact_a"].pk,  # type: ignore[union-attr]
            "app_label": "tickets",
            "url": "no-such-admin-page/",
            "session_id": SupportSession.objects.filter(ticket=self.ticket_a)
            .values_list("pk", flat=True)
            .first(),
        }


def _staff(email: str, group: str) -> User:
    user = StaffFactory(email=email)
    user.groups.add(Group.objects.get(name=group))
    return user


def _admin_objects() -> dict[str, str]:
    """The newest object id of each admin-registered model ('' when there is none).

    The newest is the world's own (e.g. a calendar it made, not the seeded default
    one, which the admin refuses to delete).
    """
    objects = {}
    for model in admin.site._registry:
        newest = model._default_manager.order_by("-pk").values_list("pk", flat=True)
        pk = newest.first()
        objects[model._meta.label_lower] = "" if pk is None else str(pk)
    return objects


@pytest.fixture
def world(db: None, settings: Any) -> World:
    # As in production (settings/production.py insists): webhooks need the secret.
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "matrix:not-the-secret"}
    if Group.objects.filter(name__in=[SUPPORT_ENGINEER, SUPPORT_MANAGER]).count() < 2:
        ensure_staff_groups()  # a transactional test flushed them
    org_a = OrganizationFactory(name="Acme Corp", tier=tier("business"))
    org_b = OrganizationFactory(name="Globex", tier=tier("business"))
    customer_a = ContactFactory(
        organization=org_a, user__email="alice@acme.example.com"
    ).user
    contact_a = ContactFactory(
        organization=org_a,
        user__email="bob@acme.example.com",
        is_technical_contact=False,
    ).user
    customer_b = ContactFactory(
        organization=org_b, user__email="gina@globex.example.com"
    ).user
    engineer = _staff("engineer@support.example.com", SUPPORT_ENGINEER)
    manager = _staff("manager@support.example.com", SUPPORT_MANAGER)

    ticket_a = services.ticket_create(
        requester=customer_a,
        data=services.TicketInput(
            "Acme runs stuck", "Runs stay pending.", Priority.MAJOR, "bug", "saas"
        ),
        files=[SimpleUploadedFile("acme-agent.log", b"acme log")],
    )
    services.comment_create(ticket=ticket_a, author=engineer, body="Public answer")
    services.comment_create(ticket=ticket_a, author=customer_a, body="Thanks")
    services.ticket_priority_change(
        ticket=ticket_a,
        actor=engineer,
        priority=Priority.CRITICAL,
        reason="Production affected.",
    )
    canary = plant_canary(ticket_a, engineer)
    services.ticket_status_change(ticket=ticket_a, actor=engineer, status=Status.OPEN)
    ticket_b = services.ticket_create(
        requester=customer_b,
        data=services.TicketInput(
            "Globex secret", "Globex only.", Priority.MINOR, "question", "saas"
        ),
    )
    token_a = api_token_create(user=customer_a, name="Acme CI").token
    # A real-time session support requested on A's ticket (its accept/propose URLs).
    session_request(
        ticket=ticket_a,
        actor=engineer,
        proposed_at=timezone.now() + timedelta(days=2),
        link="https://zoom.us/j/1234567890",
    )
    if apps.is_installed("sla"):
        # A calendar of the world's own: the seeded default one cannot be deleted.
        apps.get_model("sla", "BusinessCalendar").objects.create(name="Matrix hours")
    return World(
        org_a=org_a,
        org_b=org_b,
        users={
            "anonymous": None,
            "customer_a": customer_a,
            "contact_a": contact_a,
            "customer_b": customer_b,
            "engineer": engineer,
            "manager": manager,
        },
        ticket_a=ticket_a,
        ticket_b=ticket_b,
        attachment_a=ticket_a.attachments.get(comment__isnull=True),
        token_a=token_a,
        canary=canary,
        admin_objects=_admin_objects(),
    )


# --- state: roll back each request, fingerprint the database ----------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run a block in a savepoint that is always rolled back.

    The savepoint is marked like the test's own transaction, so services that open
    ``atomic(durable=True)`` run inside it as they do inside a TestCase.
    """
    with transaction.atomic():
        connection.atomic_blocks[-1]._from_testcase = True
        try:
            yield
        finally:
            transaction.set_rollback(True)


# Tables a request may legitimately write to without changing anything a user owns:
# sessions and the login-throttling logs.
UNWATCHED_TABLES = {"django_session"}
UNWATCHED_PREFIXES = ("axes_",)


@cache
def _watched_tables() -> frozenset[str]:
    existing = set(connection.introspection.table_names())
    tables = []
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if model._meta.managed and not model._meta.proxy:
            if table in UNWATCHED_TABLES or table.startswith(UNWATCHED_PREFIXES):
                continue
            if table in existing:
                tables.append(table)
    return frozenset(tables)


def database_fingerprint() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, per table.

    PostgreSQL counts every write of the current transaction (savepoints that were
    rolled back included) in ``pg_stat_xact_user_tables``; comparing two readings
    tells whether anything in between wrote, in one cheap query.
    """
    watched = _watched_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del "
            "FROM pg_stat_xact_user_tables"
        )
        return {
            table: writes for table, writes in cursor.fetchall() if table in watched
        }


def changed_tables(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(t for t, writes in after.items() if writes != before.get(t, 0))
