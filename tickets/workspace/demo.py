"""The demo's shared macros (``manage.py seed_demo``), created once by title."""

from typing import Any

from ..choices import Status
from .models import AssigneeAction, Macro

DEMO_MACROS: list[dict[str, Any]] = [
    {
        "title": "Ask for logs",
        "body": "Hi {{ contact.first_name }},\n\nthanks for reporting this. Could you "
        "attach the output of `scalr-server-ctl status` and the ID of a failed run? "
        "Drop the files into your reply to ticket #{{ ticket.number }}.\n\n"
        "Best regards,\n{{ agent.first_name }}",
        "set_status": Status.WAITING_ON_CUSTOMER,
        "assignee_action": AssigneeAction.SELF,
    },
    {
        "title": "Solved: confirm and close",
        "body": "Hi {{ contact.first_name }},\n\nglad this works again. I am marking "
        "the ticket as solved; reply within 7 days if it comes back and it reopens."
        "\n\n{{ agent.first_name }}",
        "set_status": Status.SOLVED,
    },
    {
        "title": "Escalated to engineering (internal)",
        "body": "Escalated to engineering: reproduced on {{ organization.name }}'s "
        "setup. Waiting for a fix estimate.",
        "is_internal": True,
        "set_status": Status.ON_HOLD,
    },
]


def demo_macros_ensure() -> int:
    """Create the shared demo macros that are missing; return how many were made."""
    created = 0
    for spec in DEMO_MACROS:
        _macro, made = Macro.objects.get_or_create(
            title=spec["title"], owner=None, defaults=spec
        )
        created += made
    return created
