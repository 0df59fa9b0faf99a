"""ESP inbound webhooks: anymail's views, routed so that misconfiguration is not a 500.

anymail serves every ESP it supports; one that this installation has not configured
(no signing key, SDK not installed) raises on each request. Such a request gets a
clear 503 that tells the ESP to retry, and the operator a log line, instead of a
server error. Tracking webhooks are not routed: delivery events are not used.

Each view is imported on its first request rather than through ``anymail.urls``,
which imports every ESP's module: Amazon SES's imports boto3 (about 25 MiB and a
quarter of a second per process), and every process that loads the URLconf to
link to a ticket, Celery workers included, would pay for it.
``tests/notifications/test_webhook_routes.py`` keeps this table equal to anymail's.
"""

import logging
from collections.abc import Callable
from typing import Any

from anymail.exceptions import AnymailConfigurationError, AnymailImproperlyInstalled
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    ImproperlyConfigured,
    AnymailConfigurationError,
    AnymailImproperlyInstalled,
)

# anymail's inbound routes: route, whether it is a regex, view class. Each is named
# "<esp>_inbound_webhook", as in anymail.urls.
INBOUND_VIEWS: dict[str, tuple[str, bool, str]] = {
    "amazon_ses": (
        "amazon_ses/inbound/",
        False,
        "anymail.webhooks.amazon_ses.AmazonSESInboundWebhookView",
    ),
    "brevo": (
        "brevo/inbound/",
        False,
        "anymail.webhooks.brevo.BrevoInboundWebhookView",
    ),
    "mailersend": (
        "mailersend/inbound/",
        False,
        "anymail.webhooks.mailersend.MailerSendInboundWebhookView",
    ),
    "mailgun": (
        r"^mailgun/inbound(_mime)?/$",
        True,
        "anymail.webhooks.mailgun.MailgunInboundWebhookView",
    ),
    "mailjet": (
        "mailjet/inbound/",
        False,
        "anymail.webhooks.mailjet.MailjetInboundWebhookView",
    ),
    "mailtrap": (
        "mailtrap/inbound/",
        False,
        "anymail.webhooks.mailtrap.MailtrapInboundWebhookView",
    ),
    "postal": (
        "postal/inbound/",
        False,
        "anymail.webhooks.postal.PostalInboundWebhookView",
    ),
    "postmark": (
        "postmark/inbound/",
        False,
        "anymail.webhooks.postmark.PostmarkInboundWebhookView",
    ),
    "sendgrid": (
        "sendgrid/inbound/",
        False,
        "anymail.webhooks.sendgrid.SendGridInboundWebhookView",
    ),
    "sendinblue": (
        "sendinblue/inbound/",
        False,
        "anymail.webhooks.sendinblue.SendinBlueInboundWebhookView",
    ),
    "sparkpost": (
        "sparkpost/inbound/",
        False,
        "anymail.webhooks.sparkpost.SparkPostInboundWebhookView",
    ),
    "resend": (
        "resend/inbound/",
        False,
        "anymail.webhooks.resend.ResendInboundWebhookView",
    ),
}


def _inbound_view(name: str, view_class: str) -> Callable[..., HttpResponse]:
    """anymail's view, imported on first use; 503 while the ESP is not configured."""
    loaded: list[Callable[..., HttpResponse]] = []

    @csrf_exempt
    def inbound(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if not loaded:
                loaded.append(import_string(view_class).as_view())
            return loaded[0](request, *args, **kwargs)
        except NOT_CONFIGURED as error:
            logger.error("inbound webhook %s is not configured: %s", name, error)
            return JsonResponse(
                {"detail": "This inbound mail webhook is not configured here."},
                status=503,
            )

    return inbound


def _inbound_patterns() -> list[URLPattern]:
    patterns = []
    for esp, (route, is_regex, view_class) in INBOUND_VIEWS.items():
        name = f"{esp}_inbound_webhook"
        make = re_path if is_regex else path
        patterns.append(make(route, _inbound_view(name, view_class), name=name))
    return patterns


app_name = "anymail"
urlpatterns = _inbound_patterns()
