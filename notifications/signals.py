"""ESP webhooks: anymail parses each ESP's format; we store inbound mail as sent and
mark the addresses our mail bounced from."""

from contextvars import ContextVar
from typing import Any

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.dispatch import receiver

from .esp_messages import original_message, reported_authentication
from .inbound import inbound_store
from .services import esp_delivery_event_record

# Set once a webhook's payload was read and its message is being stored: from then
# on an exception means "try again later" (5xx), before it "unreadable" (400).
STORING: ContextVar[bool] = ContextVar("inbound_storing", default=False)


@receiver(inbound, dispatch_uid="notifications.store_inbound")
def store_inbound(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """Store before answering: a database error here makes the ESP retry later.

    The ESP's own copy of the message is stored when its payload has one;
    anymail's re-serialised message only when it does not. The envelope sender
    is the one the ESP reports (Postmark's Return-Path, Mailgun's ``sender``,
    SendGrid's envelope, SES's ``mail.source``), with the ESP's own verdicts.
    """
    message = event.message
    if message is None:
        return
    raw = original_message(esp_name, event.esp_event) or message.as_bytes()
    authentication = reported_authentication(esp_name, event.esp_event, message)
    STORING.set(True)
    inbound_store(
        raw=raw,
        transport=f"webhook:{esp_name.lower()}",
        envelope_from=message.envelope_sender or "",
        envelope_to=[message.envelope_recipient] if message.envelope_recipient else [],
        authentication=authentication,
    )


@receiver(tracking, dispatch_uid="notifications.record_failing_address")
def record_failing_address(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """An ESP's report on our mail: a bounce or complaint stops mail to the address."""
    esp_delivery_event_record(
        esp=esp_name,
        event_type=str(event.event_type or ""),
        recipient=event.recipient or "",
        # The receiving server's words say more than the event type repeated.
        detail=str(event.mta_response or event.description or "")[:500],
    )
