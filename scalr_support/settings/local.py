"""The embedded default for `make run`: SQLite, a filesystem broker, mail to files."""

from .base import *

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only-key-0123456789"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}
        if (_redis := env.str("REDIS_URL", default=""))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
