"""ESP webhooks: anymail's views, routed so that misconfiguration is not a 500.

Inbound webhooks bring customers' mail; tracking webhooks bring what became of ours
(a bounce or a spam complaint marks the address as failing, see
``signals.record_failing_address``). anymail serves every ESP it supports; one that
this installation has not configured (no signing key, SDK not installed) raises on
each request. Such a request gets a clear 503 that tells the ESP to retry, and the
operator a log line, instead of a server error.

Each view is imported on its first request rather than through ``anymail.urls``,
which imports every ESP's module: Amazon SES's imports boto3 (about 25 MiB and a
quarter of a second per process), and every process that loads the URLconf to
link to a ticket, Celery workers included, would pay for it.
``tests/notifications/test_webhook_routes.py`` keeps the table equal to anymail's.
"""

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailImproperlyInstalled,
    AnymailWebhookValidationFailure,
)
from anymail.utils import get_anymail_setting, get_request_basic_auth
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, re_path
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from .inbound import MessageTooLarge
from .signals import STORING

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    ImproperlyConfigured,
    AnymailConfigurationError,
    AnymailImproperlyInstalled,
)

# anymail's webhooks, by ESP: the prefix of its view classes. URLs and names are
# anymail's: "<esp>/inbound/" and "<esp>/tracking/", named "<esp>_inbound_webhook"
# and "<esp>_tracking_webhook".
_ESPS = {
    "amazon_ses": "AmazonSES",
    "brevo": "Brevo",
    "mailersend": "MailerSend",
    "mailgun": "Mailgun",
    "mailjet": "Mailjet",
    "mailtrap": "Mailtrap",
    "postal": "Postal",
    "postmark": "Postmark",
    "resend": "Resend",
    "sendgrid": "SendGrid",
    "sendinblue": "SendinBlue",
    "sparkpost": "SparkPost",
    "unisender_go": "UnisenderGo",
}
_TRACKING_ONLY = {"unisender_go"}


def _webhook_views() -> dict[str, tuple[str, bool, str]]:
    """URL name -> (route, whether it is a regex, view class), as in anymail.urls."""
    views: dict[str, tuple[str, bool, str]] = {}
    for esp, prefix in _ESPS.items():
        module = f"anymail.webhooks.{esp}"
        kinds = ("tracking",) if esp in _TRACKING_ONLY else ("inbound", "tracking")
        for kind in kinds:
            views[f"{esp}_{kind}_webhook"] = (
                f"{esp}/{kind}/",
                False,
                f"{module}.{prefix}{kind.title()}WebhookView",
            )
    # Mailgun posts raw MIME to ".../inbound_mime/" or fields to ".../inbound/".
    views["mailgun_inbound_webhook"] = (
        r"^mailgun/inbound(_mime)?/$",
        True,
        "anymail.webhooks.mailgun.MailgunInboundWebhookView",
    )
    # Mandrill sends inbound mail and delivery events to one webhook.
    views["mandrill_tracking_webhook"] = (
        "mandrill/tracking/",
        False,
        "anymail.webhooks.mandrill.MandrillCombinedWebhookView",
    )
    return views


WEBHOOK_VIEWS = _webhook_views()


def _webhook_view(name: str, view_class: str) -> Callable[..., HttpResponse]:
    """anymail's view, imported on first use; 503 while the ESP is not configured."""
    # Not cached while it raises: a configuration fixed later is picked up.
    load = functools.cache(lambda: import_string(view_class).as_view())

    @csrf_exempt
    def webhook(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _credentials_refused(name, request)
        if refused is not None and request.method == "POST":
            return refused
        # No ESP posts nothing or broken JSON, and a retry would not mend either:
        # 400, not the 500 anymail's parsing would give.
        if request.method == "POST" and not request.body:
            return _bad_payload(name, "The webhook payload is empty.")
        storing = STORING.set(False)
        try:
            return load()(request, *args, **kwargs)
        except AnymailWebhookValidationFailure:
            return _refused(name, request)
        except json.JSONDecodeError:
            return _bad_payload(name, "The webhook payload is not valid JSON.")
        except NOT_CONFIGURED as error:
            logger.error("webhook %s is not configured: %s", name, error)
            return JsonResponse(
                {"detail": "This mail webhook is not configured here."}, status=503
            )
        except MessageTooLarge:
            return JsonResponse({"detail": "The message is too large."}, status=413)
        except Exception as error:
            if STORING.get():
                # Failed while storing (the database, say) or after: the ESP must
                # try again, so the error handler's JSON 5xx (503 for an outage).
                raise
            # Before: anymail could not read the payload, and no retry mends it.
            logger.warning("webhook %s: unreadable payload (%r)", name, error)
            return _bad_payload(
                name, f"The webhook payload could not be read ({type(error).__name__})."
            )
        finally:
            STORING.reset(storing)

    return webhook


def _credentials_refused(name: str, request: HttpRequest) -> JsonResponse | None:
    """Check the basic auth before anything reads the payload, for every ESP.

    anymail checks it too, but after some ESPs' own checks of the payload (SES's
    SNS headers), so a stranger's junk got a 400 and SES's missing auth an HTML
    401; here every ESP answers 401 or 403, in JSON, before the payload counts.
    """
    allowed = get_anymail_setting("webhook_secret", default=[])
    if isinstance(allowed, str):
        allowed = [allowed] if allowed else []
    if not allowed:
        return None  # insecure set-up (local): anymail warns
    given = get_request_basic_auth(request) or ""
    if any(constant_time_compare(given, secret) for secret in allowed):
        return None
    return _refused(name, request)


def _refused(name: str, request: HttpRequest) -> JsonResponse:
    """401 when no credentials came (asking for them), 403 when they are wrong."""
    if "HTTP_AUTHORIZATION" not in request.META:
        response = JsonResponse(
            {"detail": "The webhook needs its basic auth credentials."}, status=401
        )
        response["WWW-Authenticate"] = 'Basic realm="anymail"'
        return response
    logger.warning("webhook %s: invalid credentials or signature", name)
    return JsonResponse(
        {"detail": "The webhook credentials or signature are not valid."}, status=403
    )


def _bad_payload(name: str, detail: str) -> JsonResponse:
    logger.warning("webhook %s: %s", name, detail)
    return JsonResponse({"detail": detail}, status=400)


def _patterns() -> list[URLPattern]:
    patterns = []
    for name, (route, is_regex, view_class) in WEBHOOK_VIEWS.items():
        make = re_path if is_regex else path
        patterns.append(make(route, _webhook_view(name, view_class), name=name))
    return patterns


app_name = "anymail"
urlpatterns = _patterns()
