"""Error reports to Sentry, only when ``SENTRY_DSN`` is set, and never an address."""

import re
from typing import Any

EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REDACTED = "[address]"


def _scrub(value: Any) -> Any:
    """Return ``value`` with every email address in its strings replaced."""
    if isinstance(value, str):
        return EMAIL_ADDRESS.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's ``before_send``: drop email addresses from everything in the event.

    Exception messages and local variables carry senders and recipients (an
    inbound message's From:, a delivery's address); ``send_default_pii=False``
    leaves those alone, as it only withholds users, cookies and headers.
    """
    scrubbed: dict[str, Any] = _scrub(event)
    return scrubbed


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    """Start the Sentry SDK with its Django and Celery integrations; skip without a DSN.

    Returns whether it was started. Called once from the settings, so the web
    processes, the worker and beat all report.
    """
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
