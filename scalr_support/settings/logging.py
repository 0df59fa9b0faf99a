"""Logging: one line per record to stderr; never email addresses or message bodies.

``LOG_FORMAT=json`` (the default; ``local`` picks ``plain`` for a terminal) writes
each record as one JSON object: ``timestamp``, ``level``, ``logger``,
``message``, ``request_id``, ``task_id``, ``task_name`` and any ``extra`` fields
(docs/operations.md).
"""

from scalr_support.env import env

# The JSON object of one line: these first, then anything passed in ``extra``.
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"asctime": "timestamp", "levelname": "level", "name": "logger"}
PLAIN_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s "
    "[request=%(request_id)s task=%(task_id)s] %(message)s"
)

LOG_FORMAT = env.str("LOG_FORMAT", default="json")


def logging_config(log_format: str, level: str) -> dict[str, object]:
    """Return the ``LOGGING`` dict for ``json`` or ``plain`` lines at ``level``."""
    if log_format not in ("json", "plain"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"LOG_FORMAT must be json or plain, not {log_format!r}."
        )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "scalr_support.observability.logs.ContextFilter"},
        },
        "formatters": {
            "plain": {"format": PLAIN_FORMAT},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": JSON_FIELDS,
                "rename_fields": JSON_RENAMES,
            },
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context"],
            },
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            # One line per request and task about its id is noise: the id is on
            # every line already.
            "django_guid": {"level": "WARNING"},
        },
    }


LOGGING = logging_config(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO"))
