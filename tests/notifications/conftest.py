"""Fixtures shared by the email channel's tests."""

import base64

import pytest
from aiosmtpd.controller import Controller

from notifications.management.commands.receive_mail import StoreHandler
from tests.notifications.builders import free_port

WEBHOOK_SECRET = "inbound:s3cret-webhook-pass"


@pytest.fixture
def webhook_auth(settings):
    """The ESP webhooks' basic auth, set; returns the Authorization header value."""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    return "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode()


@pytest.fixture
def smtp_server(settings):
    """The real receiver (``receive_mail``'s handler) on a free loopback port."""
    port = free_port()
    controller = Controller(
        StoreHandler(),
        hostname="127.0.0.1",
        port=port,
        data_size_limit=settings.INBOUND_EMAIL_MAX_BYTES,
    )
    controller.start()
    yield port
    controller.stop()
