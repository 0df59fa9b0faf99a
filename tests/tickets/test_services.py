"""The ticket rules, exercised through the services every interface uses."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from scalr_support.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import StaffFactory, TicketFactory
from tickets import services
from tickets.choices import Category, Deployment, Priority, Status
from tickets.models import Attachment, Comment, PriorityChange, Ticket

pytestmark = pytest.mark.django_db


def ticket_input(**overrides: object) -> services.TicketInput:
    values: dict[str, object] = {
        "subject": "Runs stuck in pending",
        "description": "New runs stay pending since the upgrade.",
        "priority": Priority.CRITICAL,
        "category": Category.BUG,
        "deployment": Deployment.ON_PREM,
        "version_reported": "9.4.1",
    }
    values.update(overrides)
    return services.TicketInput(**values)  # type: ignore[arg-type]


def test_technical_contact_opens_ticket_for_own_organisation(alice):
    ticket = services.ticket_create(requester=alice.user, data=ticket_input())

    assert ticket.organization == alice.organization
    assert ticket.requester == alice.user
    assert ticket.status == Status.NEW
    assert ticket.priority == Priority.CRITICAL


def test_ticket_numbers_are_sequential(alice):
    first = services.ticket_create(requester=alice.user, data=ticket_input())
    second = services.ticket_create(requester=alice.user, data=ticket_input())

    assert second.number == first.number + 1


def test_contact_who_is_not_technical_cannot_open_ticket(bob):
    with pytest.raises(NotAllowed):
        services.ticket_create(requester=bob.user, data=ticket_input())

    assert not Ticket.objects.exists()


def test_staff_without_membership_cannot_open_ticket_as_customer(engineer):
    with pytest.raises(NotAllowed):
        services.ticket_create(requester=engineer, data=ticket_input())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"description": ""}, "description"),
        ({"priority": 7}, "priority"),
        ({"category": "gossip"}, "category"),
        ({"deployment": "mainframe"}, "deployment"),
    ],
)
def test_invalid_ticket_input_is_refused_and_nothing_is_written(
    alice, overrides, field
):
    with pytest.raises(ValidationFailed) as refused:
        services.ticket_create(requester=alice.user, data=ticket_input(**overrides))

    assert refused.value.field == field
    assert not Ticket.objects.exists()


def test_description_markdown_is_rendered_and_scripts_removed(alice):
    ticket = services.ticket_create(
        requester=alice.user,
        data=ticket_input(
            description="**bold** <script>alert(1)</script> [x](javascript:alert(1))"
        ),
    )

    assert "<strong>bold</strong>" in ticket.description_html
    assert "<script" not in ticket.description_html
    assert "javascript:" not in ticket.description_html


def test_attachments_are_stored_under_generated_names(alice):
    upload = SimpleUploadedFile("../../etc/passwd.log", b"agent log line\n")

    ticket = services.ticket_create(
        requester=alice.user, data=ticket_input(), files=[upload]
    )

    attachment = ticket.attachments.get()
    assert attachment.filename == "passwd.log"
    assert "passwd" not in attachment.file.name
    assert attachment.file.name.startswith("attachments/")
    assert attachment.size == len(b"agent log line\n")
    assert attachment.file.read() == b"agent log line\n"


def test_oversize_attachment_refuses_the_whole_ticket(alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.log", b"x" * 11)

    with pytest.raises(ValidationFailed, match=r"big\.log"):
        services.ticket_create(
            requester=alice.user, data=ticket_input(), files=[upload]
        )

    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_too_many_attachments_are_refused(alice, settings):
    settings.ATTACHMENT_MAX_COUNT = 2
    uploads = [SimpleUploadedFile(f"f{i}.txt", b"data") for i in range(3)]

    with pytest.raises(ValidationFailed, match="At most 2"):
        services.ticket_create(requester=alice.user, data=ticket_input(), files=uploads)


def test_failed_creation_removes_files_already_stored(
    alice, settings, monkeypatch, tmp_path
):
    uploads = [SimpleUploadedFile("a.txt", b"one"), SimpleUploadedFile("b.txt", b"two")]
    original_save = Attachment.save
    calls = {"n": 0}

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Attachment, "save", failing_save)

    with pytest.raises(RuntimeError):
        services.ticket_create(requester=alice.user, data=ticket_input(), files=uploads)

    assert not Ticket.objects.exists()
    stored = [
        p for p in (settings.MEDIA_ROOT / "attachments").rglob("*") if p.is_file()
    ]
    assert stored == []


def test_any_contact_of_the_organisation_can_comment(bob):
    ticket = TicketFactory(organization=bob.organization)

    comment = services.comment_create(ticket=ticket, author=bob.user, body="Same here.")

    assert comment.is_public
    assert comment.ticket == ticket


def test_customer_cannot_write_internal_note(alice):
    ticket = TicketFactory(organization=alice.organization)

    with pytest.raises(NotAllowed):
        services.comment_create(
            ticket=ticket, author=alice.user, body="psst", is_public=False
        )


def test_empty_comment_is_refused(alice):
    ticket = TicketFactory(organization=alice.organization)

    with pytest.raises(ValidationFailed):
        services.comment_create(ticket=ticket, author=alice.user, body="  \n ")

    assert not Comment.objects.exists()


def test_support_reply_waits_on_customer_and_customer_reply_reopens(alice, engineer):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    services.comment_create(
        ticket=ticket, author=engineer, body="Try restarting the agent."
    )
    assert ticket.status == Status.WAITING_ON_CUSTOMER

    services.comment_create(ticket=ticket, author=alice.user, body="Did not help.")
    assert ticket.status == Status.OPEN
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_internal_note_changes_neither_status_nor_activity(alice, engineer):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    before = ticket.last_activity_at

    services.comment_create(
        ticket=ticket, author=engineer, body="Looks like #123", is_public=False
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.last_activity_at == before


def test_customer_cannot_comment_on_closed_ticket(alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.CLOSED)

    with pytest.raises(InvalidTransition, match="closed"):
        services.comment_create(ticket=ticket, author=alice.user, body="One more thing")


def test_customer_marks_solved_and_reopens(alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    services.ticket_status_change(ticket=ticket, actor=alice.user, status=Status.SOLVED)
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert ticket.solved_at is not None

    services.ticket_status_change(ticket=ticket, actor=alice.user, status=Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Status.OPEN, Status.ON_HOLD),
        (Status.OPEN, Status.CLOSED),
        (Status.CLOSED, Status.OPEN),
        (Status.NEW, Status.OPEN),
    ],
)
def test_customer_cannot_make_support_only_status_moves(alice, start, target):
    ticket = TicketFactory(organization=alice.organization, status=start)

    with pytest.raises(InvalidTransition):
        services.ticket_status_change(ticket=ticket, actor=alice.user, status=target)

    ticket.refresh_from_db()
    assert ticket.status == start


def test_priority_change_requires_a_reason(engineer):
    ticket = TicketFactory(priority=Priority.MINOR)

    with pytest.raises(ValidationFailed) as refused:
        services.ticket_priority_change(
            ticket=ticket, actor=engineer, priority=Priority.BLOCKER, reason="  "
        )

    assert refused.value.field == "priority_change_reason"
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MINOR
    assert not PriorityChange.objects.exists()


@pytest.mark.parametrize(
    ("old", "new"),
    [(Priority.MINOR, Priority.BLOCKER), (Priority.BLOCKER, Priority.TRIVIAL)],
)
def test_priority_changes_up_or_down_are_recorded(engineer, old, new):
    ticket = TicketFactory(priority=old)

    change = services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=new, reason="Impact reassessed."
    )

    ticket.refresh_from_db()
    assert ticket.priority == new
    assert (change.from_priority, change.to_priority) == (old, new)
    assert change.changed_by == engineer
    assert change.reason == "Impact reassessed."


def test_customer_cannot_change_priority(alice):
    ticket = TicketFactory(organization=alice.organization)

    with pytest.raises(NotAllowed):
        services.ticket_priority_change(
            ticket=ticket, actor=alice.user, priority=Priority.BLOCKER, reason="Urgent!"
        )


def test_tickets_are_assigned_to_staff_only(engineer, alice):
    ticket = TicketFactory(organization=alice.organization)

    services.ticket_assign(ticket=ticket, actor=engineer, assignee=engineer)
    ticket.refresh_from_db()
    assert ticket.assignee == engineer

    with pytest.raises(ValidationFailed):
        services.ticket_assign(ticket=ticket, actor=engineer, assignee=alice.user)


def test_triage_applies_reply_and_changes_together(engineer):
    ticket = TicketFactory(priority=Priority.MINOR, status=Status.NEW)
    other = StaffFactory()

    services.ticket_triage(
        ticket=ticket,
        actor=engineer,
        changes=services.TriageInput(
            status=Status.ON_HOLD,
            priority=Priority.CRITICAL,
            priority_change_reason="Production is down.",
            assignee=other,
            category=Category.QUESTION,
            reply="We are on it.",
        ),
    )

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.category) == (
        Status.ON_HOLD,
        Priority.CRITICAL,
        other,
        Category.QUESTION,
    )
    assert ticket.comments.get().body == "We are on it."
    assert ticket.priority_changes.get().reason == "Production is down."


def test_triage_is_all_or_nothing(engineer):
    ticket = TicketFactory(priority=Priority.MINOR)

    with pytest.raises(ValidationFailed):
        services.ticket_triage(
            ticket=ticket,
            actor=engineer,
            changes=services.TriageInput(
                status=ticket.status, priority=Priority.BLOCKER, reply="On it."
            ),
        )

    assert not Comment.objects.exists()
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MINOR


def test_close_solved_tickets_closes_only_old_solved_ones_once(settings):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    old = TicketFactory(status=Status.SOLVED, solved_at=now - timedelta(days=8))
    recent = TicketFactory(status=Status.SOLVED, solved_at=now - timedelta(days=1))
    open_ticket = TicketFactory(status=Status.OPEN)

    assert services.tickets_close_solved(now=now) == 1
    assert services.tickets_close_solved(now=now) == 0

    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: Status.CLOSED,
        recent.pk: Status.SOLVED,
        open_ticket.pk: Status.OPEN,
    }
