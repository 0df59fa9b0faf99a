"""The test's hands inside the rig: a Django process reading one JSON request a line.

Run as ``python -m tests.faults.driver`` with the rig's environment (its private
database and broker). Each line ``{"op": name, "args": {...}}`` is answered with
one line ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``; a
database error is an answer, not a crash, so the driver survives the outages it
watches. Operations act through the product's services (as the portal would) or
read with SQL.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

OPERATIONS: dict[str, Callable[..., Any]] = {}
PASSWORD = "correct-horse-battery-staple"


def operation(function: Callable[..., Any]) -> Callable[..., Any]:
    OPERATIONS[function.__name__] = function
    return function


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, memoryview | bytes):
        return bytes(value).decode(errors="replace")
    return value


@operation
def ping() -> str:
    return "pong"


@operation
def sql(query: str, params: list[Any] | None = None) -> list[list[Any]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        if cursor.description is None:
            return []
        return [[_plain(v) for v in row] for row in cursor.fetchall()]


@operation
def scalar(query: str, params: list[Any] | None = None) -> Any:
    rows = sql(query, params)
    return rows[0][0] if rows else None


@operation
def seed(contacts: int = 3, tickets: int = 0, org: str = "Acme Corp") -> dict[str, Any]:
    """An organisation with technical contacts (API tokens), staff and tickets."""
    from django.contrib.auth.models import Group

    from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
    from scalr_support.accounts.models import User
    from scalr_support.accounts.services import api_token_create
    from tests.factories import ContactFactory, OrganizationFactory, tier
    from tickets import services as ticket_services

    def staff(email: str, group: str, **extra: Any) -> User:
        user = User.objects.create_user(
            email=email, password=PASSWORD, is_staff=True, **extra
        )
        user.groups.add(Group.objects.get(name=group))
        return user

    engineer = staff("engineer@support.example.com", SUPPORT_ENGINEER)
    manager = staff("manager@support.example.com", SUPPORT_MANAGER)
    admin = User.objects.create_superuser(
        email="admin@support.example.com", password=PASSWORD
    )
    organization = OrganizationFactory(name=org, tier=tier("business"))
    people = []
    slug = org.split()[0].lower()
    for n in range(contacts):
        contact = ContactFactory(
            organization=organization,
            user__email=f"contact{n}@{slug}.example.com",
            is_technical_contact=True,
        )
        issued = api_token_create(user=contact.user, name="faults")
        people.append(
            {"id": contact.user.pk, "email": contact.user.email, "token": issued.key}
        )
    numbers = []
    for n in range(tickets):
        requester = User.objects.get(pk=people[n % len(people)]["id"])
        ticket = ticket_services.ticket_create(
            requester=requester,
            data=ticket_services.TicketInput(
                subject=f"Seeded ticket {n}",
                description="Runs stay pending.",
                priority=2,
                category="bug",
                deployment="saas",
            ),
        )
        ticket_services.ticket_assign(ticket=ticket, actor=engineer, assignee=engineer)
        numbers.append(ticket.number)
    return {
        "engineer": {"id": engineer.pk, "email": engineer.email},
        "manager": {"id": manager.pk, "email": manager.email},
        "admin": {"id": admin.pk, "email": admin.email},
        "organization": organization.pk,
        "contacts": people,
        "tickets": numbers,
        "password": PASSWORD,
    }


@operation
def reply_address(ticket: int, user: int) -> str:
    from notifications.tokens import reply_address as make

    return make(ticket_number=ticket, user_id=user)


def aim(task: str | None, args: list[Any] | None = None) -> None:
    """Point the injector's phase delays at one task (see injector.py)."""
    target = os.path.join(os.environ["FAULTS_STATE_DIR"], "target.json")
    with open(target + ".tmp", "w") as stream:
        json.dump({"task": task, "args": args} if task else {}, stream)
    os.replace(target + ".tmp", target)


@operation
def comment(
    ticket: int, email: str, body: str, public: bool = True, aim_task: str = ""
) -> int:
    """A comment through the product's service (outbox rows, SLA hooks included).

    ``aim_task``: aim the phase delays at that task with the comment's event key,
    before the transaction commits (so before the task can exist).
    """
    from django.db import transaction

    from scalr_support.accounts.models import User
    from tickets import services as ticket_services
    from tickets.models import Ticket

    with transaction.atomic():
        created = ticket_services.comment_create(
            ticket=Ticket.objects.get(number=ticket),
            author=User.objects.get(email=email),
            body=body,
            is_public=public,
        )
        if aim_task:
            aim(aim_task, [f"comment:{created.pk}"])
    return created.pk


@operation
def send_task(name: str, args: list[Any] | None = None, times: int = 1) -> list[str]:
    """Publish a task ``times`` times, back to back (the first call also connects)."""
    from scalr_support.celery import app

    return [str(app.send_task(name, args=args or []).id) for _ in range(times)]


@operation
def breach_clocks(count: int, minutes_ago: int = 5) -> list[int]:
    """``count`` tickets whose first-response clocks were due minutes ago."""
    from django.utils import timezone

    from sla.models import ResponseClock

    return _tickets_with_clocks_due(
        [timezone.now() - timedelta(minutes=minutes_ago)] * count, ResponseClock
    )


def _tickets_with_clocks_due(due: list[datetime], clock_model: Any) -> list[int]:
    """Tickets (of the seeded organisation) whose running clocks fall due at ``due``.

    Created through the product's services, then the clocks are moved back in
    time: started one target earlier, so every due and at-risk time is in the past
    exactly as if the tickets had been filed then.
    """
    from scalr_support.accounts.models import User
    from tickets import services as ticket_services

    requester = User.objects.filter(contact__is_technical_contact=True).first()
    ids = []
    for when in due:
        ticket = ticket_services.ticket_create(
            requester=requester,
            data=ticket_services.TicketInput(
                subject="Clock due",
                description="Waiting for support.",
                priority=0,
                category="bug",
                deployment="saas",
            ),
        )
        clock = clock_model.objects.get(ticket=ticket)
        shift = clock.due_at - when
        clock_model.objects.filter(pk=clock.pk).update(
            started_at=clock.started_at - shift,
            due_at=clock.due_at - shift,
            at_risk_at=clock.at_risk_at - shift if clock.at_risk_at else None,
        )
        ids.append(clock.pk)
    return ids


@operation
def sla_backlog(
    count: int, first_due: str, spread_minutes: int, stop_at: str
) -> dict[str, Any]:
    """``count`` running clocks due every few seconds from ``first_due`` over
    ``spread_minutes``, on a business calendar in Europe/Berlin that is open
    around the clock (so two business hours are two real hours, across a DST
    change too), and the sweeps that ran until ``stop_at`` (beat then stopped).

    Tickets are unassigned Business P3 tickets whose target is 2 business hours.
    The notifications of the transitions recorded before the stop are marked sent
    (they went out before the outage).
    """
    from datetime import time as clock_time

    from django.db import transaction

    from notifications.models import DeliveryStatus, EmailDelivery
    from sla import services as sla_services
    from sla.models import Clock, ResponseTarget, TargetUnit
    from tests.factories import TicketFactory
    from tests.factories.sla import BusinessCalendarFactory
    from tickets.models import Organization, Ticket

    organization = Organization.objects.get()
    calendar = BusinessCalendarFactory(
        name="Berlin, around the clock",
        timezone="Europe/Berlin",
        intervals=[(day, clock_time(0), clock_time(0)) for day in range(7)],
    )
    Organization.objects.filter(pk=organization.pk).update(business_calendar=calendar)
    ResponseTarget.objects.filter(tier=organization.tier, priority=3).update(
        amount=2, unit=TargetUnit.HOURS, clock=Clock.BUSINESS, guaranteed=True
    )
    requester = organization.contacts.first().user
    first = datetime.fromisoformat(first_due)
    step = timedelta(minutes=spread_minutes) / count
    with transaction.atomic():
        for n in range(count):
            started = first + n * step - timedelta(hours=2)
            ticket = TicketFactory(
                organization=organization, requester=requester, priority=3
            )
            Ticket.objects.filter(pk=ticket.pk).update(created_at=started)
            ticket.refresh_from_db()
            sla_services.response_clock_start_first(ticket=ticket)
    stop = datetime.fromisoformat(stop_at)
    recorded = sla_services.sla_transitions_record(now=stop)
    notified = sla_services.sla_notifications_queue(now=stop)
    EmailDelivery.objects.update(status=DeliveryStatus.SENT, sent_at=stop)
    return {"recorded_before_stop": recorded, "notified_before_stop": notified}


@operation
def maintenance_reset() -> None:
    """No schedules, no windows: the scenario makes its own."""
    from maintenance.models import MaintenanceSchedule, MaintenanceWindow

    MaintenanceWindow.objects.all().delete()
    MaintenanceSchedule.objects.all().delete()


@operation
def maintenance_window(start_in: float, seconds: float) -> dict[str, Any]:
    """An ad-hoc window starting ``start_in`` seconds from now (negative: started)."""
    from django.utils import timezone

    from maintenance.models import MaintenanceWindow

    starts_at = timezone.now() + timedelta(seconds=start_in)
    window = MaintenanceWindow.objects.create(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(seconds=seconds),
        customised=True,
    )
    return {"id": window.pk, "ends_at": int(window.ends_at.timestamp())}


CONSISTENCY = {
    "tickets without their first-response clock": """
        SELECT t.number FROM tickets_ticket t WHERE NOT EXISTS (
            SELECT 1 FROM sla_responseclock c
            WHERE c.ticket_id = t.id AND c.kind = 'first_response')""",
    "tickets without their 'created' notifications": """
        SELECT t.number FROM tickets_ticket t WHERE NOT EXISTS (
            SELECT 1 FROM notifications_emaildelivery d
            WHERE d.event_key = 'ticket:' || t.id || ':created')""",
    "public comments without their notifications": """
        SELECT c.id FROM tickets_comment c WHERE c.is_public AND NOT EXISTS (
            SELECT 1 FROM notifications_emaildelivery d
            WHERE d.event_key = 'comment:' || c.id)""",
    "processed emails without their comment or ticket": """
        SELECT id FROM notifications_inboundmessage
        WHERE status = 'processed' AND comment_id IS NULL AND ticket_id IS NULL""",
    "ticket counter behind the highest number": """
        SELECT value FROM tickets_ticketcounter
        WHERE value < (SELECT coalesce(max(number), 0) FROM tickets_ticket)""",
    "deliveries left claimed": """
        SELECT id FROM notifications_emaildelivery WHERE status = 'sending'""",
}


@operation
def consistency() -> dict[str, list[Any]]:
    """Every half-made write the scenarios look for; empty lists when sound.

    A ticket and its first clock and notifications are one transaction, as are a
    comment and its notifications; an attachment row and its file are written
    together, and the file is deleted if the transaction fails.
    """
    from django.conf import settings
    from django.core.files.storage import default_storage

    from tickets.models import Attachment

    problems = {
        name: [row[0] for row in sql(query)] for name, query in CONSISTENCY.items()
    }
    names = set(Attachment.objects.values_list("file", flat=True))
    problems["attachment rows without their file"] = sorted(
        name for name in names if not default_storage.exists(name)
    )
    root = settings.MEDIA_ROOT
    stored = {
        os.path.relpath(os.path.join(folder, file), root)
        for folder, _dirs, files in os.walk(os.path.join(root, "attachments"))
        for file in files
    }
    problems["stored files without a row"] = sorted(stored - names)
    return problems


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.faults.settings")
    import django

    django.setup()
    from django.db import close_old_connections, connection

    for line in sys.stdin:
        request = json.loads(line)
        try:
            close_old_connections()
            result = OPERATIONS[request["op"]](**request.get("args", {}))
            answer = {"ok": True, "result": result}
        except Exception as error:  # every failure is an answer to the test
            traceback.print_exc(file=sys.stderr)
            connection.close()
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer, default=str) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
