"""Production: every secret from the environment, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from .base import *

PRODUCTION_BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps"}
PRODUCTION_EMAIL_SCHEMES = {"smtp", "smtps", "smtp+tls", "smtp+ssl", "submission"}
PRODUCTION_EMAIL_SCHEMES |= {"anymail"}

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
if not env.str("ANYMAIL_WEBHOOK_SECRET", default=""):
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET (user:password) must be set: webhooks need auth."
    )
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")
# The embedded defaults of `make run` lose work in production: a broker on one
# container's disk, mail written to files nobody reads. Fail closed instead.
if CELERY_BROKER_URL.split("://", 1)[0] not in PRODUCTION_BROKER_SCHEMES:
    raise ImproperlyConfigured(
        "REDIS_URL (or CELERY_BROKER_URL) must name a real broker in production "
        f"(redis://, rediss:// or amqp://), not {CELERY_BROKER_URL.split(':', 1)[0]!r}."
    )
if env.str("EMAIL_URL", default="").split("://", 1)[0] not in PRODUCTION_EMAIL_SCHEMES:
    raise ImproperlyConfigured(
        "EMAIL_URL must name a real mail service in production: smtp://, "
        "smtps://, submission:// or anymail://<esp> (not files or the console)."
    )

DEBUG = False
ALLOWED_HOSTS = ALLOWED_HOSTS or [SITE_URL.split("://", 1)[-1].split("/")[0]]

# Only copies live in the cache: when Redis is down, reads miss and requests go on.
CACHES = {
    "default": {
        "BACKEND": "scalr_support.common.cache.ResilientRedisCache",
        "LOCATION": env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"),
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus speak plain HTTP to the pod.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [SITE_URL]
