"""pytest: real PostgreSQL and Redis, fast hashing, no eager Celery."""

import os

from .base import *

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/scalr_support"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = 0

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Each xdist worker gets its own Redis databases so cache.clear() and purging the
# test broker stay local to it.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0"
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=REDIS_URL.rsplit("/", 1)[0] + f"/{15 - int(_worker) % 7}",
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}

_cache_db = 1 + int(_worker) % 7
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL.rsplit("/", 1)[0] + f"/{_cache_db}",
    }
}

# The route matrix posts one address per role; the rate-limit tests set their own.
PASSWORD_RESET_LIMIT_PER_ACCOUNT = 50
PASSWORD_RESET_LIMIT_PER_CLIENT = 50

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media" / _worker
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# Serve static files from the app folders without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
