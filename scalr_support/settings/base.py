"""Settings shared by every variant."""

from scalr_support.env import BASE_DIR, VAR_DIR, env

SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

# Links in emails and feeds. Unset, it is the address `make run` serves (its PORT),
# so that a second stack on another port links to itself, not to port 8000.
SITE_URL = env.str(
    "SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
).rstrip("/")
SLACK_COMMUNITY_INVITE_URL = env.str(
    "SLACK_COMMUNITY_INVITE_URL",
    default="https://scalr-community.slack.com/join/placeholder-invite",
)
# Incoming webhook of #announcements; unset: announcements are recorded and logged.
SLACK_WEBHOOK_URL = env.str("SLACK_WEBHOOK_URL", default="")
SLACK_WEBHOOK_TIMEOUT = 10  # seconds per attempt; failed attempts are retried

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "scalr_support.accounts",
    "scalr_support.common",
    "tickets",
    "sla",
    "maintenance",
    "notifications",
    "scalr_support.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tickets.middleware.ContactMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
MIDDLEWARE.insert(1, "notifications.middleware.InboundSizeLimitMiddleware")
MIDDLEWARE.insert(2, "scalr_support.common.middleware.RequestSizeLimitMiddleware")
# Operations (docs/operations.md): the request metrics wrap everything; the
# request id is settled before anything can log or answer.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "scalr_support.observability.middleware.RequestIdSanitizeMiddleware",
    "django_guid.middleware.guid_middleware",
    "scalr_support.observability.middleware.AccessLogMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
INSTALLED_APPS += ["django_guid"]  # its ready() connects the Celery id hand-over

ROOT_URLCONF = "scalr_support.urls"
WSGI_APPLICATION = "scalr_support.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "scalr_support.common.context_processors.site",
                "maintenance.context_processors.maintenance_banner",
            ],
        },
    },
    # The agent workspace's pages (docs/workspace.md, "Speed"): a directory of
    # their own, so the Django engine above never loads them, and no context
    # processors (their views pass what the pages show).
    {
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "jinja2_templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "scalr_support.common.jinja2.environment"},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the server is unreachable: the request answers 503 and the
    # task retries, instead of both hanging on a dead connection attempt.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file under `make run`: WAL lets readers
    # proceed during a write, IMMEDIATE transactions queue writers instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with each user's permissions cached (accounts/backends.py).
    "scalr_support.accounts.backends.CachedPermissionsBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:list"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock an (account, address) pair after repeated failures, answer
# the same way for known and unknown accounts (see templates/registration/).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Password reset requests an hour, per email address (known or not) and per client
# address (scalr_support/accounts/password_reset.py).
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env.int(
    "PASSWORD_RESET_LIMIT_PER_ACCOUNT", default=3
)
PASSWORD_RESET_LIMIT_PER_CLIENT = env.int("PASSWORD_RESET_LIMIT_PER_CLIENT", default=20)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
TIME_ZONE = "UTC"
# Datetimes are shown with their zone everywhere (scalr_support/formats/en/).
FORMAT_MODULE_PATH = ["scalr_support.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# Days an organisation admin's invitation link stays valid (tickets/organizations.py).
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
# Invitations one organisation may send in 24 hours.
INVITATION_LIMIT_PER_DAY = env.int("INVITATION_LIMIT_PER_DAY", default=20)

# Attachments: validated in tickets/attachments.py before anything is written.
# 20 MB in the decimal units file managers show (20,000,000 bytes).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20_000_000)
ATTACHMENT_MAX_COUNT = env.int("ATTACHMENT_MAX_COUNT", default=10)
# File types refused (extensions, without the dot): programs and scripts that run
# when opened (Windows, macOS, Java, shells), and any file that starts like a
# native executable (tickets/attachments.py). Set it empty to refuse none. When
# ATTACHMENT_ALLOWED_EXTENSIONS is set, only its types are accepted.
ATTACHMENT_DENIED_EXTENSIONS = env.list(
    "ATTACHMENT_DENIED_EXTENSIONS",
    default=[
        "app",
        "apk",
        "bat",
        "bash",
        "cmd",
        "com",
        "command",
        "cpl",
        "csh",
        "dll",
        "dmg",
        "exe",
        "gadget",
        "hta",
        "inf",
        "ins",
        "isp",
        "jar",
        "js",
        "jse",
        "ksh",
        "lnk",
        "msc",
        "msi",
        "msix",
        "msp",
        "mst",
        "pif",
        "ps1",
        "ps2",
        "psc1",
        "psd1",
        "psm1",
        "reg",
        "scf",
        "scr",
        "sh",
        "sys",
        "vb",
        "vbe",
        "vbs",
        "ws",
        "wsc",
        "wsf",
        "wsh",
        "xbap",
    ],
)
ATTACHMENT_ALLOWED_EXTENSIONS = env.list("ATTACHMENT_ALLOWED_EXTENSIONS", default=[])
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The form fields of one portal, admin or API request, attachments aside: 100,000
# characters of any script, percent-encoded, fit with room to spare. A request that
# declares more is refused before it is read (scalr_support.common.middleware).
FORM_MAX_BYTES = env.int("FORM_MAX_BYTES", default=2 * 1024 * 1024)

# Solved tickets close by themselves after this many days without activity.
TICKET_AUTO_CLOSE_DAYS = env.int("TICKET_AUTO_CLOSE_DAYS", default=7)

# Measurement-only URLs (benchmarks/portal.py's ceiling page); never on in a deployment.
BENCHMARK_ENDPOINTS = env.bool("BENCHMARK_ENDPOINTS", default=False)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

from .celery import *  # noqa: E402
from .drf import *  # noqa: E402
from .email import *  # noqa: E402
from .logging import *  # noqa: E402
from .observability import *  # noqa: E402
