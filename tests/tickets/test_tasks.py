"""Celery wiring against the real Redis broker, and task idempotency."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scalr_support.celery import app
from tests.factories import TicketFactory
from tickets.choices import Status
from tickets.models import Ticket
from tickets.tasks import close_solved_tickets

pytestmark = pytest.mark.django_db


def test_close_solved_tickets_delivered_twice_has_one_effect():
    ticket = TicketFactory(
        status=Status.SOLVED, solved_at=timezone.now() - timedelta(days=30)
    )

    assert close_solved_tickets.apply().get() == 1
    first_closed_at = Ticket.objects.get(pk=ticket.pk).closed_at
    assert close_solved_tickets.apply().get() == 0

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at == first_closed_at


def test_periodic_tasks_expire_and_are_registered():
    app.loader.import_default_modules()  # what a worker does at start
    schedule = app.conf.beat_schedule
    assert schedule, "beat has nothing to run"
    for entry in schedule.values():
        assert entry["task"] in app.tasks
        assert entry["options"]["expires"] <= entry["schedule"]


def test_broker_is_reachable_and_tasks_are_at_least_once():
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert (
        app.conf.broker_transport_options["visibility_timeout"]
        > app.conf.task_time_limit
    )
