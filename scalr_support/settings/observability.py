"""Request ids, metrics and error reports (scalr_support/observability/)."""

from django_guid.integrations import CeleryIntegration

from scalr_support.env import env
from scalr_support.observability.sentry import sentry_init

# django-guid: the request id of every log line, returned as X-Request-ID and
# carried into the tasks a request queues. RequestIdSanitizeMiddleware, just
# before it, drops an incoming id that is not a sane token, so django-guid's own
# check (UUIDs only) is off.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=False, log_parent=False)],
}

# /metrics (scalr_support/observability/views.py): with neither set, open only
# under DEBUG. METRICS_TOKEN: the bearer token Prometheus sends; METRICS_ALLOWED_IPS:
# comma-separated addresses or networks (10.0.0.0/8) it scrapes from.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# Where gunicorn's workers write their request metrics so any of them serves the
# sum (prometheus_client's multiprocess mode); unset: each process its own.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# Sentry, only with a DSN; sentry_init scrubs email addresses from every event.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
SENTRY_ENABLED = sentry_init(
    dsn=SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
)
