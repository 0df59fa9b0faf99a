"""The URLs the workspace's page frame links to, resolved once per process.

The frame (``jinja2_templates/tickets/workspace/_base.html``) reproduces the
markup of the admin's ``base.html`` and our ``base_site.html`` without their
``{% static %}`` and ``{% url %}`` tags: resolved on every request, they cost as
much as the rest of a signed-in page (the admin's failed reverse of the admindocs
URL alone raises and catches an exception per page). Neither the URLconf nor the
static manifest changes while a process runs, so one lookup per script prefix
serves every request.
"""

from functools import cache

from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

STATIC_FILES = {
    "base_css": "admin/css/base.css",
    "dark_mode_css": "admin/css/dark_mode.css",
    "theme_js": "admin/js/theme.js",
    "rtl_css": "admin/css/rtl.css",
    "responsive_css": "admin/css/responsive.css",
    "responsive_rtl_css": "admin/css/responsive_rtl.css",
    "workspace_css": "tickets/workspace/workspace.css",
    "workspace_js": "tickets/workspace/workspace.js",
}
URL_NAMES = {
    "index": "admin:index",
    "queue": "admin:tickets_ticket_changelist",
    "pw_change": "admin:password_change",  # "Change password"
    "logout": "admin:logout",
    "time_zone": "accounts:time-zone",
    "jsi18n": "admin:jsi18n",
    "bulk": "admin:tickets_ticket_workspace_bulk",
    "save_view": "admin:tickets_ticket_workspace_save_view",
}


def _reverse_or_empty(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@cache
def _links(prefix: str, urlconf: str | None) -> dict[str, str]:
    links = {key: static(path) for key, path in STATIC_FILES.items()}
    links.update({key: reverse(name) for key, name in URL_NAMES.items()})
    # The queue's script puts the ticket's id in place of the 0.
    links["assign_me"] = reverse("admin:tickets_ticket_workspace_assign_me", args=[0])
    # Shown by the admin only where django.contrib.admindocs is installed.
    links["docsroot"] = _reverse_or_empty("django-admindocs-docroot")
    return links


def chrome_links() -> dict[str, str]:
    """Static and admin URLs of the frame, for the current script prefix."""
    return _links(get_script_prefix(), get_urlconf())
