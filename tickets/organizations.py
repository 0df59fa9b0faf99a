"""Organisation self-service: admins invite, deactivate and designate contacts.

Every write checks that the actor is an active admin of the organisation (or
staff), runs in one transaction, and writes its ``OrganizationAuditEntry`` in it.
A deactivated contact is a user with ``is_active=False``: Django's sign-in, the
API token authentication and the email gateway all refuse inactive users, and
their tickets stay. An invited colleague is an inactive user with an open
``Invitation``; accepting it sets the password and activates the account.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotAllowed, ValidationFailed

from . import events
from .cache import organization_changed
from .customer_models import Invitation, OrganizationAction, OrganizationAuditEntry
from .models import Contact, Organization

INVITATION_SALT = "tickets.invitation"


def invitation_max_age() -> int:
    """Seconds an invitation link stays valid (``INVITATION_MAX_AGE_DAYS``)."""
    return int(settings.INVITATION_MAX_AGE_DAYS) * 24 * 3600


# --- reads ------------------------------------------------------------------------


def organization_contacts(organization: Organization) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email")
    )


def organization_audit(
    organization: Organization, *, limit: int = 50
) -> QuerySet[OrganizationAuditEntry]:
    return OrganizationAuditEntry.objects.filter(
        organization=organization
    ).select_related("actor")[:limit]


def open_invitation_ids(organization: Organization) -> set[str]:
    """Lower-cased addresses invited, not yet accepted, whose link still works
    (shown as "invited"; an expired one shows as deactivated: invite again)."""
    return {
        email.lower()
        for email in _live_invitations(organization).values_list("email", flat=True)
    }


def _live_invitations(organization: Organization) -> QuerySet[Invitation]:
    """Open invitations whose link still works: an expired one holds no seat."""
    return Invitation.objects.filter(
        organization=organization,
        accepted_at=None,
        revoked_at=None,
        created_at__gte=timezone.now() - timedelta(seconds=invitation_max_age()),
    )


def technical_contacts_count(organization: Organization) -> int:
    """Technical contacts counted against the tier's limit: active or invited.

    An invited colleague's account is inactive until they accept, so the open
    invitations are counted instead of their (inactive) contacts.
    """
    open_invitation = _live_invitations(organization).filter(
        email__iexact=OuterRef("user__email")
    )
    # The contact's own flag counts, not the invitation's: an admin may designate
    # an invited colleague (or drop one) before they accept.
    return (
        Contact.objects.filter(organization=organization, is_technical_contact=True)
        .filter(Q(user__is_active=True) | Exists(open_invitation))
        .count()
    )


def technical_contacts_who_can_open(organization: Organization) -> list[User]:
    """The organisation's active technical contacts, for "ask them" hints."""
    return list(
        User.objects.filter(
            contact__organization=organization,
            contact__is_technical_contact=True,
            is_active=True,
        ).order_by("first_name", "last_name", "email")
    )


def organization_admins(organization: Organization) -> list[User]:
    return list(
        User.objects.filter(
            contact__organization=organization,
            contact__is_organization_admin=True,
            is_active=True,
        ).order_by("first_name", "last_name", "email")
    )


def who_can_open_tickets(contact: Contact | None) -> dict[str, list[User]]:
    """For a contact who may not open tickets: who in their organisation can
    (its technical contacts), or who decides that (its admins)."""
    if contact is None or contact.is_technical_contact:
        return {}
    return {
        "openers": technical_contacts_who_can_open(contact.organization),
        "organization_admins": organization_admins(contact.organization),
    }


# --- writes -----------------------------------------------------------------------


def _require_admin(actor: User, organization: Organization) -> None:
    if actor.is_staff and actor.is_active:
        return
    contact = getattr(actor, "contact", None)
    if not (
        actor.is_active
        and contact is not None
        and contact.organization_id == organization.pk
        and contact.is_organization_admin
    ):
        raise NotAllowed(_("Only your organisation's admins can manage contacts."))


def _lock_people(actor: User, organization: Organization) -> None:
    """Lock the organisation's people, then check the actor again as they are now:
    an admin demoted or deactivated by a change that committed while this request
    waited for the lock can no longer act."""
    Organization.objects.select_for_update().get(pk=organization.pk)
    _require_admin(
        User.objects.select_related("contact").get(pk=actor.pk), organization
    )


def _audit(
    organization: Organization, actor: User | None, action: str, email: str
) -> None:
    OrganizationAuditEntry.objects.create(
        organization=organization, actor=actor, action=action, subject_email=email
    )
    # Cached pages list the organisation's people (a ticket's colleagues).
    organization_changed(organization.pk)


def _check_technical_room(organization: Organization) -> None:
    limit = organization.tier.max_technical_contacts
    if limit is not None and technical_contacts_count(organization) >= limit:
        raise ValidationFailed(
            _(
                "Your %(tier)s plan allows %(limit)s technical contacts, and you have "
                "that many (counting open invitations). Remove one first."
            )
            % {"tier": organization.tier.name, "limit": limit},
            field="technical_contact",
        )


@dataclass(frozen=True)
class InvitationInput:
    email: str
    first_name: str = ""
    last_name: str = ""
    technical_contact: bool = False


def invitation_token(invitation: Invitation) -> str:
    return signing.TimestampSigner(salt=INVITATION_SALT).sign(str(invitation.pk))


def invitation_from_token(token: str) -> Invitation | None:
    """The open invitation the signed token names, or None if forged or expired."""
    try:
        pk = signing.TimestampSigner(salt=INVITATION_SALT).unsign(
            token, max_age=invitation_max_age()
        )
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=int(pk), accepted_at=None, revoked_at=None)
        .first()
    )


def _never_joined(user: User, organization: Organization) -> bool:
    """An earlier invitee of this organisation whose invitation was revoked
    before they accepted: inactive, no password. Inviting them again is how the
    page says to bring them back."""
    contact = getattr(user, "contact", None)
    return (
        not user.is_active
        and not user.has_usable_password()
        and contact is not None
        and contact.organization_id == organization.pk
    )


def _invitee(
    organization: Organization,
    existing: User | None,
    email: str,
    data: InvitationInput,
) -> User:
    """The inactive account an invitation is for: new, or the earlier invitee's."""
    names = {
        "first_name": data.first_name.strip()[:150],
        "last_name": data.last_name.strip()[:150],
    }
    if existing is not None:
        for field, value in names.items():
            setattr(existing, field, value or getattr(existing, field))
        existing.save(update_fields=list(names))
        Contact.objects.filter(user=existing).update(
            is_technical_contact=data.technical_contact
        )
        return existing
    user = User.objects.create_user(
        email=email, password=None, is_active=False, **names
    )
    Contact.objects.create(
        user=user,
        organization=organization,
        is_technical_contact=data.technical_contact,
    )
    return user


def _check_invitable(
    organization: Organization,
    existing: User | None,
    email: str,
    data: InvitationInput,
) -> None:
    """Refuse an address with an account, a day's quota used, a full liaison team."""
    if existing is not None and not _never_joined(existing, organization):
        raise ValidationFailed(
            _(
                "%(email)s already has an account. If they should join your "
                "organisation, ask Scalr support."
            )
            % {"email": email},
            field="email",
        )
    since = timezone.now() - timedelta(days=1)
    sent = Invitation.objects.filter(organization=organization, created_at__gte=since)
    if sent.count() >= settings.INVITATION_LIMIT_PER_DAY:
        raise ValidationFailed(
            _(
                "Your organisation sent %(n)s invitations in the last day, the "
                "most allowed. Try again tomorrow or ask Scalr support."
            )
            % {"n": settings.INVITATION_LIMIT_PER_DAY},
            field="email",
        )
    if data.technical_contact:
        _check_technical_room(organization)


def invitation_create(
    *, actor: User, organization: Organization, data: InvitationInput
) -> Invitation:
    """Invite a colleague: an inactive account, an invitation row, and its email.

    At most ``INVITATION_LIMIT_PER_DAY`` invitations per organisation a day (the
    portal must not become a way to send mail to anyone).

    Side effect: one ``invitation`` delivery (event key ``invitation:<id>``) sent
    after commit. An address that already has an account is refused without
    saying whose it is.
    """
    _require_admin(actor, organization)
    email = User.objects.normalize_email(data.email.strip()).lower()
    if not email:
        raise ValidationFailed(_("Enter the colleague's email address."), field="email")
    with transaction.atomic():
        _lock_people(actor, organization)
        existing = User.objects.filter(email__iexact=email).first()
        _check_invitable(organization, existing, email, data)
        if existing is not None:  # invited before: an expired link gives way
            Invitation.objects.filter(
                organization=organization,
                email__iexact=email,
                accepted_at=None,
                revoked_at=None,
            ).exclude(pk__in=_live_invitations(organization)).update(
                revoked_at=timezone.now()
            )
        user = _invitee(organization, existing, email, data)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    organization=organization,
                    email=email,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    technical_contact=data.technical_contact,
                    invited_by=actor,
                )
        except IntegrityError:
            raise ValidationFailed(
                _("%(email)s is already invited.") % {"email": email}, field="email"
            ) from None
        _audit(organization, actor, OrganizationAction.INVITED, email)
        events.publish(
            events.InvitationCreated(
                invitation=invitation,
                user=user,
                organization=organization,
                actor=actor,
            )
        )
    return invitation


def invitation_accept(*, invitation: Invitation, password: str) -> User:
    """Set the invitee's password and activate them; once only (row lock)."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_open:
            raise ValidationFailed(_("This invitation was already used or revoked."))
        user = User.objects.get(email__iexact=locked.email)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(" ".join(error.messages), field="password") from None
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        _audit(
            locked.organization,
            user,
            OrganizationAction.INVITATION_ACCEPTED,
            user.email,
        )
    return user


def _locked_contact(organization: Organization, contact_id: int) -> Contact:
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(organization=organization, pk=contact_id)
        .first()
    )
    if contact is None:
        raise ValidationFailed(_("No such contact in your organisation."))
    return contact


def _other_admins(organization: Organization, contact: Contact) -> bool:
    return (
        Contact.objects.filter(
            organization=organization, is_organization_admin=True, user__is_active=True
        )
        .exclude(pk=contact.pk)
        .exists()
    )


def contact_active_set(
    *, actor: User, organization: Organization, contact_id: int, active: bool
) -> Contact:
    """Deactivate (or reactivate) a contact; their tickets stay.

    Deactivating revokes an open invitation too. A contact cannot deactivate
    themselves, and the last organisation admin cannot be deactivated.
    """
    _require_admin(actor, organization)
    with transaction.atomic():
        # One change to the organisation's people at a time, as the other writes
        # do: two admins deactivating each other at once must not leave none, and
        # two reactivations must not pass the technical-contact limit together.
        _lock_people(actor, organization)
        contact = _locked_contact(organization, contact_id)
        user = contact.user
        if not active and not user.is_active:
            revoked = Invitation.objects.filter(
                organization=organization,
                email__iexact=user.email,
                accepted_at=None,
                revoked_at=None,
            ).update(revoked_at=timezone.now())
            if revoked:
                _audit(
                    organization,
                    actor,
                    OrganizationAction.INVITATION_REVOKED,
                    user.email,
                )
            return contact
        if user.is_active == active:
            return contact
        if not active:
            if user.pk == actor.pk:
                raise NotAllowed(_("You cannot deactivate yourself."))
            if contact.is_organization_admin and not _other_admins(
                organization, contact
            ):
                raise NotAllowed(_("Your organisation needs at least one admin."))
        elif not user.has_usable_password():
            raise ValidationFailed(
                _("%(email)s never accepted the invitation: invite them again.")
                % {"email": user.email}
            )
        elif contact.is_technical_contact:
            _check_technical_room(organization)
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            user.api_tokens.filter(revoked_at=None).update(revoked_at=timezone.now())
        action = (
            OrganizationAction.REACTIVATED if active else OrganizationAction.DEACTIVATED
        )
        _audit(organization, actor, action, user.email)
    return contact


def contact_roles_set(
    *,
    actor: User,
    organization: Organization,
    contact_id: int,
    technical_contact: bool | None = None,
    organization_admin: bool | None = None,
) -> Contact:
    """Designate or remove a technical contact or an organisation admin, audited."""
    _require_admin(actor, organization)
    with transaction.atomic():
        _lock_people(actor, organization)
        contact = _locked_contact(organization, contact_id)
        fields = []
        if (
            technical_contact is not None
            and technical_contact != contact.is_technical_contact
        ):
            if technical_contact:
                _check_technical_room(organization)
            contact.is_technical_contact = technical_contact
            fields.append("is_technical_contact")
            _audit(
                organization,
                actor,
                OrganizationAction.TECHNICAL_GRANTED
                if technical_contact
                else OrganizationAction.TECHNICAL_REVOKED,
                contact.user.email,
            )
        if (
            organization_admin is not None
            and organization_admin != contact.is_organization_admin
        ):
            if not organization_admin and not _other_admins(organization, contact):
                raise NotAllowed(_("Your organisation needs at least one admin."))
            contact.is_organization_admin = organization_admin
            fields.append("is_organization_admin")
            _audit(
                organization,
                actor,
                OrganizationAction.ADMIN_GRANTED
                if organization_admin
                else OrganizationAction.ADMIN_REVOKED,
                contact.user.email,
            )
        if fields:
            contact.save(update_fields=fields)
    return contact


def invitation_email_context(invitation_id: int | None) -> dict[str, object]:
    """The accept link of an invitation email, signed when the mail is built."""
    from django.urls import reverse

    invitation = Invitation.objects.filter(pk=invitation_id or 0).first()
    url = ""
    if invitation is not None:
        path = reverse("organization:invitation", args=[invitation_token(invitation)])
        url = settings.SITE_URL + path
    return {"accept_url": url, "invitation_days": invitation_max_age() // 86400}
