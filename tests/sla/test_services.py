"""Response clocks through the ticket services: start, stop, next response, priority."""

from datetime import UTC, date, time, timedelta
from unittest import mock

import pytest

from notifications.models import EmailDelivery
from sla import calculations, rules
from sla import services as sla_services
from sla.calendars import business_calendar
from sla.models import (
    ClockKind,
    RecomputationReason,
    ResponseClock,
    ResponseTarget,
    SlaRecomputation,
    SlaTransition,
    TransitionKind,
)
from sla.tasks import sla_notify
from tests.factories import tier
from tests.factories.sla import BusinessCalendarFactory, CalendarDateFactory
from tickets import services
from tickets.choices import CommentSource, Priority

from .conftest import move_back, open_ticket, running

pytestmark = pytest.mark.django_db


def test_new_business_ticket_starts_its_first_response_clock(alice):
    ticket = open_ticket(alice, Priority.CRITICAL)

    clock = running(ticket)
    assert clock.kind == ClockKind.FIRST_RESPONSE
    assert clock.started_at == ticket.created_at
    assert clock.target_label == "4 hours"
    assert clock.due_at == ticket.created_at + timedelta(hours=4)
    assert clock.at_risk_at == ticket.created_at + timedelta(hours=3)
    assert ticket.first_response_due_at == clock.due_at
    assert ticket.first_responded_at is None
    assert ticket.sla_due_at == clock.due_at
    assert ticket.sla_state == rules.ON_TRACK


def test_p3_runs_one_business_day_on_the_default_calendar(alice):
    ticket = open_ticket(alice, Priority.MINOR)

    default = calculations.BusinessCalendar.default()
    expected = calculations.due_at(
        ticket.created_at, calculations.Target.business_days(1, default), default
    )
    clock = running(ticket)
    assert clock.calendar.is_default
    assert clock.due_at == expected


def test_free_ticket_is_best_effort_by_the_end_of_the_business_day(frank):
    ticket = open_ticket(frank, Priority.BLOCKER)

    clock = running(ticket)
    default = calculations.BusinessCalendar.default()
    assert not clock.guaranteed
    assert clock.at_risk_at is None
    assert clock.due_at == calculations.end_of_business_day(ticket.created_at, default)
    assert ticket.sla_best_effort
    assert ticket.sla_state == rules.BEST_EFFORT


def test_organisation_calendar_is_used_for_business_targets(alice):
    calendar = BusinessCalendarFactory(
        timezone="America/New_York", holiday_country="US"
    )
    alice.organization.business_calendar = calendar
    alice.organization.save(update_fields=["business_calendar"])

    ticket = open_ticket(alice, Priority.TRIVIAL)

    clock = running(ticket)
    computed = business_calendar(calendar)
    assert clock.calendar == calendar
    assert clock.due_at == calculations.due_at(
        ticket.created_at, calculations.Target.business_days(2, computed), computed
    )


def test_public_staff_reply_stops_the_clock_and_is_met(alice, engineer):
    ticket = open_ticket(alice)

    reply = services.comment_create(
        ticket=ticket, author=engineer, body="Looking now.", source=CommentSource.ADMIN
    )

    clock = ResponseClock.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert clock.responded_at == reply.created_at
    assert clock.response == reply
    assert ticket.first_responded_at == reply.created_at
    assert ticket.sla_due_at is None
    assert ticket.sla_state == rules.MET


def test_staff_email_reply_stops_the_clock(alice, engineer):
    ticket = open_ticket(alice)

    services.comment_create(
        ticket=ticket, author=engineer, body="Reply by mail", source=CommentSource.EMAIL
    )

    assert not ResponseClock.objects.filter(
        ticket=ticket, responded_at__isnull=True
    ).exists()


def test_internal_note_does_not_stop_the_clock(alice, engineer):
    ticket = open_ticket(alice)

    services.comment_create(
        ticket=ticket, author=engineer, body="Checking logs", is_public=False
    )

    assert running(ticket).responded_at is None
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_customer_comment_does_not_stop_or_restart_a_running_clock(alice):
    ticket = open_ticket(alice)
    clock = running(ticket)

    services.comment_create(ticket=ticket, author=alice.user, body="Any news?")

    assert list(ResponseClock.objects.filter(ticket=ticket)) == [clock]
    assert running(ticket).due_at == clock.due_at


def test_status_change_does_not_stop_the_clock(alice, engineer):
    ticket = open_ticket(alice)

    services.ticket_status_change(ticket=ticket, actor=engineer, status="on_hold")

    assert running(ticket).responded_at is None


def test_customer_update_after_support_reply_starts_a_next_response_clock(
    alice, engineer
):
    ticket = open_ticket(alice)
    services.comment_create(ticket=ticket, author=engineer, body="Try restarting.")

    update = services.comment_create(
        ticket=ticket, author=alice.user, body="Still failing."
    )
    services.comment_create(ticket=ticket, author=alice.user, body="And again.")

    clocks = list(ResponseClock.objects.filter(ticket=ticket).order_by("started_at"))
    assert [c.kind for c in clocks] == [
        ClockKind.FIRST_RESPONSE,
        ClockKind.NEXT_RESPONSE,
    ]
    second = clocks[1]
    assert second.started_at == update.created_at
    assert second.due_at == update.created_at + timedelta(hours=4)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == second.due_at
    assert ticket.first_responded_at == clocks[0].responded_at
    assert ticket.sla_state == rules.ON_TRACK


def test_next_response_clock_stops_at_the_next_staff_reply(alice, engineer):
    ticket = open_ticket(alice)
    services.comment_create(ticket=ticket, author=engineer, body="First answer")
    services.comment_create(ticket=ticket, author=alice.user, body="Follow-up")

    services.comment_create(ticket=ticket, author=engineer, body="Second answer")

    assert (
        ResponseClock.objects.filter(ticket=ticket, responded_at__isnull=False).count()
        == 2
    )


def test_raising_priority_keeps_the_start_and_records_the_recomputation(
    alice, engineer
):
    ticket = open_ticket(alice, Priority.MINOR)
    before = running(ticket)

    change = services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.BLOCKER, reason="Prod down"
    )

    clock = running(ticket)
    assert clock.pk == before.pk
    assert clock.started_at == before.started_at
    assert clock.priority == Priority.BLOCKER
    assert clock.due_at == before.started_at + timedelta(hours=2)
    recomputation = change.sla_recomputations.get()
    assert recomputation.reason == RecomputationReason.PRIORITY_CHANGE
    assert recomputation.old_due_at == before.due_at
    assert recomputation.new_due_at == clock.due_at
    assert recomputation.old_target == "1 business day"
    assert recomputation.new_target == "2 hours"
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == clock.due_at


def test_lowering_priority_moves_the_due_time_later(alice, engineer):
    ticket = open_ticket(alice, Priority.BLOCKER)
    start = running(ticket).started_at

    services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.MAJOR, reason="Workaround"
    )

    assert running(ticket).due_at == start + timedelta(hours=12)


def test_new_due_time_already_past_is_breached_at_once(
    alice, engineer, support_manager, django_capture_on_commit_callbacks
):
    ticket = open_ticket(alice, Priority.MAJOR)
    move_back(ticket, timedelta(hours=3))

    with (
        mock.patch.object(sla_notify, "apply_async") as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.ticket_priority_change(
            ticket=ticket, actor=engineer, priority=Priority.BLOCKER, reason="Down"
        )

    clock = running(ticket)
    breach = SlaTransition.objects.get(clock=clock, kind=TransitionKind.BREACH)
    assert breach.occurred_at == clock.started_at + timedelta(hours=2)
    assert breach.notify
    assert clock.breached_at == breach.occurred_at
    ticket.refresh_from_db()
    assert ticket.sla_state == rules.BREACHED
    sent.assert_called_once()
    assert sla_services.sla_notifications_queue() == 1
    assert EmailDelivery.objects.filter(
        event="sla_breached", recipient=support_manager
    ).exists()


def test_later_due_time_clears_a_breach_not_yet_recorded(alice, engineer):
    ticket = open_ticket(alice, Priority.BLOCKER)
    move_back(ticket, timedelta(hours=3))  # 1h past due; the sweep has not run

    services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.MAJOR, reason="Not prod"
    )

    assert not SlaTransition.objects.filter(kind=TransitionKind.BREACH).exists()
    ticket.refresh_from_db()
    assert ticket.sla_state == rules.ON_TRACK


def test_a_recorded_breach_stays_after_lowering_the_priority(alice, engineer):
    ticket = open_ticket(alice, Priority.BLOCKER)
    move_back(ticket, timedelta(hours=3))
    sla_services.sla_transitions_record()

    services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.MAJOR, reason="Not prod"
    )

    ticket.refresh_from_db()
    assert running(ticket).breached_at is not None
    assert ticket.sla_state == rules.BREACHED


def test_priority_change_without_a_running_clock_recomputes_nothing(alice, engineer):
    ticket = open_ticket(alice)
    services.comment_create(ticket=ticket, author=engineer, body="Answer")

    change = services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=Priority.TRIVIAL, reason="Question"
    )

    assert not change.sla_recomputations.exists()


def test_late_reply_records_the_breach_without_notifying(alice, engineer):
    ticket = open_ticket(alice, Priority.BLOCKER)
    move_back(ticket, timedelta(hours=3))

    services.comment_create(ticket=ticket, author=engineer, body="Sorry, here")

    kinds = dict(
        SlaTransition.objects.filter(clock__ticket=ticket).values_list("kind", "notify")
    )
    assert kinds == {TransitionKind.AT_RISK: False, TransitionKind.BREACH: False}
    ticket.refresh_from_db()
    assert ticket.sla_state == rules.BREACHED
    assert sla_services.sla_notifications_queue() == 0
    assert not EmailDelivery.objects.filter(event__startswith="sla_").exists()


def test_target_change_applies_to_running_clocks_only(alice, engineer):
    answered = open_ticket(alice, Priority.BLOCKER)
    services.comment_create(ticket=answered, author=engineer, body="Done")
    waiting = open_ticket(alice, Priority.BLOCKER)
    answered_due = ResponseClock.objects.get(ticket=answered).due_at

    change = sla_services.response_target_set(
        tier=tier("business"), priority=Priority.BLOCKER, amount=1, unit="h"
    )

    assert change.recomputed == 1
    assert change.previous == "2 hours"
    assert change.target.clock == "24x7"
    clock = running(waiting)
    assert clock.due_at == clock.started_at + timedelta(hours=1)
    assert clock.recomputations.get().reason == RecomputationReason.TARGET_CHANGE
    assert ResponseClock.objects.get(ticket=answered).due_at == answered_due
    waiting.refresh_from_db()
    assert waiting.sla_due_at == clock.due_at


def test_setting_the_same_target_again_changes_nothing(alice):
    open_ticket(alice, Priority.BLOCKER)

    change = sla_services.response_target_set(
        tier=tier("business"), priority=Priority.BLOCKER, amount=2, unit="h"
    )

    assert change.recomputed == 0
    assert not SlaRecomputation.objects.exists()


def test_calendar_change_recomputes_business_clocks(alice):
    calendar = BusinessCalendarFactory()
    alice.organization.business_calendar = calendar
    alice.organization.save(update_fields=["business_calendar"])
    minor = open_ticket(alice, Priority.MINOR)
    blocker = open_ticket(alice, Priority.BLOCKER)
    blocker_due = running(blocker).due_at
    version = calendar.version

    calendar.intervals.all().delete()
    calendar.intervals.create(weekday=0, start=time(0), end=time(0))
    recomputed = sla_services.business_calendar_changed(calendar=calendar)

    assert recomputed == 1
    assert calendar.version == version + 1
    clock = running(minor)
    computed = business_calendar(calendar)
    assert computed.intervals == (calculations.WorkingInterval(0, time(0), time(0)),)
    assert clock.due_at == calculations.due_at(
        clock.started_at, calculations.Target.business_days(1, computed), computed
    )
    assert running(blocker).due_at == blocker_due


def test_missing_target_falls_back_to_best_effort(alice):
    ResponseTarget.objects.filter(tier=tier("business"), priority=4).delete()

    ticket = open_ticket(alice, Priority.TRIVIAL)

    assert not running(ticket).guaranteed
    assert ticket.sla_state == rules.BEST_EFFORT


def test_calendar_rows_become_a_cached_calendar_with_holidays_and_exceptions():
    calendar = BusinessCalendarFactory(
        timezone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY"
    )
    CalendarDateFactory(calendar=calendar, date=date(2026, 3, 2))
    CalendarDateFactory(calendar=calendar, date=date(2026, 1, 6), kind="open")

    computed = business_calendar(calendar)

    assert computed is business_calendar(calendar)
    assert computed.timezone == "Europe/Berlin"
    assert computed.is_closed(date(2026, 3, 2))  # extra closure
    assert computed.is_closed(date(2026, 12, 25))  # Christmas
    assert not computed.is_closed(date(2026, 1, 6))  # Epiphany, worked
    calendar.version += 1
    assert business_calendar(calendar) is not computed


def test_clock_state_follows_the_clock(alice):
    ticket = open_ticket(alice, Priority.BLOCKER)
    clock = running(ticket)

    assert clock.state(clock.started_at) == rules.ON_TRACK
    assert clock.state(clock.at_risk_at) == rules.AT_RISK
    assert clock.state(clock.due_at) == rules.BREACHED
    assert ticket.sla_state_at(clock.at_risk_at) == rules.AT_RISK
    assert ticket.sla_state_at(clock.due_at) == rules.BREACHED
    assert clock.due_at.tzinfo == UTC
