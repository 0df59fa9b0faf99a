"""Idempotent demo data: the accounts in CONTRACT.md and a few tickets."""

from datetime import date
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from maintenance.services import windows_materialise
from scalr_support.accounts.groups import (
    SUPPORT_ENGINEER,
    SUPPORT_MANAGER,
    ensure_staff_groups,
)
from scalr_support.accounts.models import User
from tickets import services
from tickets.choices import Category, Deployment
from tickets.models import Contact, Organization, Release, SupportTier, Ticket
from tickets.workspace.demo import demo_macros_ensure

DEMO_PASSWORD = "scalr-demo-2026"  # noqa: S105 - published demo credential

STAFF = [
    ("manager@support.example.com", "Maya", "Manager", SUPPORT_MANAGER),
    ("engineer@support.example.com", "Eli", "Engineer", SUPPORT_ENGINEER),
]
ORGANIZATIONS = [
    ("Acme Corp", "business", Deployment.ON_PREM, "9.4.1", "America/New_York"),
    ("Freeloader Ltd", "free", Deployment.SAAS, "9.5.0", "Europe/London"),
    ("Globex", "business", Deployment.SAAS, "9.5.0", "Europe/Berlin"),
]
CONTACTS = [
    ("alice@acme.example.com", "Alice", "Anders", "Acme Corp", True),
    ("bob@acme.example.com", "Bob", "Baker", "Acme Corp", False),
    ("frank@freeloader.example.com", "Frank", "Fisher", "Freeloader Ltd", True),
    ("gina@globex.example.com", "Gina", "Gomez", "Globex", True),
]
# Contacts who run their organisation's contacts in the portal.
ORGANIZATION_ADMINS = {"alice@acme.example.com"}
# (version, major, release date): the lifecycle table on /support-policy/.
RELEASES = [
    ("8.0.0", 8, "2025-01-14"),
    ("8.9.2", 8, "2026-02-17"),
    ("9.0.0", 9, "2026-03-10"),
    ("9.4.1", 9, "2026-07-14"),
    ("9.5.0", 9, "2026-10-06"),
]
TICKETS = [
    (
        "alice@acme.example.com",
        "Runs stuck in pending after upgrade to 9.4",
        "Since upgrading our on-prem install, new runs stay **pending**.\n\n"
        "Existing workspaces are fine. Agent logs attached on request.",
        1,
        Category.BUG,
    ),
    (
        "alice@acme.example.com",
        "How do I rotate the agent pool token?",
        "We want to rotate the token used by our self-hosted agent pool. "
        "Is there a documented procedure?",
        4,
        Category.QUESTION,
    ),
    (
        "frank@freeloader.example.com",
        "OPA policy check fails on plan with modules",
        "Our OPA policy works locally but fails in Scalr when the plan uses modules.",
        3,
        Category.THIRD_PARTY,
    ),
    (
        "gina@globex.example.com",
        "Feature request: workspace tags in the run dashboard",
        "It would help us to filter the run dashboard by workspace tag.",
        4,
        Category.ENHANCEMENT,
    ),
]


class Command(BaseCommand):
    help = "Create the demo accounts and tickets (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_staff_groups()
        with transaction.atomic():
            for email, first, last, group in STAFF:
                user = self._user(email, first, last, is_staff=True)
                user.groups.add(Group.objects.get(name=group))
            tiers = {tier.slug: tier for tier in SupportTier.objects.all()}
            orgs = {}
            for name, tier, deployment, version, tz in ORGANIZATIONS:
                orgs[name], _created = Organization.objects.update_or_create(
                    name=name,
                    defaults={
                        "tier": tiers[tier],
                        "deployment": deployment,
                        "scalr_version": version,
                        "timezone": tz,
                    },
                )
            for email, first, last, org, technical in CONTACTS:
                user = self._user(email, first, last, is_staff=False)
                Contact.objects.update_or_create(
                    user=user,
                    defaults={
                        "organization": orgs[org],
                        "is_technical_contact": technical,
                        "training_completed": technical,
                        "is_organization_admin": email in ORGANIZATION_ADMINS,
                    },
                )
        for email, subject, description, priority, category in TICKETS:
            if Ticket.objects.filter(subject=subject).exists():
                continue
            requester = User.objects.get(email=email)
            organization = requester.contact.organization
            services.ticket_create(
                requester=requester,
                data=services.TicketInput(
                    subject=subject,
                    description=description,
                    priority=priority,
                    category=category,
                    deployment=organization.deployment,
                    version_reported=organization.scalr_version,
                ),
            )
        for version, major, released_on in RELEASES:
            Release.objects.get_or_create(
                version=version,
                defaults={
                    "major": major,
                    "released_on": date.fromisoformat(released_on),
                },
            )
        demo_macros_ensure()
        windows_materialise()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _user(self, email: str, first: str, last: str, *, is_staff: bool) -> User:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"first_name": first, "last_name": last, "is_staff": is_staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
