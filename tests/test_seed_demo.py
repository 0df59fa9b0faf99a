"""The demo data in CONTRACT.md: accounts that sign in, idempotent re-runs."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from scalr_support.accounts.models import User
from tickets.models import Contact, Ticket

pytestmark = pytest.mark.django_db

CONTRACT_ACCOUNTS = {
    "manager@support.example.com": (True, None, None),
    "engineer@support.example.com": (True, None, None),
    "alice@acme.example.com": (False, "Acme Corp", True),
    "bob@acme.example.com": (False, "Acme Corp", False),
    "frank@freeloader.example.com": (False, "Freeloader Ltd", True),
    "gina@globex.example.com": (False, "Globex", True),
}


def test_seed_demo_creates_the_contract_accounts_and_is_idempotent():
    call_command("seed_demo")
    tickets_after_first = Ticket.objects.count()
    call_command("seed_demo")

    assert Ticket.objects.count() == tickets_after_first > 0
    for email, (is_staff, org, technical) in CONTRACT_ACCOUNTS.items():
        user = User.objects.get(email=email)
        assert user.is_staff is is_staff
        if org:
            contact = Contact.objects.get(user=user)
            assert contact.organization.name == org
            assert contact.is_technical_contact is technical


@pytest.mark.parametrize("email", sorted(CONTRACT_ACCOUNTS))
def test_demo_accounts_sign_in_with_the_published_password(email):
    call_command("seed_demo")

    response = Client().post(
        reverse("login"), {"username": email, "password": "scalr-demo-2026"}
    )

    assert response.status_code == 302


def test_demo_tiers_match_the_policy():
    call_command("seed_demo")

    acme = Contact.objects.get(user__email="alice@acme.example.com").organization
    free = Contact.objects.get(user__email="frank@freeloader.example.com").organization
    assert acme.tier.community_slack
    assert acme.tier.guaranteed_response
    assert not free.tier.community_slack
    assert not free.tier.guaranteed_response
    assert acme.deployment == "on_prem"
    assert free.deployment == "saas"


def test_manager_may_edit_tiers_and_engineer_may_not():
    call_command("seed_demo")

    manager = User.objects.get(email="manager@support.example.com")
    engineer = User.objects.get(email="engineer@support.example.com")
    assert manager.has_perm("tickets.change_supporttier")
    assert manager.has_perm("sla.change_responsetarget")
    assert not engineer.has_perm("tickets.change_supporttier")
    assert engineer.has_perm("tickets.change_ticket")
