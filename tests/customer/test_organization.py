"""Organisation admins invite, deactivate and designate colleagues, audited."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from notifications import services as notification_services
from scalr_support.accounts.models import ApiToken, User
from tests.conftest import signed_in
from tests.factories import PASSWORD, ContactFactory, TicketFactory
from tickets import organizations
from tickets.customer_models import Invitation, OrganizationAuditEntry
from tickets.models import Contact

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def admin(alice):
    alice.is_organization_admin = True
    alice.save(update_fields=["is_organization_admin"])
    return alice


@pytest.fixture
def admin_client(admin):
    return signed_in(admin.user)


def invite(client, email="carol@acme.example.com", **extra):
    return client.post(
        "/organization/invitations/",
        {"email": email, "first_name": "Carol", "last_name": "Cole", **extra},
    )


def mailed_link(django_capture_on_commit_callbacks, action) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        action()
    for delivery_id in notification_services.deliveries_sweep():
        notification_services.delivery_send(delivery_id=delivery_id)
    (message,) = mail.outbox
    return re.search(r"https?://\S+/organization/invitations/\S+/", message.body)[0]


def test_admin_invites_colleague_who_sets_password_and_opens_tickets(
    admin, admin_client, django_capture_on_commit_callbacks
):
    link = mailed_link(
        django_capture_on_commit_callbacks,
        lambda: invite(admin_client, technical_contact="on"),
    )
    assert "Acme Corp" in mail.outbox[0].subject
    path = link.split("://", 1)[1].split("/", 1)[1]

    visitor = Client()
    assert visitor.get(f"/{path}").status_code == 200
    response = visitor.post(
        f"/{path}", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert visitor.get("/tickets/new/").status_code == 200  # signed in, technical
    carol = User.objects.get(email="carol@acme.example.com")
    assert carol.is_active
    assert carol.contact.organization == admin.organization
    # The link works once.
    assert Client().get(f"/{path}").status_code == 404
    actions = set(
        OrganizationAuditEntry.objects.filter(
            organization=admin.organization
        ).values_list("action", flat=True)
    )
    assert actions == {"invited", "invitation_accepted"}


def test_invitation_link_expires_and_forged_links_fail(
    admin, admin_client, django_capture_on_commit_callbacks
):
    link = mailed_link(django_capture_on_commit_callbacks, lambda: invite(admin_client))
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    with mock.patch("time.time", return_value=time.time() + 8 * 86400):
        assert Client().get(path).status_code == 404
    assert Client().get(path.replace(":", ";", 1)).status_code == 404
    invitation = Invitation.objects.get()
    other = organizations.invitation_token(invitation).replace(
        f"{invitation.pk}:", f"{invitation.pk + 1}:"
    )
    assert Client().get(f"/organization/invitations/{other}/").status_code == 404


def test_mismatched_passwords_keep_the_invitation_open(admin):
    invitation = organizations.invitation_create(
        actor=admin.user,
        organization=admin.organization,
        data=organizations.InvitationInput(email="dan@acme.example.com"),
    )
    path = f"/organization/invitations/{organizations.invitation_token(invitation)}/"
    response = Client().post(path, {"password": NEW_PASSWORD, "password_again": "x"})
    assert response.status_code == 400
    assert "The two passwords differ." in response.content.decode()
    assert Client().get(path).status_code == 200


def test_only_organization_admins_manage_contacts(alice, bob, bob_client):
    assert bob_client.get("/organization/").status_code == 200  # read-only view
    page = bob_client.get("/organization/").content.decode()
    assert "Invite a colleague" not in page
    assert "alice@acme.example.com" in page  # a technical contact to ask
    assert invite(bob_client).status_code == 400
    assert not Invitation.objects.exists()
    bob_client.post(f"/organization/contacts/{alice.pk}/deactivate/")
    alice.user.refresh_from_db()
    assert alice.user.is_active


def test_admin_cannot_touch_another_organizations_contacts(admin_client, gina):
    admin_client.post(f"/organization/contacts/{gina.pk}/deactivate/")
    admin_client.post(
        f"/organization/contacts/{gina.pk}/roles/", {"organization_admin": "on"}
    )
    gina.refresh_from_db()
    gina.user.refresh_from_db()
    assert gina.user.is_active
    assert not gina.is_organization_admin
    assert not OrganizationAuditEntry.objects.exists()


def test_existing_account_is_not_invited_and_form_keeps_input(admin_client, gina):
    response = invite(admin_client, email="GINA@globex.example.com")
    assert response.status_code == 400
    page = response.content.decode()
    assert "already has an account" in page
    assert "Globex" not in page  # says nothing about whose account it is
    assert 'value="Carol"' in page


def test_technical_contact_limit_comes_from_the_tier_and_is_shown(
    admin, admin_client, bob
):
    tier = admin.organization.tier
    tier.max_technical_contacts = 1
    tier.save(update_fields=["max_technical_contacts"])
    assert (
        "up to 1 technical contact"
        in admin_client.get("/organization/").content.decode()
    )

    response = invite(admin_client, technical_contact="on")
    assert response.status_code == 400
    assert "allows 1 technical contacts" in response.content.decode()
    admin_client.post(
        f"/organization/contacts/{bob.pk}/roles/", {"technical_contact": "on"}
    )
    bob.refresh_from_db()
    assert not bob.is_technical_contact
    # Freeing the seat lets bob take it.
    admin_client.post(
        f"/organization/contacts/{admin.pk}/roles/", {"organization_admin": "on"}
    )
    admin_client.post(
        f"/organization/contacts/{bob.pk}/roles/", {"technical_contact": "on"}
    )
    bob.refresh_from_db()
    assert bob.is_technical_contact


def test_deactivated_contact_cannot_sign_in_or_use_tokens_and_tickets_stay(
    admin, admin_client, bob
):
    ticket = TicketFactory(organization=admin.organization, requester=bob.user)
    token = ApiToken.objects.create(
        user=bob.user, name="ci", prefix="abcdef0123456789", secret_hash="0" * 64
    )
    bob_session = signed_in(bob.user)
    admin_client.post(f"/organization/contacts/{bob.pk}/deactivate/")

    bob.user.refresh_from_db()
    assert not bob.user.is_active
    sign_in = Client().post(
        "/accounts/login/", {"username": bob.user.email, "password": PASSWORD}
    )
    assert sign_in.status_code == 200  # the form again, not a redirect
    assert bob_session.get("/tickets/").status_code == 302  # to the sign-in page
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert admin_client.get(f"/tickets/{ticket.number}/").status_code == 200
    entry = OrganizationAuditEntry.objects.get(action="deactivated")
    assert entry.actor == admin.user
    assert entry.subject_email == bob.user.email
    page = admin_client.get("/organization/").content.decode()
    assert "Deactivated a contact" in page
    assert "Deactivated" in page

    admin_client.post(f"/organization/contacts/{bob.pk}/reactivate/")
    bob.user.refresh_from_db()
    assert bob.user.is_active


def test_last_admin_cannot_leave_and_admins_cannot_deactivate_themselves(
    admin, admin_client
):
    admin_client.post(f"/organization/contacts/{admin.pk}/deactivate/")
    admin_client.post(f"/organization/contacts/{admin.pk}/roles/", {})
    admin.refresh_from_db()
    admin.user.refresh_from_db()
    assert admin.user.is_active
    assert admin.is_organization_admin


def test_staff_see_the_audit_trail_in_the_admin(admin, admin_client, bob):
    admin_client.post(
        f"/organization/contacts/{bob.pk}/roles/", {"technical_contact": "on"}
    )
    from tests.factories import StaffFactory

    staff = StaffFactory(is_superuser=True)
    page = signed_in(staff).get("/admin/tickets/organizationauditentry/")
    assert "Made a technical contact" in page.content.decode()


def test_deactivating_an_invited_colleague_revokes_the_link(admin, admin_client):
    invitation = organizations.invitation_create(
        actor=admin.user,
        organization=admin.organization,
        data=organizations.InvitationInput(email="erin@acme.example.com"),
    )
    contact = Contact.objects.get(user__email="erin@acme.example.com")
    assert "Invited" in admin_client.get("/organization/").content.decode()
    admin_client.post(f"/organization/contacts/{contact.pk}/deactivate/")
    path = f"/organization/invitations/{organizations.invitation_token(invitation)}/"
    assert Client().get(path).status_code == 404


def test_organization_page_query_count(
    admin, admin_client, django_assert_max_num_queries
):
    for _ in range(5):
        ContactFactory(organization=admin.organization)
    with django_assert_max_num_queries(14):
        assert admin_client.get("/organization/").status_code == 200


def test_a_deactivated_contact_can_no_longer_reply_by_email(admin, admin_client, bob):
    from notifications.inbound import inbound_process, inbound_store
    from notifications.tokens import reply_address
    from tests.notifications.builders import raw_email

    ticket = TicketFactory(organization=admin.organization, requester=bob.user)
    admin_client.post(f"/organization/contacts/{bob.pk}/deactivate/")
    message = inbound_store(
        raw=raw_email(
            sender=bob.user.email,
            to=reply_address(ticket_number=ticket.number, user_id=bob.user.pk),
            body="Still me.",
        ),
        transport="test",
    )
    inbound_process(inbound_id=message.pk)
    assert not ticket.comments.exists()


def test_invitations_are_limited_per_organisation_and_day(admin, settings):
    settings.INVITATION_LIMIT_PER_DAY = 2
    for n in range(2):
        organizations.invitation_create(
            actor=admin.user,
            organization=admin.organization,
            data=organizations.InvitationInput(email=f"new{n}@acme.example.com"),
        )
    with pytest.raises(organizations.ValidationFailed, match="last day"):
        organizations.invitation_create(
            actor=admin.user,
            organization=admin.organization,
            data=organizations.InvitationInput(email="third@acme.example.com"),
        )
    assert not User.objects.filter(email="third@acme.example.com").exists()


def test_the_policy_page_states_each_tiers_technical_contact_limit(client, db):
    from tests.factories import tier

    business = tier("business")
    business.max_technical_contacts = 7
    business.save(update_fields=["max_technical_contacts"])
    page = client.get("/support-policy/").content.decode()
    assert "Technical contacts (may open tickets)" in page
    assert "Up to 7" in page


def test_designating_invited_colleagues_cannot_pass_the_technical_limit(
    admin, admin_client
):
    """Invited as plain contacts, then made technical before they accept: each
    counts against the tier's limit like an invited technical contact."""
    tier = admin.organization.tier
    tier.max_technical_contacts = 2  # admin (alice) holds one seat
    tier.save(update_fields=["max_technical_contacts"])
    for name in ("carol", "dave"):
        assert invite(admin_client, email=f"{name}@acme.example.com").status_code == 302
    for name in ("carol", "dave"):
        contact = Contact.objects.get(user__email=f"{name}@acme.example.com")
        admin_client.post(
            f"/organization/contacts/{contact.pk}/roles/", {"technical_contact": "on"}
        )
    technical = Contact.objects.filter(
        organization=admin.organization, is_technical_contact=True
    )
    assert technical.count() == 2
    assert organizations.technical_contacts_count(admin.organization) == 2
    # Dropping the flag of an invited technical contact frees the seat.
    carol = Contact.objects.get(user__email="carol@acme.example.com")
    admin_client.post(f"/organization/contacts/{carol.pk}/roles/", {})
    assert organizations.technical_contacts_count(admin.organization) == 1


def test_a_revoked_invitee_can_be_invited_again_as_the_page_says(
    admin, admin_client, gina
):
    first = organizations.invitation_create(
        actor=admin.user,
        organization=admin.organization,
        data=organizations.InvitationInput(email="erin@acme.example.com"),
    )
    erin = Contact.objects.get(user__email="erin@acme.example.com")
    admin_client.post(f"/organization/contacts/{erin.pk}/deactivate/")
    response = admin_client.post(
        f"/organization/contacts/{erin.pk}/reactivate/", follow=True
    )
    assert "invite them again" in response.content.decode()

    response = invite(admin_client, email="Erin@acme.example.com")
    assert response.status_code == 302
    second = Invitation.objects.get(email="erin@acme.example.com", revoked_at=None)
    assert second.pk != first.pk
    old = f"/organization/invitations/{organizations.invitation_token(first)}/"
    assert Client().get(old).status_code == 404
    new = f"/organization/invitations/{organizations.invitation_token(second)}/"
    visitor = Client()
    visitor.post(new, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    erin.user.refresh_from_db()
    assert erin.user.is_active
    assert User.objects.filter(email__iexact="erin@acme.example.com").count() == 1
    # Someone who signed in once, or belongs elsewhere, is still refused.
    assert invite(admin_client, email="erin@acme.example.com").status_code == 400
    assert invite(admin_client, email=gina.user.email).status_code == 400


def test_an_expired_invitation_frees_its_seat_and_can_be_sent_again(
    admin, admin_client, settings
):
    tier = admin.organization.tier
    tier.max_technical_contacts = 2  # admin (alice) holds one seat
    tier.save(update_fields=["max_technical_contacts"])
    invite(admin_client, email="erin@acme.example.com", technical_contact="on")
    assert (
        invite(
            admin_client, email="finn@acme.example.com", technical_contact="on"
        ).status_code
        == 400
    )  # no seat left while erin's link works

    assert ">Invited</td>" in admin_client.get("/organization/").content.decode()
    expired = timezone.now() - timedelta(days=settings.INVITATION_MAX_AGE_DAYS + 1)
    Invitation.objects.filter(email="erin@acme.example.com").update(created_at=expired)
    assert organizations.technical_contacts_count(admin.organization) == 1
    assert ">Invited</td>" not in admin_client.get("/organization/").content.decode()
    response = invite(
        admin_client, email="erin@acme.example.com", technical_contact="on"
    )
    assert response.status_code == 302
    fresh = Invitation.objects.get(email="erin@acme.example.com", revoked_at=None)
    path = f"/organization/invitations/{organizations.invitation_token(fresh)}/"
    assert Client().get(path).status_code == 200
    assert organizations.technical_contacts_count(admin.organization) == 2
