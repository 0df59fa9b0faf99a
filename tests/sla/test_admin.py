"""Where support sees the SLA: the queue, the ticket page, targets, the report."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sla import calculations
from sla.calendars import business_calendar
from sla.models import (
    BusinessCalendar,
    RecomputationReason,
    ResponseClock,
    ResponseTarget,
    SlaChangeAction,
    SlaChangeEntry,
)
from sla.services import sla_transitions_record
from tests.conftest import signed_in
from tests.factories import tier
from tickets import services
from tickets.choices import Priority

from .conftest import move_back, open_ticket, running

pytestmark = pytest.mark.django_db

QUEUE = "admin:tickets_ticket_changelist"


def test_queue_orders_by_priority_then_due_time_with_best_effort_last(
    support_engineer, alice, frank
):
    free_blocker = open_ticket(frank, Priority.BLOCKER)
    late_blocker = open_ticket(alice, Priority.BLOCKER)
    early_blocker = open_ticket(alice, Priority.BLOCKER)
    move_back(early_blocker, timedelta(minutes=20))
    critical = open_ticket(alice, Priority.CRITICAL)
    for ticket, subject in (
        (free_blocker, "free blocker"),
        (late_blocker, "late blocker"),
        (early_blocker, "early blocker"),
        (critical, "critical one"),
    ):
        type(ticket).objects.filter(pk=ticket.pk).update(subject=subject)

    html = signed_in(support_engineer).get(reverse(QUEUE)).content.decode()

    assert (
        html.index("early blocker")
        < html.index("late blocker")
        < html.index("free blocker")
        < html.index("critical one")
    )
    assert 'class="sla-state sla-on_track"' in html
    assert 'class="sla-state sla-best_effort"' in html
    assert "tickets/workspace/workspace.css" in html


def test_queue_filters_at_risk_and_breached(support_engineer, alice):
    calm = open_ticket(alice, Priority.BLOCKER)
    risky = open_ticket(alice, Priority.BLOCKER)
    late = open_ticket(alice, Priority.BLOCKER)
    move_back(risky, timedelta(minutes=100))
    move_back(late, timedelta(hours=3))
    client = signed_in(support_engineer)

    def numbers(state: str) -> set[int]:
        response = client.get(reverse(QUEUE), {"sla": state})
        return {ticket.number for ticket in response.context_data["rows"]}

    assert numbers("at_risk") == {risky.number}
    assert numbers("breached") == {late.number}
    assert numbers("on_track") == {calm.number}


def test_ticket_page_explains_the_due_time(support_engineer, alice, engineer):
    ticket = open_ticket(alice, Priority.MINOR)
    services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.TRIVIAL, reason="Question"
    )

    page = signed_in(support_engineer).get(
        reverse("admin:tickets_ticket_change", args=[ticket.pk])
    )
    html = page.content.decode()

    assert page.status_code == 200
    assert "why this due time" in html
    assert "Support hours (default)" in html
    assert "Mon-Fri 09:00-17:00 (UTC)" in html
    assert "outside working hours" in html
    assert "1 business day → 2 business days" in html


def test_engineers_view_targets_but_only_managers_change_them(
    support_engineer, support_manager, alice
):
    ticket = open_ticket(alice, Priority.BLOCKER)
    target = ResponseTarget.objects.get(tier=tier("business"), priority=0)
    url = reverse("admin:sla_responsetarget_change", args=[target.pk])
    form = {
        "amount": 1,
        "unit": "h",
        "clock": "24x7",
        "guaranteed": "on",
    }

    assert signed_in(support_engineer).post(url, form).status_code == 403
    response = signed_in(support_manager).post(url, form)

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.amount == 1
    clock = running(ticket)
    assert clock.due_at == clock.started_at + timedelta(hours=1)
    entry = SlaChangeEntry.objects.get(target=target)  # the refused POST wrote none
    assert (entry.action, entry.actor) == (SlaChangeAction.TARGET_SET, support_manager)
    assert entry.changes == {"target": ["2 hours", "1 hour"]}
    assert entry.recomputed == 1


def test_manager_edits_a_calendar_and_running_clocks_follow(support_manager, alice):
    calendar = BusinessCalendar.objects.get(is_default=True)
    ticket = open_ticket(alice, Priority.TRIVIAL)
    before = running(ticket).due_at
    interval_ids = list(calendar.intervals.values_list("pk", flat=True))
    data = {
        "name": calendar.name,
        "timezone": "UTC",
        "holiday_country": "",
        "holiday_subdivision": "",
        "is_default": "on",
        "intervals-TOTAL_FORMS": str(len(interval_ids) + 2),
        "intervals-INITIAL_FORMS": str(len(interval_ids)),
        "intervals-MIN_NUM_FORMS": "1",
        "intervals-MAX_NUM_FORMS": "1000",
        "dates-TOTAL_FORMS": "0",
        "dates-INITIAL_FORMS": "0",
        "dates-MIN_NUM_FORMS": "0",
        "dates-MAX_NUM_FORMS": "1000",
    }
    for index, pk in enumerate(interval_ids):
        interval = calendar.intervals.get(pk=pk)
        data |= {
            f"intervals-{index}-id": str(pk),
            f"intervals-{index}-calendar": str(calendar.pk),
            f"intervals-{index}-weekday": str(interval.weekday),
            f"intervals-{index}-start": "09:00",
            f"intervals-{index}-end": "17:00",
        }
    for index, weekday in enumerate((5, 6), start=len(interval_ids)):
        data |= {
            f"intervals-{index}-calendar": str(calendar.pk),
            f"intervals-{index}-weekday": str(weekday),
            f"intervals-{index}-start": "09:00",
            f"intervals-{index}-end": "17:00",
        }

    response = signed_in(support_manager).post(
        reverse("admin:sla_businesscalendar_change", args=[calendar.pk]), data
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    calendar.refresh_from_db()
    assert calendar.version == 2
    assert calendar.intervals.count() == 7
    clock = running(ticket)
    computed = business_calendar(calendar)
    assert len(computed.intervals) == 7
    assert clock.due_at == calculations.due_at(
        clock.started_at, calculations.Target.business_days(2, computed), computed
    )
    assert clock.due_at <= before
    recomputation = clock.recomputations.get()
    assert recomputation.reason == RecomputationReason.CALENDAR_CHANGE
    entry = SlaChangeEntry.objects.get(calendar=calendar)
    assert (entry.action, entry.actor) == (
        SlaChangeAction.CALENDAR_CHANGED,
        support_manager,
    )
    assert entry.changes == {"version": ["1", "2"], "working hours": [None, "changed"]}
    assert entry.recomputed == 1


def test_attainment_report_is_for_managers_only(support_engineer, support_manager):
    url = reverse("admin:sla_attainment")

    assert signed_in(support_engineer).get(url).status_code == 403
    assert signed_in(support_manager).get(url).status_code == 200


def answered_clock(ticket, minutes: int) -> None:
    clock = running(ticket)
    ResponseClock.objects.filter(pk=clock.pk).update(
        responded_at=clock.started_at + timedelta(minutes=minutes)
    )


def test_attainment_counts_met_and_breached_with_chart_and_csv(
    support_manager, alice, frank
):
    fast = open_ticket(alice, Priority.BLOCKER)
    slow = open_ticket(alice, Priority.BLOCKER)
    free = open_ticket(frank, Priority.TRIVIAL)
    answered_clock(fast, 30)
    move_back(slow, timedelta(hours=3))
    sla_transitions_record()
    answered_clock(free, 10)
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}
    client = signed_in(support_manager)

    page = client.get(reverse("admin:sla_attainment"), query)
    html = page.content.decode()
    exported = client.get(reverse("admin:sla_attainment"), {**query, "format": "csv"})

    assert page.status_code == 200
    assert "<svg" in html
    assert "50.0% (1/2)" in html
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert exported["Content-Type"].startswith("text/csv")
    business = next(row for row in rows if row["tier"] == "Business")
    assert business["priority"] == "0"
    assert business["met"] == "1"
    assert business["breached_or_late"] == "1"
    assert business["attainment_percent"] == "50.0"
    assert business["responses"] == "1"
    assert business["median_response_minutes"] == "30.0"
    free_row = next(row for row in rows if row["best_effort"] == "yes")
    assert free_row["met"] == "1"


def test_attainment_refuses_a_backwards_period(support_manager):
    page = signed_in(support_manager).get(
        reverse("admin:sla_attainment"), {"start": "2026-03-10", "end": "2026-03-01"}
    )

    assert page.status_code == 200
    assert "must start before it ends" in page.content.decode()


def test_clock_list_links_to_the_report_for_managers(support_manager):
    html = signed_in(support_manager).get(reverse("admin:sla_responseclock_changelist"))

    assert reverse("admin:sla_attainment") in html.content.decode()


def test_attainment_report_shows_satisfaction_with_chart_and_csv(
    support_manager, alice, engineer
):
    from tickets import satisfaction
    from tickets.choices import Status

    rated = open_ticket(alice, Priority.BLOCKER)
    answered_clock(rated, 30)
    for verdict in ("good", "bad", "good"):
        services.ticket_status_change(ticket=rated, actor=engineer, status="solved")
        rated.refresh_from_db()
        satisfaction.satisfaction_record(
            ticket=rated, solved_at=rated.solved_at, user=alice.user, rating=verdict
        )
        services.ticket_status_change(ticket=rated, actor=engineer, status=Status.OPEN)
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()}
    client = signed_in(support_manager)

    html = client.get(reverse("admin:sla_attainment"), query).content.decode()
    exported = client.get(reverse("admin:sla_attainment"), {**query, "format": "csv"})

    assert "Customer satisfaction" in html
    assert "66.7% (2/3) good" in html  # the chart's text, not only its colours
    assert "67% good (2 good, 1 bad)" in html
    assert 'fill="url(#csat-bad)"' in html  # bad is hatched, not only red
    business = next(
        row
        for row in csv.DictReader(io.StringIO(exported.content.decode()))
        if row["tier"] == "Business"
    )
    assert (business["rated_good"], business["rated_bad"]) == ("2", "1")
    assert business["satisfaction_percent"] == "66.7"
