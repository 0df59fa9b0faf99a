"""The two support staff groups and what each may do in the admin.

Kept in code and re-applied after every migration so that a new model's permissions
reach the groups without a hand-written data migration each time.
"""

from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SUPPORT_ENGINEER = "Support Engineer"
SUPPORT_MANAGER = "Support Manager"

# (app label, model, actions)
ENGINEER_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("tickets", "ticket", ("view", "change")),
    ("tickets", "comment", ("view", "add")),
    ("tickets", "attachment", ("view",)),
    ("tickets", "prioritychange", ("view",)),
    ("tickets", "organization", ("view",)),
    ("tickets", "contact", ("view",)),
    ("tickets", "supporttier", ("view",)),
    ("sla", "responsetarget", ("view",)),
    ("sla", "businesscalendar", ("view",)),
    ("sla", "workinginterval", ("view",)),
    ("sla", "calendardate", ("view",)),
    ("sla", "responseclock", ("view",)),
    ("sla", "slatransition", ("view",)),
    ("sla", "slarecomputation", ("view",)),
    ("sla", "slachangeentry", ("view",)),  # who changed targets and calendars
    ("tickets", "release", ("view",)),
    ("tickets", "supportsession", ("view",)),
    ("maintenance", "maintenanceschedule", ("view",)),
    ("maintenance", "maintenancewindow", ("view",)),
    ("maintenance", "slackannouncement", ("view",)),
    ("maintenance", "windowauditentry", ("view",)),  # who changed maintenance
    # The email channel: work the quarantine (process again, release, discard)
    # and see what was sent, what failed and which addresses bounce.
    ("notifications", "inboundmessage", ("view", "change")),
    ("notifications", "inbounddecision", ("view",)),
    ("notifications", "emaildelivery", ("view",)),
    ("notifications", "failingaddress", ("view",)),
    # What customers do themselves (read-only in the admin).
    ("tickets", "organizationauditentry", ("view",)),
    ("tickets", "invitation", ("view",)),
    ("tickets", "satisfactionrating", ("view",)),
    ("tickets", "ticketfollower", ("view",)),
    # The workspace (tickets/workspace): own macros and views; shared ones below.
    ("tickets", "macro", ("view", "add", "change", "delete")),
    ("tickets", "savedview", ("view", "add", "change", "delete")),
    ("tickets", "ticketaudit", ("view",)),
]
MANAGER_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    *ENGINEER_PERMISSIONS,
    ("tickets", "organization", ("add", "change")),
    ("tickets", "contact", ("add", "change", "delete")),
    ("tickets", "supporttier", ("change",)),
    ("sla", "responsetarget", ("change",)),
    ("sla", "businesscalendar", ("add", "change", "delete")),
    ("sla", "workinginterval", ("add", "change", "delete")),
    ("sla", "calendardate", ("add", "change", "delete")),
    ("sla", "responseclock", ("report",)),  # the SLA attainment report
    ("accounts", "user", ("view", "add", "change")),
    ("tickets", "release", ("add", "change", "delete")),
    ("maintenance", "maintenanceschedule", ("change",)),
    ("maintenance", "maintenancewindow", ("add", "change")),
    ("maintenance", "slackannouncement", ("retry",)),  # send a failed post again
    ("notifications", "failingaddress", ("delete",)),  # mail the address again
    ("tickets", "macro", ("share",)),  # shared macros
    ("tickets", "savedview", ("share",)),  # saved views for everyone
]


def _permissions(spec: list[tuple[str, str, tuple[str, ...]]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_label, model, actions in spec:
        query |= Q(
            content_type__app_label=app_label,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return list(Permission.objects.filter(query))


def ensure_staff_groups(**kwargs: Any) -> None:
    """Create or refresh the staff groups (idempotent; runs after each migrate).

    Apps later in INSTALLED_APPS get their permissions after this app's post_migrate
    handler runs, so create the ones the groups need first.
    """
    for label in {app_label for app_label, _model, _actions in MANAGER_PERMISSIONS}:
        create_permissions(apps.get_app_config(label), verbosity=0)
    for name, spec in (
        (SUPPORT_ENGINEER, ENGINEER_PERMISSIONS),
        (SUPPORT_MANAGER, MANAGER_PERMISSIONS),
    ):
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(spec))
