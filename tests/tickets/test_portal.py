"""The customer portal over real HTTP with the Django test client."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import EmailDelivery, Event
from notifications.services import deliveries_send_for_event
from scalr_support.accounts.password_reset import password_reset_queue
from tests.conftest import signed_in
from tests.factories import CommentFactory, ContactFactory, TicketFactory, tier
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import Attachment, Comment, Ticket

pytestmark = pytest.mark.django_db


def send_password_resets() -> None:
    """What the workers do: each request's task, then the outbox's mail."""
    for email in ("alice@acme.example.com", "ghost@example.com"):
        password_reset_queue(email=email, request_key=email)
    for key in EmailDelivery.objects.filter(event=Event.PASSWORD_RESET).values_list(
        "event_key", flat=True
    ):
        deliveries_send_for_event(event_key=key)


def new_ticket_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "subject": "Runs stuck in pending",
        "priority": "1",
        "category": "bug",
        "deployment": "on_prem",
        "version_reported": "9.4.1",
        "description": "New runs stay pending.",
    }
    data.update(overrides)
    return data


# --- signing in -------------------------------------------------------------


def test_sign_in_with_email_and_password(client, alice):
    response = client.post(
        reverse("login"),
        {
            "username": "Alice@Acme.example.com",
            "password": "correct-horse-battery-staple",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:list")


def test_wrong_password_and_unknown_account_answer_the_same(client, alice):
    wrong = client.post(
        reverse("login"), {"username": alice.user.email, "password": "nope"}
    )
    unknown = client.post(
        reverse("login"), {"username": "nobody@example.com", "password": "nope"}
    )

    assert wrong.status_code == unknown.status_code == 200
    assert (
        wrong.context["form"].non_field_errors()
        == unknown.context["form"].non_field_errors()
    )


def test_repeated_failures_lock_the_login(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"), {"username": alice.user.email, "password": "nope"}
        )

    response = client.post(
        reverse("login"),
        {"username": alice.user.email, "password": "correct-horse-battery-staple"},
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_ignores_offsite_next(client, alice):
    response = client.post(
        reverse("login") + "?next=https://evil.example.com/",
        {
            "username": alice.user.email,
            "password": "correct-horse-battery-staple",
            "next": "https://evil.example.com/",
        },
    )

    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil")


def test_sign_out_is_a_post(alice_client):
    assert alice_client.get(reverse("logout")).status_code == 405
    response = alice_client.post(reverse("logout"))
    assert response.status_code == 302
    assert alice_client.get(reverse("tickets:list")).status_code == 302


def test_password_reset_sends_a_link_to_known_accounts_only(
    client, alice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("password_reset"), {"email": alice.user.email})
        unknown = client.post(reverse("password_reset"), {"email": "ghost@example.com"})
    send_password_resets()

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [alice.user.email]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_pages_require_sign_in(client):
    response = client.get(reverse("tickets:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- tenant isolation ---------------------------------------------------------


def test_customer_sees_only_own_organisation_tickets(alice_client, alice, gina):
    own = TicketFactory(organization=alice.organization, subject="Acme pipeline broken")
    foreign = TicketFactory(
        organization=gina.organization, subject="Globex secret project"
    )

    page = alice_client.get(reverse("tickets:list")).content.decode()
    searched = alice_client.get(
        reverse("tickets:list"), {"q": "secret"}
    ).content.decode()

    assert own.subject in page
    assert foreign.subject not in page
    assert foreign.subject not in searched


def test_other_organisations_ticket_is_not_found(alice_client, gina):
    foreign = TicketFactory(organization=gina.organization)

    assert (
        alice_client.get(reverse("tickets:detail", args=[foreign.number])).status_code
        == 404
    )


def test_commenting_on_another_organisations_ticket_is_not_found(alice_client, gina):
    foreign = TicketFactory(organization=gina.organization)

    response = alice_client.post(
        reverse("tickets:comment", args=[foreign.number]), {"body": "hello"}
    )

    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_solving_another_organisations_ticket_is_not_found(alice_client, gina):
    foreign = TicketFactory(organization=gina.organization, status=Status.OPEN)

    response = alice_client.post(reverse("tickets:solve", args=[foreign.number]))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Status.OPEN


def test_downloading_another_organisations_attachment_is_not_found(alice_client, gina):
    foreign = services.ticket_create(
        requester=gina.user,
        data=services.TicketInput("Logs", "see file", 3, "bug", "saas"),
        files=[SimpleUploadedFile("secret.txt", b"globex secret")],
    )
    attachment = foreign.attachments.get()

    response = alice_client.get(
        reverse("tickets:attachment", args=[foreign.number, attachment.pk])
    )

    assert response.status_code == 404


def test_attachment_of_own_ticket_is_downloaded_not_rendered(alice_client, alice):
    ticket = services.ticket_create(
        requester=alice.user,
        data=services.TicketInput("Logs", "see file", 3, "bug", "saas"),
        files=[SimpleUploadedFile("page.html", b"<script>alert(1)</script>")],
    )
    attachment = ticket.attachments.get()

    response = alice_client.get(
        reverse("tickets:attachment", args=[ticket.number, attachment.pk])
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="page.html"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_attachment_id_of_another_ticket_is_not_found_through_own_ticket(
    alice_client, alice, gina
):
    own = TicketFactory(organization=alice.organization)
    foreign = services.ticket_create(
        requester=gina.user,
        data=services.TicketInput("Logs", "see file", 3, "bug", "saas"),
        files=[SimpleUploadedFile("secret.txt", b"globex secret")],
    )

    response = alice_client.get(
        reverse("tickets:attachment", args=[own.number, foreign.attachments.get().pk])
    )

    assert response.status_code == 404


def test_internal_notes_and_their_files_never_reach_customers(
    alice_client, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization)
    services.comment_create(ticket=ticket, author=engineer, body="Visible answer")
    note = services.comment_create(
        ticket=ticket,
        author=engineer,
        body="CANARY-internal-7f3a",
        is_public=False,
        files=[SimpleUploadedFile("internal-dump.txt", b"internal")],
    )

    page = alice_client.get(
        reverse("tickets:detail", args=[ticket.number])
    ).content.decode()
    download = alice_client.get(
        reverse("tickets:attachment", args=[ticket.number, note.attachments.get().pk])
    )

    assert "Visible answer" in page
    assert "CANARY-internal-7f3a" not in page
    assert "internal-dump.txt" not in page
    assert download.status_code == 404


def test_staff_see_internal_notes_in_the_portal(engineer_client, engineer):
    ticket = TicketFactory()
    services.comment_create(
        ticket=ticket, author=engineer, body="CANARY-note", is_public=False
    )

    page = engineer_client.get(
        reverse("tickets:detail", args=[ticket.number])
    ).content.decode()

    assert "CANARY-note" in page


def test_each_file_is_listed_under_the_text_it_came_with(
    alice_client, alice, engineer_client, engineer
):
    ticket = services.ticket_create(
        requester=alice.user,
        data=services.TicketInput("Logs", "see file", 3, "bug", "saas"),
        files=[SimpleUploadedFile("description.log", b"d")],
    )
    services.comment_create(
        ticket=ticket,
        author=engineer,
        body="Answer",
        files=[SimpleUploadedFile("answer.txt", b"a")],
    )
    services.comment_create(
        ticket=ticket,
        author=engineer,
        body="Note",
        is_public=False,
        files=[SimpleUploadedFile("note.txt", b"n")],
    )
    url = reverse("tickets:detail", args=[ticket.number])

    customer_page = alice_client.get(url).content.decode()
    staff_page = engineer_client.get(url).content.decode()

    description, answer = customer_page.split('id="comment-')[:2]
    assert "description.log" in description
    assert "answer.txt" in answer
    assert "description.log" not in answer
    assert "note.txt" not in customer_page
    assert "note.txt" in staff_page.split("tag-internal")[1]


def test_unknown_ticket_number_is_not_found(alice_client):
    assert alice_client.get("/tickets/99999999999999999999/").status_code == 404


# --- filing tickets ----------------------------------------------------------


def test_technical_contact_files_a_ticket_with_an_attachment(alice_client, alice):
    response = alice_client.post(
        reverse("tickets:new"),
        new_ticket_form(attachments=[SimpleUploadedFile("agent.log", b"boom")]),
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.number])
    assert ticket.organization == alice.organization
    assert ticket.attachments.get().filename == "agent.log"
    detail = alice_client.get(response["Location"]).content.decode()
    assert f"#{ticket.number}" in detail
    assert "agent.log" in detail


def test_new_ticket_form_shows_priority_help_with_tier_targets(alice_client):
    page = alice_client.get(reverse("tickets:new")).content.decode()

    assert "Production use of the Software is stopped" in page
    assert "2 hours" in page
    assert "2 business days" in page


def test_free_tier_form_shows_best_effort_targets(free_org):
    frank = ContactFactory(organization=free_org)
    page = signed_in(frank.user).get(reverse("tickets:new")).content.decode()

    assert "best effort" in page
    assert "2 hours" not in page.split("Business support adds")[0]


def test_contact_who_is_not_technical_cannot_file(bob_client):
    get = bob_client.get(reverse("tickets:new"))
    post = bob_client.post(reverse("tickets:new"), new_ticket_form())

    assert get.status_code == post.status_code == 403
    assert "technical contacts" in post.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subject": ""}, "subject", "This field is required."),
        ({"priority": "9"}, "priority", "Select a valid choice."),
        ({"description": ""}, "description", "This field is required."),
        ({"category": "gossip"}, "category", "Select a valid choice."),
    ],
)
def test_bad_ticket_input_shows_inline_errors_and_saves_nothing(
    alice_client, overrides, field, message
):
    response = alice_client.post(reverse("tickets:new"), new_ticket_form(**overrides))

    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert "Nothing was saved" in response.content.decode()
    assert not Ticket.objects.exists()


def test_oversize_attachment_shows_inline_error_and_keeps_input(alice_client, settings):
    settings.ATTACHMENT_MAX_BYTES = 5
    response = alice_client.post(
        reverse("tickets:new"),
        new_ticket_form(attachments=[SimpleUploadedFile("huge.log", b"0123456789")]),
    )

    assert response.status_code == 400
    assert "huge.log" in response.context["form"].errors["attachments"][0]
    assert 'value="Runs stuck in pending"' in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


# --- the thread ----------------------------------------------------------------


def test_contact_comments_with_an_attachment(bob_client, bob):
    ticket = TicketFactory(organization=bob.organization)

    response = bob_client.post(
        reverse("tickets:comment", args=[ticket.number]),
        {
            "body": "Also seeing **this**",
            "attachments": [SimpleUploadedFile("x.txt", b"x")],
        },
    )

    assert response.status_code == 302
    comment = ticket.comments.get()
    assert comment.author == bob.user
    assert comment.source == "portal"
    assert comment.attachments.get().filename == "x.txt"
    page = bob_client.get(
        reverse("tickets:detail", args=[ticket.number])
    ).content.decode()
    assert "<strong>this</strong>" in page


def test_empty_comment_shows_an_inline_error(alice_client, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]), {"body": ""}
    )

    assert response.status_code == 400
    assert "Write a comment" in response.content.decode()
    assert not Comment.objects.exists()


def test_comment_on_closed_ticket_is_refused_with_a_message(alice_client, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.CLOSED)

    page = alice_client.get(
        reverse("tickets:detail", args=[ticket.number])
    ).content.decode()
    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]), {"body": "hi"}
    )

    assert "This ticket is closed" in page
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_priority_change_and_reason_are_visible_to_the_customer(
    alice_client, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization, priority=Priority.BLOCKER)
    services.ticket_priority_change(
        ticket=ticket,
        actor=engineer,
        priority=Priority.MINOR,
        reason="A workaround exists, so production is not stopped.",
    )

    page = alice_client.get(
        reverse("tickets:detail", args=[ticket.number])
    ).content.decode()

    assert "P0 Blocker" in page
    assert "P3 Minor" in page
    assert "A workaround exists, so production is not stopped." in page


def test_customer_marks_solved_then_reopens_from_the_page(alice_client, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    alice_client.post(reverse("tickets:solve", args=[ticket.number]))
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED

    alice_client.post(reverse("tickets:reopen", args=[ticket.number]))
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_get_never_changes_a_ticket(alice_client, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    assert (
        alice_client.get(reverse("tickets:solve", args=[ticket.number])).status_code
        == 405
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_state_changes_require_csrf_token(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    response = client.post(reverse("tickets:solve", args=[ticket.number]))

    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


# --- list: filters, search, pages -------------------------------------------------


def test_a_search_for_a_unicode_digit_is_a_text_search_not_an_error(
    alice_client, alice
):
    TicketFactory(organization=alice.organization, subject="Squared ² units")

    def search(term: str) -> tuple[int, str]:
        response = alice_client.get(reverse("tickets:list"), {"q": term})
        return response.status_code, response.content.decode()

    assert search("#²")[0] == 200
    status, page = search("²")
    assert status == 200
    assert "Squared ² units" in page


def test_list_filters_by_status_and_priority_and_searches(alice_client, alice):
    org = alice.organization
    TicketFactory(
        organization=org, subject="Blocker open", priority=0, status=Status.OPEN
    )
    TicketFactory(
        organization=org, subject="Trivial solved", priority=4, status=Status.SOLVED
    )
    numbered = TicketFactory(organization=org, subject="Find me by number")

    def subjects(**query: object) -> str:
        return alice_client.get(reverse("tickets:list"), query).content.decode()

    assert "Blocker open" in subjects(status="open")
    assert "Trivial solved" not in subjects(status="open")
    # The list shows open tickets unless asked for others.
    assert "Trivial solved" not in subjects(priority=4)
    assert "Trivial solved" in subjects(priority=4, status="any")
    assert "Trivial solved" in subjects(status=["solved", "closed"])
    assert "Blocker open" not in subjects(priority=4, status="any")
    assert "Find me by number" in subjects(q=f"#{numbered.number}")
    assert "Blocker open" in subjects(q="blocker")


def test_list_is_paginated_newest_activity_first(alice_client, alice):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for i in range(30):
        TicketFactory(
            organization=alice.organization,
            subject=f"Ticket {i:02d}",
            last_activity_at=now - timedelta(minutes=i),
        )

    first = alice_client.get(reverse("tickets:list")).content.decode()
    second = alice_client.get(reverse("tickets:list"), {"page": 2}).content.decode()

    assert first.index("Ticket 00") < first.index("Ticket 01")
    assert "Ticket 29" not in first
    assert "Ticket 29" in second
    assert "Page 2 of 2" in second


def test_invalid_filter_values_do_not_break_the_list(alice_client):
    response = alice_client.get(
        reverse("tickets:list"), {"priority": "x", "page": "zz"}
    )
    assert response.status_code == 200


# --- entitlements --------------------------------------------------------------


def test_business_customers_see_slack_invite_and_realtime_note(alice_client, settings):
    page = alice_client.get(reverse("tickets:list")).content.decode()

    assert settings.SLACK_COMMUNITY_INVITE_URL in page
    assert "video session" in page


def test_free_customers_see_what_business_adds(free_org, settings):
    frank = ContactFactory(organization=free_org)
    page = signed_in(frank.user).get(reverse("tickets:list")).content.decode()

    assert settings.SLACK_COMMUNITY_INVITE_URL not in page
    assert "Business support adds" in page
    assert "cannot guarantee" in page


def test_times_are_shown_in_the_organisations_timezone(alice_client, alice):
    from datetime import UTC, datetime

    alice.organization.timezone = "America/New_York"
    alice.organization.save(update_fields=["timezone"])
    TicketFactory(
        organization=alice.organization,
        last_activity_at=datetime(2026, 1, 15, 15, 30, tzinfo=UTC),
    )

    page = alice_client.get(reverse("tickets:list")).content.decode()

    assert "15 Jan 2026, 10:30" in page


# --- constant query counts ----------------------------------------------------------


@pytest.mark.parametrize("count", [1, 50])
def test_ticket_list_query_count_is_constant(
    alice_client, alice, django_assert_max_num_queries, count
):
    TicketFactory.create_batch(count, organization=alice.organization)

    with django_assert_max_num_queries(6):
        response = alice_client.get(reverse("tickets:list"))

    assert response.status_code == 200


@pytest.mark.parametrize("count", [1, 50])
def test_ticket_detail_query_count_is_constant(
    alice_client, alice, engineer, django_assert_max_num_queries, count
):
    ticket = TicketFactory(organization=alice.organization)
    for i in range(count):
        author = engineer if i % 2 else alice.user
        CommentFactory(ticket=ticket, author=author)
    services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.BLOCKER, reason="Prod down"
    )

    with django_assert_max_num_queries(10):
        response = alice_client.get(reverse("tickets:detail", args=[ticket.number]))

    assert response.status_code == 200
    assert response.content.decode().count('class="entry card') == count


def test_a_cached_ticket_page_reads_only_the_ticket_row(
    alice_client,
    alice,
    engineer,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
    settle_cache_bumps,
):
    settle_cache_bumps()  # the contacts the fixtures made
    with django_capture_on_commit_callbacks(execute=True):  # committed, as it were
        ticket = TicketFactory(organization=alice.organization)
        CommentFactory.create_batch(3, ticket=ticket, author=engineer)
    url = reverse("tickets:detail", args=[ticket.number])
    alice_client.get(url)

    # session, user, contact (middleware), then the ticket through the gate
    with django_assert_max_num_queries(4):
        response = alice_client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count('class="entry card') == 3


def test_staff_list_shows_every_organisation(engineer_client, alice, gina):
    TicketFactory(organization=alice.organization, subject="From Acme")
    TicketFactory(organization=gina.organization, subject="From Globex")

    page = engineer_client.get(reverse("tickets:list")).content.decode()

    assert "From Acme" in page
    assert "From Globex" in page


def test_tier_fixture_is_seeded():
    assert tier("business").guaranteed_response is True
    assert tier("free").guaranteed_response is False


def test_a_ticket_filed_without_a_category_gets_one_from_its_text(alice_client):
    response = alice_client.post(
        reverse("tickets:new"),
        new_ticket_form(
            category="", subject="Agent crashed", description="It fails on start."
        ),
    )

    assert response.status_code == 302
    assert Ticket.objects.get(subject="Agent crashed").category == "bug"
