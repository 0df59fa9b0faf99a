"""Sentry starts only with SENTRY_DSN, withholds PII and scrubs email addresses."""

import json
import subprocess
import sys

from django.conf import settings

from scalr_support.observability.sentry import scrub_event, sentry_init

REPORT = """
import json
import django
django.setup()
from django.conf import settings
import sentry_sdk
client = sentry_sdk.get_client()
options = client.options if client.is_active() else {}
print(json.dumps({
    "enabled": settings.SENTRY_ENABLED,
    "active": client.is_active(),
    "environment": options.get("environment"),
    "send_default_pii": options.get("send_default_pii"),
    "traces_sample_rate": options.get("traces_sample_rate"),
    "before_send": getattr(options.get("before_send"), "__name__", None),
    "integrations": sorted(getattr(client, "integrations", {})),
}))
"""


def _settings_with(env: dict[str, str]) -> dict:
    """Load the test settings in a fresh interpreter with ``env`` and report Sentry."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", REPORT],
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "scalr_support.settings.test",
            **env,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_dsn_sentry_is_not_started():
    report = _settings_with({})

    assert report["enabled"] is False
    assert report["active"] is False


def test_with_a_dsn_sentry_starts_with_django_and_celery_and_no_pii():
    report = _settings_with(
        {
            # Nothing listens on port 9 (discard): nothing is ever delivered.
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
            "SENTRY_ENVIRONMENT": "staging",
        }
    )

    assert report == {
        "enabled": True,
        "active": True,
        "environment": "staging",
        "send_default_pii": False,
        "traces_sample_rate": 0.0,
        "before_send": "scrub_event",
        "integrations": report["integrations"],
    }
    assert {"django", "celery"} <= set(report["integrations"])


def test_the_sample_rate_comes_from_the_environment():
    report = _settings_with(
        {
            "SENTRY_DSN": "http://public@127.0.0.1:9/1",
            "SENTRY_TRACES_SAMPLE_RATE": "0.25",
        }
    )

    assert report["traces_sample_rate"] == 0.25


def test_sentry_init_skips_an_empty_dsn():
    assert sentry_init(dsn="", environment="", traces_sample_rate=0.0) is False


def test_events_lose_every_email_address():
    event = {
        "message": "delivery to alice@acme.example.com failed",
        "exception": {
            "values": [
                {
                    "value": "550 <Bob.Smith+tag@mail.example.org> unknown",
                    "stacktrace": {
                        "frames": [{"vars": {"to": "'carol@example.net'", "n": 3}}]
                    },
                }
            ]
        },
        "extra": {"recipients": ["dave@example.com", "no address here"]},
    }

    scrubbed = json.dumps(scrub_event(event, {}))

    assert "@" not in scrubbed
    assert "[address]" in scrubbed
    assert "no address here" in scrubbed
    assert '"n": 3' in scrubbed
