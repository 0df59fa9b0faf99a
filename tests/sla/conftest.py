"""SLA fixtures: tickets opened through the real services, clocks moved in time."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db.models import F

from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from scalr_support.accounts.models import User
from sla.models import ResponseClock
from tests.factories import ContactFactory, StaffFactory
from tickets import services
from tickets.choices import Category, Deployment, Priority
from tickets.models import Contact, Organization, Ticket


def open_ticket(contact: Contact, priority: int = Priority.CRITICAL) -> Ticket:
    """Open a ticket the way the portal does (so the SLA hooks run)."""
    return services.ticket_create(
        requester=contact.user,
        data=services.TicketInput(
            subject="Runs stuck in pending",
            description="New runs stay pending since the upgrade.",
            priority=priority,
            category=Category.BUG,
            deployment=Deployment.SAAS,
        ),
    )


def move_back(ticket: Ticket, delta: timedelta) -> None:
    """Pretend the ticket's running clock started ``delta`` earlier (24x7 targets).

    Shifts start, due and at-risk times together, which is exact for elapsed
    targets, and the ticket's denormalised copies with them.
    """
    ResponseClock.objects.filter(ticket=ticket, responded_at__isnull=True).update(
        started_at=F("started_at") - delta,
        due_at=F("due_at") - delta,
        at_risk_at=F("at_risk_at") - delta,
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=F("created_at") - delta,
        sla_due_at=F("sla_due_at") - delta,
        sla_at_risk_at=F("sla_at_risk_at") - delta,
        first_response_due_at=F("first_response_due_at") - delta,
    )
    ticket.refresh_from_db()


def running(ticket: Ticket) -> ResponseClock:
    return ResponseClock.objects.get(ticket=ticket, responded_at__isnull=True)


@pytest.fixture
def support_engineer(db: None) -> User:
    user = StaffFactory(email="eli@support.example.com")
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


@pytest.fixture
def support_manager(db: None) -> User:
    user = StaffFactory(email="maya@support.example.com")
    user.groups.add(Group.objects.get(name=SUPPORT_MANAGER))
    return user


@pytest.fixture
def frank(free_org: Organization) -> Contact:
    return ContactFactory(
        organization=free_org, user__email="frank@freeloader.example.com"
    )
