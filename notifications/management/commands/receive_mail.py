"""SMTP server for inbound mail, for on-prem MTAs to relay to."""

import asyncio
import logging
import signal
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from notifications.inbound import MessageTooLarge, inbound_store

logger = logging.getLogger(__name__)


def _store(**kwargs: Any) -> Any:
    """Store on a long-lived thread: drop connections the database has closed."""
    close_old_connections()
    return inbound_store(**kwargs)


class StoreHandler:
    """Answer 250 only after the raw message is in the database."""

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            message = await sync_to_async(_store, thread_sensitive=True)(
                raw=raw,
                transport="smtp",
                envelope_from=envelope.mail_from or "",
                envelope_to=list(envelope.rcpt_tos),
            )
        except MessageTooLarge:
            return "552 5.3.4 Message too big for system"
        except DatabaseError:
            logger.exception("could not store inbound message")
            return "451 4.3.0 Temporary failure, try again later"
        return f"250 2.0.0 OK stored as {message.pk}"


class Command(BaseCommand):
    help = "Run the SMTP server that stores inbound mail (answers 250 once stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args: Any, **options: Any) -> None:
        controller = Controller(
            StoreHandler(),
            hostname=options["host"],
            port=options["port"],
            server_hostname=settings.SUPPORT_EMAIL_DOMAIN,
            data_size_limit=settings.INBOUND_EMAIL_MAX_BYTES,
            decode_data=False,
        )
        controller.start()
        self.stdout.write(f"Receiving mail on {options['host']}:{options['port']}")
        stop = asyncio.Event()
        loop = asyncio.new_event_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            loop.run_until_complete(stop.wait())
        finally:
            controller.stop()
            loop.close()
