"""The embedded default for `make run`: SQLite, a filesystem broker, mail to files."""

from .base import *

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only-key-0123456789"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
# `make run` writes to a terminal: readable lines unless LOG_FORMAT says json.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO"))

# Shared by every process of `make run` (two web workers, the Celery worker, the
# mail receiver): a per-process cache would serve each worker its own stale copy
# of a page after a write another process made. Files under var/ need no server.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}
        if (_redis := env.str("REDIS_URL", default=""))
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    )
}

# Static files straight from the app folders (WhiteNoise's finders, uncompressed):
# the first `make run` collects and compresses nothing (the API docs alone are
# about 1,000 files). Production collects and compresses them once, at build time.
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
