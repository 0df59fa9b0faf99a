"""Email deliveries (the outbox) and inbound messages (stored before answering)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")


class Event(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("Ticket created")
    SUPPORT_REPLIED = "support_replied", _("Support replied")
    CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    TICKET_SOLVED = "ticket_solved", _("Ticket solved")
    TICKET_CLOSED = "ticket_closed", _("Ticket closed")
    SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    MAINTENANCE_REMINDER = "maintenance_reminder", _("Maintenance tomorrow")
    PASSWORD_RESET = "password_reset", _("Password reset")
    INVITATION = "invitation", _("Invitation to the portal")
    FOLLOWER_ADDED = "follower_added", _("Added to a ticket")


class EmailDelivery(models.Model):
    """One email to one person about one event: the transactional outbox.

    Written in the same transaction as the change that causes it, then sent by a
    task that claims it. ``(event_key, recipient)`` is unique, so an event mails each
    person at most once.
    """

    event = models.CharField(max_length=40, choices=Event.choices)
    event_key = models.CharField(max_length=120)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    to_address = models.EmailField()
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_deliveries",
    )
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When a sweep last queued it; the sweep does not queue it again before
    # SWEEP_REQUEUE_AFTER_SECONDS (a backlog would otherwise be queued every run).
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("email deliveries")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient"],
                name="one_delivery_per_event_recipient",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → user {self.recipient_id} ({self.status})"


class FailingAddress(models.Model):
    """An address that bounced; no more mail goes to it until support clears it."""

    address = models.EmailField(unique=True)
    reason = models.TextField(blank=True)
    bounced_at = models.DateTimeField()

    class Meta:
        ordering = ("-bounced_at",)
        verbose_name_plural = _("failing addresses")

    def __str__(self) -> str:
        return f"failing address #{self.pk}"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (auto-reply, bounce or duplicate)")
    QUARANTINED = "quarantined", _("Quarantined")
    PARKED = "parked", _("Parked after repeated failures")
    DISCARDED = "discarded", _("Discarded by support")


class InboundReason(models.TextChoices):
    """Why a message did not become a comment or ticket (see docs/email.md)."""

    DMARC_FAIL = "dmarc_fail", _("DMARC failed for the From: domain")
    SPF_FAIL = "spf_fail", _("SPF failed for the envelope sender")
    ENVELOPE_MISMATCH = "envelope_mismatch", _("Envelope sender differs from From:")
    SENDER_UNVERIFIED = "sender_unverified", _("No evidence that From: is genuine")
    STAFF_WITHOUT_TOKEN = "staff_without_token", _("Support staff without reply token")
    INVALID_TOKEN = "invalid_token", _("Invalid or tampered reply token")
    TOKEN_ACCOUNT_GONE = "token_account_gone", _("Reply token names a closed account")
    NOT_TOKEN_RECIPIENT = "not_token_recipient", _("Sender is not the token holder")
    TICKET_NOT_VISIBLE = "ticket_not_visible", _("Sender may not see that ticket")
    UNKNOWN_SENDER = "unknown_sender", _("Sender is not a contact or engineer")
    NOT_TECHNICAL_CONTACT = "not_technical_contact", _("Not a technical contact")
    EMPTY = "empty", _("No new text and no attachments")
    RATE_LIMITED = "rate_limited", _("Too many messages from the sender")
    REFUSED = "refused", _("Refused by a ticket rule")
    PROCESSING_FAILED = "processing_failed", _("Processing kept failing")


class InboundMessage(models.Model):
    """A raw inbound email, stored before the sender is told it arrived."""

    raw = models.BinaryField()
    raw_sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    transport = models.CharField(max_length=30)
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.TextField(blank=True)
    reason_code = models.CharField(
        max_length=30, choices=InboundReason.choices, blank=True
    )
    # What the ESP's webhook said of the sender ({"spf": "fail", "dmarc": "pass"}),
    # kept at storage time: the payload is not stored, only the message.
    authentication = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)  # "ValueError: ..." of the last try
    queued_at = models.DateTimeField(null=True, blank=True)  # by the sweep, as above
    message_id = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.ForeignKey(
        "tickets.Comment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at",)
        indexes = [
            models.Index(
                fields=["received_at"],
                name="inbound_unprocessed",
                condition=Q(status="received"),
            ),
            models.Index(fields=["from_address", "received_at"], name="inbound_sender"),
            # The sender rate limit matches addresses case-insensitively (iexact).
            models.Index(
                Upper("from_address"), "received_at", name="inbound_sender_ci"
            ),
        ]

    def __str__(self) -> str:
        return f"inbound #{self.pk} ({self.status})"


class InboundAction(models.TextChoices):
    REPROCESS = "reprocess", _("Processed again")
    RELEASE = "release", _("Released")
    DISCARD = "discard", _("Discarded")


class InboundDecision(models.Model):
    """Support's decision on a set-aside message: the audit row of the admin actions.

    A message is released or discarded at most once (``one_final_decision``), so a
    double click or two operators at once cannot make two comments.
    """

    inbound = models.ForeignKey(
        InboundMessage, on_delete=models.CASCADE, related_name="decisions"
    )
    action = models.CharField(max_length=12, choices=InboundAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["inbound"],
                condition=Q(action__in=["release", "discard"]),
                name="one_final_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} inbound #{self.inbound_id}"
