"""Example values for the OpenAPI document (shown in /api/docs/)."""

from typing import Any

PERSON_EXAMPLE = {"id": 12, "name": "Alice Anders", "email": "alice@acme.example.com"}
TICKET_EXAMPLE: dict[str, Any] = {
    "number": 1042,
    "url": "https://support.example.com/api/v1/tickets/1042/",
    "portal_url": "https://support.example.com/tickets/1042/",
    "subject": "Runs stuck in pending after upgrade to 9.4",
    "description": "Since upgrading, new runs stay **pending**.",
    "description_html": "<p>Since upgrading, new runs stay <strong>pending</strong>."
    "</p>",
    "priority": 1,
    "priority_label": "P1 Critical",
    "status": "open",
    "status_label": "Open",
    "category": "bug",
    "deployment": "on_prem",
    "version_reported": "9.4.1",
    "organization": {"id": 3, "name": "Acme Corp"},
    "requester": PERSON_EXAMPLE,
    "created_at": "2026-03-02T09:14:05.120000Z",
    "updated_at": "2026-03-02T10:02:11.004000Z",
    "last_activity_at": "2026-03-02T10:02:11.004000Z",
    "solved_at": None,
    "closed_at": None,
    "first_response_due_at": "2026-03-02T13:14:05.120000Z",
    "first_responded_at": "2026-03-02T10:02:11.004000Z",
    "sla_state": "met",
}
STAFF_TICKET_EXAMPLE = {
    **TICKET_EXAMPLE,
    "assignee": {"id": 2, "name": "Eli Engineer", "email": "eli@support.example.com"},
}
DETAIL_EXTRA: dict[str, Any] = {
    "attachments": [
        {
            "id": 77,
            "filename": "agent.log",
            "content_type": "text/plain",
            "size": 20480,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015"
            "a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "comment": None,
            "created_at": "2026-03-02T09:14:05.120000Z",
            "download_url": "https://support.example.com/api/v1/tickets/1042/"
            "attachments/77/",
        }
    ],
    "priority_changes": [
        {
            "from_priority": 0,
            "to_priority": 1,
            "reason": "A workaround exists, so production is not stopped.",
            "changed_by": {"id": 2, "name": "Eli Engineer", "is_support": True},
            "created_at": "2026-03-02T09:40:00Z",
        }
    ],
}
COMMENT_EXAMPLE = {
    "id": 501,
    "author": {"id": 2, "name": "Eli Engineer", "is_support": True},
    "body": "Could you send the output of `scalr-server-ctl status`?",
    "body_html": "<p>Could you send the output of <code>scalr-server-ctl status"
    "</code>?</p>",
    "internal": False,
    "source": "api",
    "created_at": "2026-03-02T10:02:11.004000Z",
    "attachments": [],
}


def page_example(results: list[Any]) -> dict[str, Any]:
    return {
        "next": "https://support.example.com/api/v1/tickets/?cursor=cD0yMDI2LTAz",
        "previous": None,
        "results": results,
    }
