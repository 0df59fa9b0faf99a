"""The sweep: each crossing recorded once, on time or late, at a constant cost."""

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection

from notifications.models import EmailDelivery
from scalr_support.celery import app
from sla import services
from sla.models import ResponseClock, SlaTransition, TransitionKind
from sla.services import transitions
from sla.tasks import sla_notify, sla_sweep
from tests.factories import OrganizationFactory, TicketFactory, tier
from tests.factories.sla import ResponseClockFactory

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def clock_at(start: datetime, **kwargs: object) -> ResponseClock:
    return ResponseClockFactory(started_at=start, **kwargs)


def recorded(clock: ResponseClock) -> dict[str, tuple[datetime, datetime, bool]]:
    return {
        t.kind: (t.occurred_at, t.recorded_at, t.notify)
        for t in SlaTransition.objects.filter(clock=clock)
    }


@pytest.mark.django_db
def test_at_risk_then_breach_are_recorded_once_each(support_engineer):
    clock = clock_at(T0)  # 2h target: at risk at 10:30, due at 11:00

    assert services.sla_transitions_record(now=T0 + timedelta(minutes=89)) == 0
    assert services.sla_transitions_record(now=T0 + timedelta(minutes=90)) == 1
    assert services.sla_transitions_record(now=T0 + timedelta(minutes=100)) == 0
    assert services.sla_transitions_record(now=T0 + timedelta(hours=2)) == 1
    assert services.sla_transitions_record(now=T0 + timedelta(hours=3)) == 0

    assert recorded(clock) == {
        TransitionKind.AT_RISK: (
            T0 + timedelta(minutes=90),
            T0 + timedelta(minutes=90),
            True,
        ),
        TransitionKind.BREACH: (T0 + timedelta(hours=2), T0 + timedelta(hours=2), True),
    }
    clock.refresh_from_db()
    assert clock.breached_at == clock.due_at
    assert clock.at_risk_recorded_at == T0 + timedelta(minutes=90)


@pytest.mark.django_db
def test_a_sweep_after_a_gap_catches_up_every_missed_transition(support_manager):
    missed = [clock_at(T0 - timedelta(hours=n)) for n in range(1, 4)]
    risky = clock_at(T0 + timedelta(hours=1) - timedelta(minutes=95))
    now = T0 + timedelta(hours=1)  # beat was down: all thresholds passed long ago

    assert services.sla_transitions_record(now=now) == 2 * len(missed) + 1

    for clock in missed:
        assert recorded(clock) == {
            # Superseded by the breach: recorded, late, but not announced.
            TransitionKind.AT_RISK: (clock.at_risk_at, now, False),
            TransitionKind.BREACH: (clock.due_at, now, True),
        }
    assert recorded(risky) == {TransitionKind.AT_RISK: (risky.at_risk_at, now, True)}
    assert services.sla_transitions_record(now=now) == 0
    assert services.sla_notifications_queue() == len(missed) + 1
    assert EmailDelivery.objects.filter(event="sla_breached").count() == len(missed)
    assert EmailDelivery.objects.filter(event="sla_at_risk").exists()


@pytest.mark.django_db
def test_best_effort_and_answered_clocks_are_never_recorded():
    clock_at(T0, guaranteed=False, target_unit="eod", target_clock="business")
    clock_at(T0, responded_at=T0 + timedelta(minutes=5))

    assert services.sla_transitions_record(now=T0 + timedelta(days=3)) == 0


@pytest.mark.django_db
def test_sweep_works_through_more_crossings_than_one_batch():
    clocks = [clock_at(T0) for _ in range(5)]

    count = services.sla_transitions_record(now=T0 + timedelta(hours=3), batch_size=2)

    assert count == 10
    assert SlaTransition.objects.filter(clock__in=clocks).count() == 10


@pytest.mark.django_db
def test_at_risk_goes_to_the_assignee_or_every_engineer(
    support_engineer, support_manager, engineer
):
    assigned = clock_at(T0, ticket__assignee=engineer)
    unassigned = clock_at(T0)

    services.sla_transitions_record(now=T0 + timedelta(minutes=95))
    services.sla_notifications_queue()

    def recipients(clock: ResponseClock) -> set[str]:
        return set(
            EmailDelivery.objects.filter(
                event="sla_at_risk", ticket=clock.ticket
            ).values_list("recipient__email", flat=True)
        )

    assert recipients(assigned) == {engineer.email}
    assert support_engineer.email in recipients(unassigned)


@pytest.mark.django_db
def test_breach_goes_to_the_assignee_and_the_managers(
    support_engineer, support_manager, engineer
):
    clock = clock_at(T0, ticket__assignee=engineer)

    services.sla_transitions_record(now=T0 + timedelta(hours=2))
    services.sla_notifications_queue()

    assert set(
        EmailDelivery.objects.filter(
            event="sla_breached", ticket=clock.ticket
        ).values_list("recipient__email", flat=True)
    ) == {engineer.email, support_manager.email}


@pytest.mark.django_db
@pytest.mark.parametrize("open_tickets", [1, 60])
def test_sweep_query_count_does_not_grow_with_open_tickets(
    django_assert_max_num_queries, support_engineer, support_manager, open_tickets
):
    organization = OrganizationFactory(tier=tier("business"))
    for _ in range(open_tickets):  # running, nowhere near their thresholds
        clock_at(T0 + timedelta(days=1), ticket__organization=organization)
    for _ in range(3):
        clock_at(T0 - timedelta(hours=5), ticket__organization=organization)

    with django_assert_max_num_queries(7):
        assert services.sla_transitions_record(now=T0) == 6


@pytest.mark.django_db
def test_sweep_task_delivered_twice_has_one_effect(support_manager):
    clock_at(datetime.now(UTC) - timedelta(hours=3))

    assert sla_sweep.apply().get() == 2
    assert sla_sweep.apply().get() == 0
    assert SlaTransition.objects.count() == 2
    assert EmailDelivery.objects.filter(event="sla_breached").count() == 1


@pytest.mark.django_db
def test_notify_task_delivered_twice_has_one_effect(support_engineer, support_manager):
    clock_at(T0)
    services.sla_transitions_record(now=T0 + timedelta(minutes=95))

    assert sla_notify.apply().get() == 1
    assert sla_notify.apply().get() == 0
    transition = SlaTransition.objects.get()
    assert transition.notified_at is not None
    deliveries = EmailDelivery.objects.filter(
        event_key=f"sla_transition:{transition.pk}"
    )
    assert deliveries.count() == 2  # the two support staff: nobody is assigned


@pytest.mark.django_db
def test_the_sweep_enqueues_the_notification_task_on_commit(
    django_capture_on_commit_callbacks,
):
    clock_at(T0)

    with (
        mock.patch.object(sla_notify, "apply_async") as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.sla_transitions_record(now=T0 + timedelta(hours=2))

    sent.assert_called_once()


def test_sweep_is_scheduled_every_30_seconds_and_expires():
    entry = app.conf.beat_schedule["sla-sweep"]
    assert entry["task"] == "sla.tasks.sla_sweep"
    assert entry["schedule"] == 30
    assert entry["options"]["expires"] <= 30


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_record_each_transition_once():
    organization = OrganizationFactory(tier=tier("business"))
    tickets = TicketFactory.create_batch(40, organization=organization)
    for ticket in tickets:
        clock_at(T0 - timedelta(hours=3), ticket=ticket)
    now = T0
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(services.sla_transitions_record(now=now, batch_size=7))
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sum(counts) == 80
    assert SlaTransition.objects.count() == 80
    assert set(SlaTransition.objects.values_list("clock_id", "kind").distinct()) == {
        (clock_id, kind)
        for clock_id in ResponseClock.objects.values_list("pk", flat=True)
        for kind in (TransitionKind.AT_RISK, TransitionKind.BREACH)
    }


@pytest.mark.django_db
def test_recording_a_transition_twice_is_ignored_by_the_database():
    clock = clock_at(T0)
    row = SlaTransition(
        clock=clock, kind=TransitionKind.BREACH, occurred_at=T0, recorded_at=T0
    )

    first = transitions._transitions_insert([row])
    second = transitions._transitions_insert(
        [
            SlaTransition(
                clock=clock,
                kind=TransitionKind.BREACH,
                occurred_at=T0,
                recorded_at=T0 + timedelta(seconds=30),
            )
        ]
    )

    assert len(first) == 1
    assert second == []
    assert SlaTransition.objects.filter(clock=clock).count() == 1
