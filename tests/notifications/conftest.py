"""Fixtures shared by the email channel's tests."""

import base64

import pytest

WEBHOOK_SECRET = "inbound:s3cret-webhook-pass"


@pytest.fixture
def webhook_auth(settings):
    """The ESP webhooks' basic auth, set; returns the Authorization header value."""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    return "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode()
