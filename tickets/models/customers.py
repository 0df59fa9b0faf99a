"""Customers: support tiers, organisations and their contacts."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import Deployment, Priority


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA timezone."), params={"value": value}
        )


class SupportTier(models.Model):
    """A support plan and what it entitles an organisation to.

    Code asks the tier what it allows; it never compares a tier's name.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)
    response_summary = models.CharField(
        max_length=100, help_text=_("e.g. 'Priority based - 24x7' or 'Best efforts'.")
    )
    guaranteed_response = models.BooleanField(
        default=False,
        help_text=_("Whether response targets are commitments (else best effort)."),
    )
    realtime_sessions = models.BooleanField(
        default=False, help_text=_("Real-time video sessions when support asks.")
    )
    realtime_max_priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        default=Priority.MINOR,
        help_text=_(
            "Real-time sessions are offered for this priority and more urgent."
        ),
    )
    community_slack = models.BooleanField(
        default=False, help_text=_("Access to the Scalr community Slack channel.")
    )
    max_technical_contacts = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "How many technical contacts an organisation on this tier may name "
            "(empty: no limit)."
        ),
    )

    class Meta:
        ordering = ("position", "name")

    def __str__(self) -> str:
        return self.name

    def allows_realtime_session(self, priority: int) -> bool:
        return self.realtime_sessions and priority <= self.realtime_max_priority


class Organization(models.Model):
    """A customer account."""

    name = models.CharField(max_length=200, unique=True)
    tier = models.ForeignKey(SupportTier, on_delete=models.PROTECT, related_name="+")
    deployment = models.CharField(
        max_length=10, choices=Deployment.choices, default=Deployment.SAAS
    )
    scalr_version = models.CharField(max_length=40, blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    business_calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Working hours for business-hours targets; empty uses the default "
            "calendar. Applies to response clocks started after the change."
        ),
    )
    prefers_own_conferencing = models.BooleanField(
        _("prefers its own video conferencing"),
        default=False,
        help_text=_(
            "Real-time sessions use the organisation's own conferencing system "
            "instead of Zoom."
        ),
    )
    conferencing_link = models.CharField(
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["https", "http"])],
        help_text=_("The organisation's own meeting link, if it has a standing one."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A user's membership of one customer organisation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    is_technical_contact = models.BooleanField(
        _("technical contact"),
        default=False,
        help_text=_(
            "Technical contacts are the liaisons with Scalr and may open tickets."
        ),
    )
    is_organization_admin = models.BooleanField(
        _("organisation admin"),
        default=False,
        help_text=_(
            "Organisation admins invite and deactivate colleagues and choose the "
            "technical contacts."
        ),
    )
    training_completed = models.BooleanField(
        _("introductory training completed"), default=False
    )
    notify_organization_tickets = models.BooleanField(
        default=True,
        help_text=_("Email about the organisation's tickets, not only one's own."),
    )
    maintenance_reminders = models.BooleanField(
        default=False,
        help_text=_("Email the day before each maintenance window."),
    )

    class Meta:
        ordering = ("organization", "user__email")

    def __str__(self) -> str:
        return f"{self.user} ({self.organization})"
