"""The webhook routes are anymail's, loaded only when an ESP calls."""

import pytest
from anymail import urls as anymail_urls
from django.test import Client
from django.urls import URLPattern

from notifications.models import InboundMessage
from notifications.webhooks import WEBHOOK_VIEWS
from tests.processes import run_python


def test_the_routes_are_anymails_webhook_routes():
    """An anymail upgrade that adds, renames or moves a webhook view fails here."""
    theirs = {
        pattern.name: (
            str(pattern.pattern),
            pattern.pattern.regex.pattern == str(pattern.pattern),
            f"{pattern.callback.view_class.__module__}."
            f"{pattern.callback.view_class.__name__}",
        )
        for pattern in anymail_urls.urlpatterns
        if isinstance(pattern, URLPattern)
        # anymail's legacy "mandrill/" alias of "mandrill/tracking/" is left out.
        and pattern.name.endswith(("_inbound_webhook", "_tracking_webhook"))
    }

    assert theirs == WEBHOOK_VIEWS


def test_linking_to_a_ticket_loads_no_esp_sdk():
    """A worker renders ticket links; that must not import boto3 (about 25 MiB)."""
    script = (
        "import sys, django; django.setup()\n"
        "from django.urls import reverse\n"
        "reverse('tickets:detail', args=[1])\n"
        "reverse('anymail:amazon_ses_inbound_webhook')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'boto3'"
        " or m.startswith('anymail.webhooks.'))\n"
        "print(loaded)\n"
    )
    result = run_python(
        script, {"DJANGO_SETTINGS_MODULE": "scalr_support.settings.test"}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "detail"),
    [(b"", "empty"), (b"{not json", "not valid JSON")],
)
@pytest.mark.parametrize("kind", ["inbound", "tracking"])
def test_an_unreadable_payload_is_a_clear_400(settings, kind, body, detail):
    """Without a webhook secret (local settings), parsing is the first check."""
    settings.ANYMAIL = {
        k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"
    }

    response = Client().post(
        f"/anymail/postmark/{kind}/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert not InboundMessage.objects.exists()
