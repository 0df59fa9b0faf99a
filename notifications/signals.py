"""Inbound webhooks: anymail parses each ESP's format; we store the raw message."""

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.dispatch import receiver

from .inbound import inbound_store


@receiver(inbound, dispatch_uid="notifications.store_inbound")
def store_inbound(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """Store before answering: an exception here makes the ESP retry later."""
    message = event.message
    if message is None:
        return
    inbound_store(
        raw=message.as_bytes(),
        transport=f"webhook:{esp_name.lower()}",
        envelope_from=message.envelope_sender or "",
        envelope_to=[message.envelope_recipient] if message.envelope_recipient else [],
    )
