"""/api/v1/tickets/: what a customer or an engineer notices when using the API."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import ContactFactory, StaffFactory, TicketFactory
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import PriorityChange, Ticket

pytestmark = pytest.mark.django_db

NEW_TICKET = {
    "subject": "Runs stuck in pending",
    "description": "New runs stay **pending** since the upgrade.",
    "priority": 1,
    "category": "bug",
}


def numbers(response) -> list[int]:
    return [item["number"] for item in response.json()["results"]]


# --- listing ------------------------------------------------------------------


def test_customer_lists_only_own_organisation_tickets(alice_api, alice, gina):
    own = TicketFactory(organization=alice.organization)
    TicketFactory(organization=gina.organization)

    response = alice_api.get("/api/v1/tickets/")

    assert response.status_code == 200
    assert numbers(response) == [own.number]


def test_staff_list_every_organisation_and_filter_by_one(engineer_api, alice, gina):
    acme = TicketFactory(organization=alice.organization)
    globex = TicketFactory(organization=gina.organization)

    everything = engineer_api.get("/api/v1/tickets/")
    only_globex = engineer_api.get(
        "/api/v1/tickets/", {"organization": gina.organization_id}
    )

    assert set(numbers(everything)) == {acme.number, globex.number}
    assert numbers(only_globex) == [globex.number]


def test_customer_filtering_by_another_organisation_gets_nothing(alice_api, gina):
    TicketFactory(organization=gina.organization)

    response = alice_api.get("/api/v1/tickets/", {"organization": gina.organization_id})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_list_filters_by_status_priority_and_update_time(alice_api, alice):
    org = alice.organization
    blocker = TicketFactory(
        organization=org,
        priority=0,
        status=Status.OPEN,
        last_activity_at=timezone.now(),
    )
    trivial = TicketFactory(organization=org, priority=4, status=Status.SOLVED)
    three_days_ago = timezone.now() - timedelta(days=3)
    Ticket.objects.filter(pk=trivial.pk).update(
        updated_at=three_days_ago, last_activity_at=three_days_ago
    )

    assert numbers(alice_api.get("/api/v1/tickets/", {"status": "open"})) == [
        blocker.number
    ]
    assert numbers(alice_api.get("/api/v1/tickets/", {"priority": 4})) == [
        trivial.number
    ]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert numbers(alice_api.get("/api/v1/tickets/", {"updated_since": since})) == [
        blocker.number
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "gossip"}, "status"),
        ({"priority": "9"}, "priority"),
        ({"organization": "acme"}, "organization"),
        ({"organization": str(10**30)}, "organization"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_filters_are_field_errors(alice_api, query, field):
    response = alice_api.get("/api/v1/tickets/", query)

    assert response.status_code == 400
    assert field in response.json()


def test_list_pages_by_cursor_fifty_at_a_time_newest_activity_first(alice_api, alice):
    now = timezone.now()
    created = [
        TicketFactory(
            organization=alice.organization, last_activity_at=now - timedelta(hours=i)
        )
        for i in range(55)
    ]

    first = alice_api.get("/api/v1/tickets/")
    second = alice_api.get(first.json()["next"])
    small = alice_api.get("/api/v1/tickets/", {"page_size": 5})

    assert numbers(first) == [t.number for t in created[:50]]
    assert numbers(second) == [t.number for t in created[50:]]
    assert second.json()["next"] is None
    assert second.json()["previous"]
    assert len(small.json()["results"]) == 5


def test_forged_cursor_position_is_a_400_not_a_server_error(alice_api):
    import base64

    forged = base64.b64encode(b"p=not-a-date&o=0").decode()

    response = alice_api.get("/api/v1/tickets/", {"cursor": forged})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor."]}


def test_list_query_count_does_not_grow_with_tickets(
    alice_api, alice, engineer_api, django_assert_max_num_queries
):
    for _ in range(3):
        TicketFactory(organization=alice.organization, assignee=StaffFactory())
    with django_assert_max_num_queries(6):
        small = alice_api.get("/api/v1/tickets/")
    for _ in range(40):
        TicketFactory(organization=alice.organization, assignee=StaffFactory())
    with django_assert_max_num_queries(6):
        large = alice_api.get("/api/v1/tickets/")
    with django_assert_max_num_queries(6):
        staff = engineer_api.get("/api/v1/tickets/")

    assert len(small.json()["results"]) == 3
    assert len(large.json()["results"]) == 43
    assert len(staff.json()["results"]) == 43


# --- one ticket --------------------------------------------------------------------


def test_another_organisations_ticket_is_not_found(alice_api, gina):
    foreign = TicketFactory(organization=gina.organization)

    response = alice_api.get(f"/api/v1/tickets/{foreign.number}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such ticket.", "code": "not_found"}


def test_huge_ticket_number_is_not_found(alice_api):
    assert alice_api.get(f"/api/v1/tickets/{10**30}/").status_code == 404


def test_staff_see_the_assignee_and_customers_do_not(
    alice_api, engineer_api, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization, assignee=engineer)

    customer = alice_api.get(f"/api/v1/tickets/{ticket.number}/").json()
    staff = engineer_api.get(f"/api/v1/tickets/{ticket.number}/").json()

    assert "assignee" not in customer
    assert staff["assignee"]["id"] == engineer.pk
    for field in ("number", "subject", "description", "priority", "status"):
        assert customer[field] == staff[field]
    assert customer["organization"] == {
        "id": alice.organization_id,
        "name": "Acme Corp",
    }


def test_detail_query_count_is_constant(
    alice_api, alice, engineer, django_assert_max_num_queries
):
    ticket = TicketFactory(organization=alice.organization)
    for reason in ("first", "second", "third"):
        services.ticket_priority_change(
            ticket=ticket,
            actor=engineer,
            priority=ticket.priority - 1 if ticket.priority else 4,
            reason=reason,
        )

    with django_assert_max_num_queries(7):
        response = alice_api.get(f"/api/v1/tickets/{ticket.number}/")

    assert [c["reason"] for c in response.json()["priority_changes"]] == [
        "first",
        "second",
        "third",
    ]


# --- opening tickets ------------------------------------------------------------------


def test_technical_contact_opens_a_ticket_with_json(alice_api, alice):
    response = alice_api.post("/api/v1/tickets/", NEW_TICKET, format="json")

    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get(number=body["number"])
    assert response["Location"] == f"/api/v1/tickets/{ticket.number}/"
    assert ticket.organization == alice.organization
    assert ticket.requester == alice.user
    assert ticket.status == Status.NEW
    assert body["deployment"] == alice.organization.deployment
    assert body["description_html"].count("<strong>pending</strong>") == 1


def test_technical_contact_opens_a_ticket_with_files(alice_api):
    response = alice_api.post(
        "/api/v1/tickets/",
        {
            **NEW_TICKET,
            "attachments": [
                SimpleUploadedFile("agent.log", b"boom"),
                SimpleUploadedFile("trace.txt", b"trace"),
            ],
        },
        format="multipart",
    )

    assert response.status_code == 201
    files = response.json()["attachments"]
    assert [f["filename"] for f in files] == ["agent.log", "trace.txt"]
    download = alice_api.get(files[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"boom"


def test_contact_who_is_not_technical_cannot_open_a_ticket(bob_api):
    response = bob_api.post("/api/v1/tickets/", NEW_TICKET, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert "technical contacts" in response.json()["detail"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"priority": 9}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"priority": 10**40}, "priority"),
        ({"category": "gossip"}, "category"),
        ({"description": None}, "description"),
        ({"subject": ["a list"]}, "subject"),
        ({"attachments": ["not a file"]}, "attachments"),
    ],
)
def test_bad_ticket_input_is_a_field_error_and_saves_nothing(
    alice_api, overrides, field
):
    response = alice_api.post(
        "/api/v1/tickets/", {**NEW_TICKET, **overrides}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Ticket.objects.exists()


def test_oversize_attachment_is_refused_with_its_name(alice_api, settings):
    settings.ATTACHMENT_MAX_BYTES = 3
    response = alice_api.post(
        "/api/v1/tickets/",
        {**NEW_TICKET, "attachments": [SimpleUploadedFile("huge.log", b"0123")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert "huge.log" in response.json()["attachments"][0]
    assert not Ticket.objects.exists()


def test_non_json_body_and_wrong_media_type_are_client_errors(alice_api):
    broken = alice_api.post(
        "/api/v1/tickets/", "{not json", content_type="application/json"
    )
    text = alice_api.post("/api/v1/tickets/", "hello", content_type="text/plain")

    assert broken.status_code == 400
    assert broken.json()["code"] == "parse_error"
    assert text.status_code == 415
    assert text.json()["code"] == "unsupported_media_type"


# --- changing tickets -----------------------------------------------------------------


def test_customer_closes_and_reopens_their_ticket(bob_api, bob):
    ticket = TicketFactory(organization=bob.organization, status=Status.OPEN)

    solved = bob_api.patch(
        f"/api/v1/tickets/{ticket.number}/", {"status": "solved"}, format="json"
    )
    reopened = bob_api.patch(
        f"/api/v1/tickets/{ticket.number}/", {"status": "open"}, format="json"
    )

    assert solved.status_code == 200
    assert solved.json()["status"] == "solved"
    assert reopened.json()["status"] == "open"


def test_customer_cannot_move_a_ticket_to_a_staff_status(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    response = alice_api.patch(
        f"/api/v1/tickets/{ticket.number}/", {"status": "on_hold"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


@pytest.mark.parametrize(
    "change",
    [
        {"priority": 0},
        {"assignee": 1},
        {"category": "question"},
        {"priority_change_reason": "urgent"},
    ],
)
def test_customer_cannot_change_staff_fields(alice_api, alice, change):
    ticket = TicketFactory(organization=alice.organization, priority=Priority.MINOR)

    response = alice_api.patch(
        f"/api/v1/tickets/{ticket.number}/", change, format="json"
    )

    assert response.status_code == 400
    (field,) = change
    assert response.json()[field] == ["Only Scalr support can set this field."]
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MINOR


def test_changing_another_organisations_ticket_is_not_found(alice_api, gina):
    foreign = TicketFactory(organization=gina.organization, status=Status.OPEN)

    response = alice_api.patch(
        f"/api/v1/tickets/{foreign.number}/", {"status": "solved"}, format="json"
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Status.OPEN


def test_staff_priority_change_needs_a_reason(engineer_api, alice):
    ticket = TicketFactory(organization=alice.organization, priority=Priority.MINOR)

    response = engineer_api.patch(
        f"/api/v1/tickets/{ticket.number}/", {"priority": 0}, format="json"
    )

    assert response.status_code == 400
    assert "priority_change_reason" in response.json()
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MINOR
    assert not PriorityChange.objects.exists()


def test_staff_reprioritise_with_a_reason_the_customer_then_sees(
    engineer_api, alice_api, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization, priority=Priority.MINOR)

    response = engineer_api.patch(
        f"/api/v1/tickets/{ticket.number}/",
        {
            "priority": 1,
            "priority_change_reason": "Production is affected.",
            "assignee": engineer.pk,
            "status": "open",
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["priority"] == 1
    assert response.json()["assignee"]["id"] == engineer.pk
    assert response.json()["status"] == "open"
    seen = alice_api.get(f"/api/v1/tickets/{ticket.number}/").json()
    assert seen["priority_changes"][0]["reason"] == "Production is affected."
    assert seen["priority_changes"][0]["from_priority"] == 3


@pytest.mark.parametrize("assignee", ["customer", "missing", "huge"])
def test_staff_can_only_assign_to_support_staff(engineer_api, alice, assignee):
    ticket = TicketFactory(organization=alice.organization, priority=Priority.MINOR)
    assignee_id = {
        "customer": ContactFactory().user_id,
        "missing": 987654321,
        "huge": 10**20,
    }[assignee]

    response = engineer_api.patch(
        f"/api/v1/tickets/{ticket.number}/",
        {
            "assignee": assignee_id,
            "priority": 0,
            "priority_change_reason": "Urgent",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "assignee" in response.json()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert ticket.priority == Priority.MINOR  # all or nothing


def test_staff_unassign_with_null(engineer_api, alice, engineer):
    ticket = TicketFactory(organization=alice.organization, assignee=engineer)

    response = engineer_api.patch(
        f"/api/v1/tickets/{ticket.number}/", {"assignee": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["assignee"] is None


# --- SLA fields (read from the SLA engine) ------------------------------------


def test_new_ticket_reports_its_first_response_clock(alice_api):
    body = alice_api.post("/api/v1/tickets/", NEW_TICKET, format="json").json()

    assert body["first_response_due_at"] is not None
    assert body["first_responded_at"] is None
    assert body["sla_state"] == "on_track"


def test_free_tier_tickets_are_best_effort(free_org):
    frank = ContactFactory(organization=free_org)
    from tests.api.conftest import token_client

    body = (
        token_client(frank.user)
        .post("/api/v1/tickets/", NEW_TICKET, format="json")
        .json()
    )

    assert body["sla_state"] == "best_effort"


def test_list_filters_by_sla_state(alice_api, engineer_api):
    number = alice_api.post("/api/v1/tickets/", NEW_TICKET, format="json").json()[
        "number"
    ]

    on_track = engineer_api.get("/api/v1/tickets/", {"sla_state": "on_track"})
    breached = engineer_api.get("/api/v1/tickets/", {"sla_state": "breached"})

    assert number in numbers(on_track)
    assert number not in numbers(breached)
    assert {t["sla_state"] for t in on_track.json()["results"]} == {"on_track"}


def test_an_internal_note_moves_neither_the_customers_updated_at_nor_their_sync(
    alice_api, engineer_api, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    week_ago = timezone.now() - timedelta(days=7)
    Ticket.objects.filter(pk=ticket.pk).update(
        updated_at=week_ago, last_activity_at=week_ago
    )
    since = (timezone.now() - timedelta(minutes=1)).isoformat()

    services.comment_create(
        ticket=ticket, author=engineer, body="Customer is on 9.1", is_public=False
    )
    services.ticket_assign(ticket=ticket, actor=engineer, assignee=engineer)

    mine = alice_api.get(f"/api/v1/tickets/{ticket.number}/").json()
    assert mine["updated_at"] == mine["last_activity_at"]
    assert mine["updated_at"].startswith(week_ago.date().isoformat())
    assert numbers(alice_api.get("/api/v1/tickets/", {"updated_since": since})) == []
    # Staff still see every change.
    assert numbers(engineer_api.get("/api/v1/tickets/", {"updated_since": since})) == [
        ticket.number
    ]

    services.comment_create(ticket=ticket, author=engineer, body="Try 9.2, please")

    assert numbers(alice_api.get("/api/v1/tickets/", {"updated_since": since})) == [
        ticket.number
    ]
