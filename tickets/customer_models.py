"""What customers run themselves: invitations, the organisation's audit trail,
colleagues following a ticket, and satisfaction ratings of solved tickets.

Imported by ``tickets.models`` so that they belong to the tickets app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OrganizationAction(models.TextChoices):
    INVITED = "invited", _("Invited a colleague")
    INVITATION_ACCEPTED = "invitation_accepted", _("Accepted an invitation")
    INVITATION_REVOKED = "invitation_revoked", _("Revoked an invitation")
    DEACTIVATED = "deactivated", _("Deactivated a contact")
    REACTIVATED = "reactivated", _("Reactivated a contact")
    TECHNICAL_GRANTED = "technical_granted", _("Made a technical contact")
    TECHNICAL_REVOKED = "technical_revoked", _("Removed as technical contact")
    ADMIN_GRANTED = "admin_granted", _("Made an organisation admin")
    ADMIN_REVOKED = "admin_revoked", _("Removed as organisation admin")


class OrganizationAuditEntry(models.Model):
    """One change an organisation's admins (or staff) made to its contacts.

    Written by ``tickets.organizations`` in the transaction of the change; shown to
    the organisation's admins on their page and to staff in the admin.
    """

    organization = models.ForeignKey(
        "tickets.Organization", on_delete=models.CASCADE, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    action = models.CharField(max_length=30, choices=OrganizationAction.choices)
    subject_email = models.EmailField(help_text=_("Whom the change was about."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = _("organisation audit entries")
        indexes = [
            models.Index(
                fields=["organization", "-created_at"], name="org_audit_recent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject_email}"


class Invitation(models.Model):
    """An organisation admin asked a colleague to join; accepted once, by its link.

    The emailed link carries this row's id signed with a timestamp
    (``django.core.signing``), so it expires; ``accepted_at`` makes it single-use.
    """

    organization = models.ForeignKey(
        "tickets.Organization", on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    technical_contact = models.BooleanField(default=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            # One live invitation per address and organisation.
            models.UniqueConstraint(
                "organization",
                models.functions.Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization_id}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class TicketFollower(models.Model):
    """A colleague copied on a ticket (CC): hears about it and may reply by email."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="followers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="follow_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.ticket_id}"


class Rating(models.TextChoices):
    GOOD = "good", _("Good, I'm satisfied")
    BAD = "bad", _("Bad, I'm unsatisfied")


class SatisfactionRating(models.Model):
    """The requester's verdict on one solve of a ticket.

    ``solved_at`` names the solve: a ticket reopened and solved again may be rated
    again, but each solve once (the unique constraint).
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="ratings"
    )
    solved_at = models.DateTimeField()
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "solved_at"], name="one_rating_per_solve"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.rating}"
