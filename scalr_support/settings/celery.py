"""Celery: at-least-once delivery with idempotent tasks (STYLE.md, conventions 3-4)."""

from kombu import Queue

from scalr_support.env import VAR_DIR, env

_redis_url = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_redis_url or "filesystem://")

if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: kombu's filesystem transport, so `make run` needs no Redis.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # Longer than any task's hard time limit plus any countdown, so Redis never
    # re-delivers a task that is still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 2 * 60 * 60,
        "queue_order_strategy": "priority",
    }

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Three queues, all consumed by every worker (a worker started without -Q takes
# every queue listed here), in this order of precedence on Redis: a customer's
# email becomes a comment first, then the sweeps run, then outgoing mail is sent.
# A burst of replies is short (the receiver rate-limits senders, and parsing is
# fast), while one reply can fan out to dozens of notifications: taken in turn,
# the replies waited behind minutes of mail under load (docs/performance.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("inbound"), Queue("celery"), Queue("mail"))
CELERY_TASK_ROUTES = {
    "notifications.tasks.process_inbound": {"queue": "inbound"},
    "notifications.tasks.deliver_event": {"queue": "mail"},
    "notifications.tasks.send_delivery": {"queue": "mail"},
    "scalr_support.accounts.tasks.password_reset_mail": {"queue": "mail"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Publishing happens after commit from web requests: fail fast when the broker is
# down (the outbox sweeps resend from the database), never hang the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}

CELERY_BEAT_SCHEDULE = {
    "notifications-inbound-sweep": {
        "task": "notifications.tasks.inbound_sweep",
        "schedule": 30,
        "options": {"expires": 25},
    },
    "notifications-sweep": {
        "task": "notifications.tasks.notifications_sweep",
        "schedule": 30,
        "options": {"expires": 25},
    },
    # SLA at-risk and breach crossings; one run catches up after any gap.
    "sla-sweep": {
        "task": "sla.tasks.sla_sweep",
        "schedule": 30,
        "options": {"expires": 25},
    },
    # Slack posts at the start and end of maintenance windows, within 60 s.
    "maintenance-announcements": {
        "task": "maintenance.tasks.announcements_sweep",
        "schedule": 15,
        "options": {"expires": 14},
    },
    "maintenance-windows": {
        "task": "maintenance.tasks.windows_materialise",
        "schedule": 60 * 60,
        "options": {"expires": 30 * 60},
    },
    "maintenance-reminders": {
        "task": "maintenance.tasks.maintenance_reminders",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    "tickets-close-solved": {
        "task": "tickets.tasks.close_solved_tickets",
        "schedule": 60 * 60,
        "options": {"expires": 30 * 60},
    },
    # Stored files no attachment row names (a killed process, a restore), after 24h.
    "tickets-attachment-orphans": {
        "task": "tickets.tasks.attachment_orphans_sweep",
        "schedule": 60 * 60,
        "options": {"expires": 30 * 60},
    },
}

# Celery's Django fix-up closes the database connection before and after every
# task unless this is set (then it closes every this-many tasks). Reconnecting cost
# a third of an email reply's processing time. ``scalr_support.celery`` treats a
# task like Django treats a request instead: connections live for CONN_MAX_AGE,
# are health-checked before reuse and dropped after an error, so this only needs
# to be large enough never to matter.
CELERY_DB_REUSE_MAX = 1_000_000
