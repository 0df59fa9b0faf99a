"""Real-time sessions support offers on a ticket."""

from django.conf import settings
from django.db import models

from ..choices import ConferencingProvider, SessionStatus
from .thread import Comment
from .ticket import Ticket


class SupportSession(models.Model):
    """A real-time video session support asked for on a ticket.

    Offered by support only (Business tier, P0-P3) as a public reply (``comment``)
    that carries it in the thread; the customer accepts it or proposes another
    time from the portal.
    """

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="sessions"
    )
    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, related_name="session"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.CharField(max_length=10, choices=ConferencingProvider.choices)
    link = models.URLField(max_length=500)
    proposed_at = models.DateTimeField()
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.PROPOSED
    )
    customer_proposed_at = models.DateTimeField(null=True, blank=True)
    customer_note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="session_ticket")]

    def __str__(self) -> str:
        return f"session on #{self.ticket.number} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != SessionStatus.ACCEPTED
