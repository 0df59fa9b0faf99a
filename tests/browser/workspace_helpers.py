"""Shared set-up of the workspace's browser tests: staff, tickets, signing in."""

from django.contrib.auth.models import Group

from scalr_support.accounts.groups import SUPPORT_ENGINEER
from scalr_support.accounts.models import User
from tests.factories import PASSWORD, ContactFactory, OrganizationFactory, StaffFactory
from tests.factories import tier as tier_named
from tickets import services
from tickets.models import Ticket


def engineer(email: str, first: str, last: str) -> User:
    user = StaffFactory(email=email, first_name=first, last_name=last)
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


def customer(org_name: str = "Acme Corp", tier: str = "business") -> User:
    organization = OrganizationFactory(name=org_name, tier=tier_named(tier))
    return ContactFactory(
        organization=organization,
        user__email=f"alice@{org_name.split()[0].lower()}.example.com",
        user__first_name="Alice",
    ).user


def file_ticket(requester: User, subject: str, priority: int = 2) -> Ticket:
    return services.ticket_create(
        requester=requester,
        data=services.TicketInput(
            subject=subject,
            description="New runs stay **pending** since the upgrade.",
            priority=priority,
            category="bug",
            deployment="saas",
        ),
    )


def sign_in(page, base_url: str, email: str, next_path: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}")
