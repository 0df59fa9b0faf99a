"""The REST API as ../shared/CONTRACT.md writes it, and nothing more.

A client written against the contract sends only the fields it names. Each step
here does exactly that, so a field that becomes required (as `category` once
did, answering 400 to every existing client) fails this test.
"""

import pytest

from tickets.categories import category_from_text
from tickets.choices import Category

pytestmark = pytest.mark.django_db

# The ticket fields CONTRACT.md lists for GET/POST /api/v1/tickets/.
CONTRACT_TICKET_FIELDS = {
    "number",
    "subject",
    "description",
    "priority",
    "status",
    "organization",
    "requester",
    "created_at",
    "first_response_due_at",
    "first_responded_at",
    "sla_state",
}
SLA_STATES = {"on_track", "at_risk", "breached", "met", "best_effort", None}


def test_create_list_comment_and_reprioritise_with_the_contracts_fields_only(
    alice_api, engineer_api
):
    created = alice_api.post(
        "/api/v1/tickets/",
        {
            "subject": "Workspace runs wait in the queue",
            "description": "Since this morning our runs stay queued.",
            "priority": 2,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    ticket = created.json()
    assert set(ticket) >= CONTRACT_TICKET_FIELDS
    assert ticket["sla_state"] in SLA_STATES
    number = ticket["number"]

    listed = alice_api.get("/api/v1/tickets/")
    assert listed.status_code == 200
    [row] = [t for t in listed.json()["results"] if t["number"] == number]
    assert set(row) >= CONTRACT_TICKET_FIELDS

    url = f"/api/v1/tickets/{number}/"
    comment = alice_api.post(
        url + "comments/", {"body": "It started after 09:00 UTC."}, format="json"
    )
    assert comment.status_code == 201, comment.json()
    note = engineer_api.post(
        url + "comments/", {"body": "Queue worker restarted.", "internal": True}
    )
    assert note.status_code == 201, note.json()
    bodies = [c["body"] for c in alice_api.get(url + "comments/").json()["results"]]
    assert bodies == ["It started after 09:00 UTC."]  # never the internal note

    changed = engineer_api.patch(
        url,
        {"priority": 1, "priority_change_reason": "Every run of theirs waits."},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert alice_api.get(url).json()["priority"] == 1


def test_a_ticket_without_a_category_gets_one_from_its_text(alice_api):
    def create(subject: str, description: str) -> str:
        response = alice_api.post(
            "/api/v1/tickets/",
            {"subject": subject, "description": description, "priority": 3},
            format="json",
        )
        assert response.status_code == 201, response.json()
        return response.json()["category"]

    assert create("How do I rotate a token?", "Where is it in the UI?") == "question"
    assert create("Plan fails", "Error: provider crashed") == "bug"
    assert create("Feature request", "Please add SAML groups") == "enhancement"
    assert create("Terraform question", "Is OPA 1.0 supported?") == "question"


@pytest.mark.parametrize(
    ("subject", "description", "category"),
    [
        ("Runs stuck in pending", "", Category.BUG),
        ("Hello", "We get a 500 on the login page", Category.BUG),
        ("Idea", "It would be nice to have dark mode", Category.ENHANCEMENT),
        ("Billing", "Who do we talk to about invoices?", Category.QUESTION),
    ],
)
def test_the_category_read_from_the_text(subject, description, category):
    assert category_from_text(subject, description) == category
