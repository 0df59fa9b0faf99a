"""THE route policy: every URL of the project and who gets what from it.

Each route (found by walking the URLconf, see ``routes.py``) must be declared here,
by name or pattern, with the status every role receives for every method; the route
matrix (``test_route_matrix.py``) requests each one and compares. A route added
without a line here fails the suite, so a new page cannot ship without someone
deciding who may see it.

Columns are the roles of ``conftest.ROLES``, in this order::

    (anonymous, customer_a, contact_a, customer_b, engineer, manager)

``customer_a`` is a technical contact of organisation A, ``contact_a`` a contact of A
who is not a technical contact, ``customer_b`` a technical contact of organisation B.
URL parameters name organisation A's objects (its ticket, attachment, token), so the
``customer_b`` column is where "another organisation's object answers 404" is
declared. Bodies (``data``) are valid input, so a broken gate would really write;
every GET and every refused request (4xx) must leave the database unchanged.

Django admin model pages are declared per model in ``ADMIN_MODELS`` (what the two
staff groups may do); the expected statuses follow from that.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

Expect = tuple[int, int, int, int, int, int]

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def every(status: int) -> Expect:
    return (status,) * 6  # type: ignore[return-value]


@dataclass(frozen=True)
class Policy:
    """Expected status per role for each method, and the body to send."""

    expect: dict[str, Expect]
    data: dict[str, Any] = field(default_factory=dict)
    content: str = "form"  # "form", "json" or "multipart"
    csrf_exempt: bool = False  # authenticates otherwise (webhook secrets)
    customer_visible: bool = True  # walked by the canary and XSS checks


def page(get: Expect, post: Expect, data: dict[str, Any] | None = None) -> Policy:
    return Policy({"GET": get, "POST": post}, {"POST": data} if data else {})


# Shorthands for the common rows.
PUBLIC = every(200)
SIGNED_IN = (302, 200, 200, 200, 200, 200)
REDIRECT = every(302)
NOT_ALLOWED = every(405)
ORG_A_ONLY = (302, 200, 200, 404, 200, 200)  # A's object: B's customer gets 404
ORG_A_WRITE = (302, 302, 302, 404, 302, 302)  # form posted, then redirected

# Admin site pages: non-staff are sent to the admin's login.
ADMIN_PAGE = (302, 302, 302, 302, 200, 200)
ADMIN_FORBIDDEN = (302, 302, 302, 302, 403, 403)
STAFF_ONLY_405 = (302, 302, 302, 302, 405, 405)
ADMIN_NOT_FOUND = (302, 302, 302, 302, 404, 404)

# API (session auth): 401 before anything else for anonymous callers.
API_READ = (401, 200, 200, 200, 200, 200)
API_ORG_A = (401, 200, 200, 404, 200, 200)
API_CREATED_ON_A = (401, 201, 201, 404, 201, 201)
API_NO_METHOD = (401, 405, 405, 405, 405, 405)


def api(**expect: Expect | tuple[Expect, Any]) -> Policy:
    """An API route: every method declared; unlisted ones are 405 (401 anonymous)."""
    statuses: dict[str, Expect] = {}
    data: dict[str, Any] = {}
    for method in ALL_METHODS:
        declared = expect.get(method.lower(), API_NO_METHOD)
        if isinstance(declared[0], tuple):
            statuses[method], data[method] = declared  # type: ignore[misc]
        else:
            statuses[method] = declared  # type: ignore[assignment]
    return Policy(statuses, data, content="json")


NEW_TICKET_FORM = {
    "subject": "From the route matrix",
    "priority": "3",
    "category": "bug",
    "deployment": "saas",
    "description": "Filed by the security suite.",
}
NEW_TICKET_JSON = {
    "subject": "From the route matrix",
    "description": "Filed by the security suite.",
    "priority": 3,
    "category": "bug",
}


def _upload() -> dict[str, Any]:
    return {"attachments": [SimpleUploadedFile("matrix.txt", b"matrix")]}


ROUTES: dict[str, Policy] = {
    # --- portal --------------------------------------------------------------------
    "home": page(REDIRECT, REDIRECT),
    "tickets:list": page(SIGNED_IN, NOT_ALLOWED),
    "tickets:new": page(
        (302, 200, 403, 200, 403, 403),
        (302, 302, 403, 302, 403, 403),
        NEW_TICKET_FORM,
    ),
    "tickets:detail": page(ORG_A_ONLY, NOT_ALLOWED),
    "tickets:comment": page(NOT_ALLOWED, ORG_A_WRITE, {"body": "From the matrix"}),
    "tickets:solve": page(NOT_ALLOWED, ORG_A_WRITE),
    "tickets:reopen": page(NOT_ALLOWED, ORG_A_WRITE),
    "tickets:attachment": page(ORG_A_ONLY, NOT_ALLOWED),
    # A's real-time session: its contacts answer; staff are refused (a message).
    "tickets:session-accept": page(NOT_ALLOWED, ORG_A_WRITE),
    "tickets:session-propose": page(
        NOT_ALLOWED,
        ORG_A_WRITE,
        {"proposed_at": "2099-01-05T10:00", "note": "From the matrix"},
    ),
    # Colleagues copied on A's ticket and its rating: refusals are messages.
    "tickets:follower-add": page(
        NOT_ALLOWED, ORG_A_WRITE, {"email": "bob@acme.example.com"}
    ),
    "tickets:follower-remove": page(NOT_ALLOWED, ORG_A_WRITE),
    # A's attachment is a text file: no preview for anyone; 404 like a missing one.
    "tickets:attachment-thumbnail": page((302, 404, 404, 404, 404, 404), NOT_ALLOWED),
    "tickets:rate": page(NOT_ALLOWED, ORG_A_WRITE, {"rating": "good"}),
    # Signed links: the matrix's token is not one, for anyone.
    "tickets:rate-link": page(every(404), every(404), {"rating": "good"}),
    # --- organisation self-service (admins act; others are told why) ---------------
    "organization:page": page((302, 200, 200, 200, 404, 404), NOT_ALLOWED),
    "organization:invite": page(
        NOT_ALLOWED,
        (302, 400, 400, 400, 404, 404),
        {"email": "matrix@acme.example.com"},
    ),
    "organization:invitation": page(
        every(404), every(404), {"password": "x", "password_again": "x"}
    ),
    "organization:deactivate": page(NOT_ALLOWED, (302, 302, 302, 302, 404, 404)),
    "organization:reactivate": page(NOT_ALLOWED, (302, 302, 302, 302, 404, 404)),
    "organization:roles": page(
        NOT_ALLOWED, (302, 302, 302, 302, 404, 404), {"technical_contact": "on"}
    ),
    # --- maintenance and the policy: public, like the published policy --------------
    "maintenance:list": page(PUBLIC, NOT_ALLOWED),
    "maintenance:feed": page(PUBLIC, NOT_ALLOWED),
    "maintenance:reminders": page(
        NOT_ALLOWED, (302, 302, 302, 302, 404, 404), {"reminders": "on"}
    ),
    "support-policy": page(PUBLIC, NOT_ALLOWED),
    # --- operations: health for load balancers (no session, nothing written) -------
    "healthz": page(PUBLIC, NOT_ALLOWED),
    # Prometheus: closed to everyone outside DEBUG without METRICS_TOKEN or
    # METRICS_ALLOWED_IPS, as if it did not exist (tests/observability/).
    "metrics": page(every(404), every(404)),
    # --- accounts ------------------------------------------------------------------
    "login": page(
        (200, 302, 302, 302, 302, 302),
        (200, 302, 302, 302, 302, 302),
        {"username": "nobody@example.com", "password": "wrong-password"},
    ),
    "logout": page(NOT_ALLOWED, REDIRECT),
    "password_change": page(SIGNED_IN, SIGNED_IN, {"old_password": "x"}),
    "password_change_done": page(SIGNED_IN, (302, 405, 405, 405, 405, 405)),
    "password_reset": page(PUBLIC, REDIRECT, {"email": "nobody@example.com"}),
    "password_reset_done": page(PUBLIC, NOT_ALLOWED),
    "password_reset_confirm": page(PUBLIC, PUBLIC, {"new_password1": "x"}),
    "password_reset_complete": page(PUBLIC, NOT_ALLOWED),
    "accounts:tokens": page(SIGNED_IN, SIGNED_IN, {"name": "From the matrix"}),
    # The token is customer_a's own: anyone else's answers 404.
    # Staff choose the zone their pages show; customers see their organisation's.
    "accounts:time-zone": page(
        (302, 404, 404, 404, 200, 200),
        (302, 404, 404, 404, 302, 302),
        {"time_zone": "Europe/Berlin"},
    ),
    "accounts:token-revoke": page(NOT_ALLOWED, (302, 302, 404, 404, 404, 404)),
    "notification-preferences": page(
        (302, 200, 200, 200, 404, 404),
        (302, 302, 302, 302, 404, 404),
        {"organization_tickets": "on"},
    ),
    # --- REST API (session auth; token auth is the same code path) -----------------
    "api:root": api(get=API_READ),
    "api:tickets": api(
        get=API_READ,
        post=((401, 201, 403, 201, 403, 403), NEW_TICKET_JSON),
    ),
    "api:ticket": api(get=API_ORG_A, patch=(API_ORG_A, {"status": "solved"})),
    "api:comments": api(
        get=API_ORG_A, post=(API_CREATED_ON_A, {"body": "From the matrix"})
    ),
    "api:attachments": api(get=API_ORG_A, post=(API_CREATED_ON_A, _upload)),
    "api:attachment": api(get=API_ORG_A),
    "api:tiers": api(get=API_READ),
    "api:priorities": api(get=API_READ),
    "api:maintenance-windows": api(get=API_READ),
    "api-schema": page(PUBLIC, NOT_ALLOWED),
    "api-docs": page(PUBLIC, NOT_ALLOWED),
    # --- admin: the site's own pages (model pages: ADMIN_MODELS below) -------------
    "admin:index": page(ADMIN_PAGE, ADMIN_PAGE),
    "admin:login": page((200, 200, 200, 200, 302, 302), PUBLIC),
    "admin:logout": page(STAFF_ONLY_405, REDIRECT),
    "admin:password_change": page(ADMIN_PAGE, ADMIN_PAGE),
    "admin:password_change_done": page(ADMIN_PAGE, STAFF_ONLY_405),
    "admin:autocomplete": page(ADMIN_FORBIDDEN, STAFF_ONLY_405),
    "admin:jsi18n": page(ADMIN_PAGE, STAFF_ONLY_405),
    # Tickets have no public URL of their own to jump to.
    "admin:view_on_site": page(ADMIN_NOT_FOUND, ADMIN_NOT_FOUND),
    "admin:app_list": page(ADMIN_PAGE, ADMIN_PAGE),
    "route:admin/(?P<url>.*)$": page(ADMIN_NOT_FOUND, ADMIN_NOT_FOUND),
    # Setting another user's password: managers (who may change users) only.
    "admin:auth_user_password_change": page(
        (302, 302, 302, 302, 403, 200), (302, 302, 302, 302, 403, 200)
    ),
    # Deciding on a set-aside inbound message (both staff groups); the matrix's
    # object id names no stored message.
    "admin:notifications_inboundmessage_release": page(
        ADMIN_NOT_FOUND, ADMIN_NOT_FOUND
    ),
    "admin:notifications_inboundmessage_discard": page(
        ADMIN_NOT_FOUND, ADMIN_NOT_FOUND
    ),
    "admin:sla_attainment": page(
        (302, 302, 302, 302, 403, 200), (302, 302, 302, 302, 403, 200)
    ),
    # The engineers' workspace (tickets/workspace): POST-only helpers of the queue
    # and the ticket page. A bulk action without tickets goes back to the queue.
    "admin:tickets_ticket_workspace_bulk": page(
        STAFF_ONLY_405, REDIRECT, {"action": "note", "text": "From the matrix"}
    ),
    "admin:tickets_ticket_workspace_save_view": page(
        STAFF_ONLY_405, REDIRECT, {"name": "From the matrix", "query": "view=open"}
    ),
    "admin:tickets_ticket_workspace_presence": page(STAFF_ONLY_405, ADMIN_PAGE),
    "admin:tickets_ticket_workspace_assign_me": page(STAFF_ONLY_405, REDIRECT),
}

# ESP webhooks: no session, no CSRF; the webhook secret (required in production)
# is checked first: a POST without it is 401 (notifications/webhooks.py), a GET is
# not served.
WEBHOOK = Policy(
    {"GET": every(405), "POST": every(401)},
    csrf_exempt=True,
    customer_visible=False,
)
PATTERNS: dict[str, Policy] = {
    "anymail:*": WEBHOOK,
}

# Amazon SNS sends the basic auth only after a 401 challenge, so anymail's SES view
# answers a POST without credentials 401 rather than 400.
SNS_WEBHOOK = Policy(
    {"GET": every(405), "POST": every(401)},
    csrf_exempt=True,
    customer_visible=False,
)
ROUTES["anymail:amazon_ses_inbound_webhook"] = SNS_WEBHOOK
ROUTES["anymail:amazon_ses_tracking_webhook"] = SNS_WEBHOOK

# ESPs this installation has not configured (signing key or SDK missing) answer a
# clear 503 so the ESP retries (notifications/webhooks.py), never a 500; a POST
# without the webhook secret is refused (401) before that.
UNCONFIGURED_WEBHOOK = Policy(
    {"GET": every(503), "POST": every(401)},
    csrf_exempt=True,
    customer_visible=False,
)
for _name in (
    "brevo_inbound_webhook",
    "sendinblue_inbound_webhook",
    "mailersend_inbound_webhook",
    "mailgun_inbound_webhook",
    "mailtrap_inbound_webhook",
    "postal_inbound_webhook",
    "resend_inbound_webhook",
    # Tracking webhooks whose ESP signs its posts with a key of its own.
    "mailersend_tracking_webhook",
    "mailgun_tracking_webhook",
    "postal_tracking_webhook",
    "unisender_go_tracking_webhook",
):
    ROUTES[f"anymail:{_name}"] = UNCONFIGURED_WEBHOOK

# Mandrill validates the URL with a HEAD and signs posts with its webhook key.
ROUTES["anymail:mandrill_tracking_webhook"] = Policy(
    {"GET": every(405), "POST": every(401)},
    csrf_exempt=True,
    customer_visible=False,
)

# Routes that break their policy today, each with why and who owns the fix. The
# matrix marks them as expected failures (strict: once fixed, the entry must go).
KNOWN_DEFECTS: dict[str, str] = {}


# --- admin model pages ----------------------------------------------------------------

# What each staff group may do with each model in the admin; everything else is
# 403 for staff, and a redirect to the admin login for everyone else.
ADMIN_MODELS: dict[str, tuple[str, str]] = {
    #  model                              engineer        manager
    "tickets.ticket": ("view change", "view change"),
    "tickets.organization": ("view", "view add change"),
    "tickets.contact": ("view", "view add change delete"),
    "tickets.supporttier": ("view", "view change"),
    "sla.responsetarget": ("view", "view change"),
    "sla.businesscalendar": ("view", "view add change delete"),
    "sla.responseclock": ("view", "view"),
    "sla.slatransition": ("view", "view"),
    "sla.slachangeentry": ("view", "view"),  # audit: read-only for everyone
    "accounts.user": ("", "view add change"),
    "tickets.release": ("view", "view add change delete"),
    "tickets.organizationauditentry": ("view", "view"),
    "tickets.invitation": ("view", "view"),
    "tickets.satisfactionrating": ("view", "view"),
    "tickets.ticketfollower": ("view", "view"),
    # Own macros and views for everyone; shared ones need the share permission.
    "tickets.macro": ("view add change delete", "view add change delete"),
    "tickets.savedview": ("view add change delete", "view add change delete"),
    "tickets.ticketaudit": ("view", "view"),
    "maintenance.maintenanceschedule": ("view", "view change"),
    "maintenance.maintenancewindow": ("view", "view add change"),
    "maintenance.slackannouncement": ("view", "view"),
    "maintenance.windowauditentry": ("view", "view"),  # audit: read-only
    "auth.group": ("", ""),
    "notifications.emaildelivery": ("view", "view"),
    "notifications.inboundmessage": ("view change", "view change"),
    "notifications.inbounddecision": ("view", "view"),
    "notifications.failingaddress": ("view", "view delete"),
    "axes.accessattempt": ("", ""),
    "axes.accesslog": ("", ""),
    "axes.accessfailurelog": ("", ""),
    "django_celery_beat.periodictask": ("", ""),
    "django_celery_beat.clockedschedule": ("", ""),
    "django_celery_beat.crontabschedule": ("", ""),
    "django_celery_beat.solarschedule": ("", ""),
    "django_celery_beat.intervalschedule": ("", ""),
}

ADMIN_ACTIONS = ("changelist", "add", "history", "delete", "change")


def _staff(allowed: Callable[[set[str]], tuple[int, int]], access: tuple[str, str]):
    engineer = allowed(set(access[0].split()))
    manager = allowed(set(access[1].split()))
    return (
        (302, 302, 302, 302, engineer[0], manager[0]),
        (302, 302, 302, 302, engineer[1], manager[1]),
    )


def admin_model_policy(
    action: str, access: tuple[str, str], has_object: bool
) -> Policy:
    """Statuses of one model page for GET and an empty POST, from the access."""

    def allowed(perms: set[str]) -> tuple[int, int]:
        can_view = bool(perms & {"view", "change"})
        missing = 302  # a page for an object that does not exist redirects
        if action == "changelist":
            return (200, 200) if can_view else (403, 403)
        if action == "add":
            return (200, 200) if "add" in perms else (403, 403)
        if action == "history":
            if not has_object:
                return (missing, missing)
            return (200, 200) if can_view else (403, 403)
        if action == "delete":
            if "delete" not in perms:
                return (403, 403)
            # An empty POST is not the confirmation: the page is shown again.
            return (200, 200) if has_object else (missing, missing)
        if action == "change":
            get = 200 if can_view else 403
            post = 200 if "change" in perms else 403
            if not has_object:
                get = missing if can_view else 403
                post = missing if "change" in perms else 403
            return (get, post)
        raise AssertionError(action)

    get, post = _staff(allowed, access)
    return Policy({"GET": get, "POST": post})


ADMIN_OBJECT_REDIRECT = Policy({"GET": REDIRECT, "POST": REDIRECT})
