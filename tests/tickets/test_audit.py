"""Every category and scope change records who made it, whichever way it came."""

import pytest

from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Category, ScopeExclusion
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
