"""Who changed a ticket: audit rows, and top-level writes in their own transaction."""

import pytest
from django.db import transaction

from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Category, ScopeExclusion, Status
from tickets.workspace.models import AuditAction, TicketAudit

pytestmark = pytest.mark.django_db


def test_category_and_scope_changes_record_their_actor_and_values(engineer):
    ticket = TicketFactory(category=Category.BUG)

    services.ticket_category_change(
        ticket=ticket, actor=engineer, category=Category.QUESTION
    )
    services.ticket_scope_set(
        ticket=ticket, actor=engineer, scope_exclusion=ScopeExclusion.MODIFIED_SOFTWARE
    )
    services.ticket_category_change(
        ticket=ticket, actor=engineer, category=Category.QUESTION
    )  # no change, no row

    rows = list(
        TicketAudit.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("action", "actor", "from_value", "to_value")
    )
    assert rows == [
        (
            AuditAction.CATEGORY,
            engineer.pk,
            str(Category.BUG.label),
            str(Category.QUESTION.label),
        ),
        (
            AuditAction.SCOPE,
            engineer.pk,
            "",
            str(ScopeExclusion.MODIFIED_SOFTWARE.label),
        ),
    ]


def test_a_triage_records_one_row_per_changed_field(engineer):
    ticket = TicketFactory(category=Category.BUG)

    services.ticket_triage(
        ticket=ticket,
        actor=engineer,
        changes=services.TriageInput(
            status=ticket.status,
            priority=ticket.priority,
            assignee=engineer,
            category=Category.QUESTION,
            scope_exclusion=ScopeExclusion.MODIFIED_SOFTWARE,
        ),
    )

    assert sorted(
        TicketAudit.objects.filter(ticket=ticket).values_list("action", flat=True)
    ) == sorted([AuditAction.ASSIGNEE, AuditAction.CATEGORY, AuditAction.SCOPE])


def test_top_level_writes_refuse_to_nest_and_their_within_twins_join(engineer):
    ticket = TicketFactory(status=Status.OPEN)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_status_change(
            ticket=ticket, actor=engineer, status=Status.ON_HOLD
        )
    with transaction.atomic():
        services.ticket_status_change_within(
            ticket=ticket, actor=engineer, status=Status.ON_HOLD
        )

    ticket.refresh_from_db()
    assert ticket.status == Status.ON_HOLD
    assert TicketAudit.objects.filter(
        ticket=ticket, action=AuditAction.STATUS, actor=engineer
    ).exists()
