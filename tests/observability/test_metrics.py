"""/metrics over real HTTP: the figures operators alert on, closed in production."""

import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from maintenance.models import (
    AnnouncementStatus,
    MaintenanceWindow,
    Phase,
    SlackAnnouncement,
)
from notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    Event,
    InboundMessage,
    InboundStatus,
)
from scalr_support.celery import app
from scalr_support.observability.metrics import OperationsCollector
from tests.factories import ContactFactory, TicketFactory
from tickets.choices import Status

DASHBOARD = Path(settings.BASE_DIR) / "docs" / "grafana-dashboard.json"
TOKEN = "scrape-token-0123456789"
METRIC_NAME = re.compile(r"\b((?:scalr_support|django_http)_[a-z_]+)\b")


def scrape(live_server, headers: dict[str, str] | None = None) -> dict[tuple, float]:
    """GET /metrics and return {(name, (label pairs...)): value}."""
    request = Request(live_server.url + "/metrics", headers=headers or {})  # noqa: S310
    with urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def status_of(
    live_server, headers: dict[str, str] | None = None, method: str = "GET"
) -> int:
    request = Request(  # noqa: S310
        live_server.url + "/metrics", headers=headers or {}, method=method
    )
    try:
        with urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except HTTPError as error:
        return error.code


def _inbound(status: str) -> InboundMessage:
    return InboundMessage.objects.create(
        raw=b"x", raw_sha256="0" * 64, size=1, transport="smtp", status=status
    )


def _delivery(status: str, n: int, due: timedelta = timedelta(0)) -> EmailDelivery:
    user = ContactFactory().user
    return EmailDelivery.objects.create(
        event=Event.TICKET_CREATED,
        event_key=f"metrics:{status}:{n}",
        recipient=user,
        to_address=user.email,
        status=status,
        next_attempt_at=timezone.now() - due,
    )


def _announcement(status: str, phase: str, window: MaintenanceWindow) -> None:
    now = timezone.now()
    SlackAnnouncement.objects.create(
        window=window, phase=phase, status=status, next_attempt_at=now, deadline=now
    )


def _sla_ticket(*, due: timedelta, at_risk: timedelta, status: str = Status.OPEN):
    now = timezone.now()
    return TicketFactory(
        status=status,
        first_response_due_at=now + due,
        sla_due_at=now + due,
        sla_at_risk_at=now + at_risk,
        sla_best_effort=False,
        sla_breached=False,
    )


@pytest.fixture
def empty_queues():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.control.purge()
    yield client
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_the_metrics_count_the_rows_and_queues_operators_watch(
    live_server, settings, empty_queues
):
    settings.DEBUG = True  # make run: open without a token
    for status, count in [
        (InboundStatus.RECEIVED, 2),
        (InboundStatus.PROCESSED, 3),
        (InboundStatus.QUARANTINED, 1),
    ]:
        for _ in range(count):
            _inbound(status)
    _delivery(DeliveryStatus.PENDING, 1, due=timedelta(minutes=5))
    _delivery(DeliveryStatus.PENDING, 2, due=timedelta(seconds=-60))  # backing off
    for n in range(4):
        _delivery(DeliveryStatus.SENT, n)
    _delivery(DeliveryStatus.FAILED, 1)
    window = MaintenanceWindow.objects.create(
        starts_at=timezone.now(), ends_at=timezone.now() + timedelta(minutes=30)
    )
    _announcement(AnnouncementStatus.SENT, Phase.STARTED, window)
    _announcement(AnnouncementStatus.FAILED, Phase.ENDED, window)
    _sla_ticket(due=timedelta(minutes=20), at_risk=timedelta(minutes=-10))  # at risk
    _sla_ticket(due=timedelta(minutes=-1), at_risk=timedelta(minutes=-30))  # breached
    _sla_ticket(due=timedelta(hours=2), at_risk=timedelta(hours=1))  # on track
    _sla_ticket(
        due=timedelta(minutes=-1), at_risk=timedelta(hours=-1), status=Status.SOLVED
    )
    for n in range(3):
        app.send_task("notifications.tasks.send_delivery", args=[n], queue="mail")
    app.send_task("notifications.tasks.process_inbound", args=[1], queue="inbound")

    samples = scrape(live_server)

    def value(name: str, **labels: str) -> float:
        return samples[(f"scalr_support_{name}", tuple(sorted(labels.items())))]

    assert value("database_up") == 1
    assert value("broker_up") == 1
    assert value("inbound_messages", status="received") == 2
    assert value("inbound_messages", status="processed") == 3
    assert value("inbound_messages", status="quarantined") == 1
    assert value("inbound_messages", status="parked") == 0
    assert value("inbound_oldest_unprocessed_seconds") >= 0
    assert value("outbox_deliveries", status="pending") == 2
    assert value("outbox_deliveries", status="sent") == 4
    assert value("outbox_deliveries", status="failed") == 1
    assert 295 <= value("outbox_overdue_seconds") < 400
    assert value("slack_announcements", status="sent") == 1
    assert value("slack_announcements", status="failed") == 1
    assert value("sla_open_tickets", state="at_risk") == 1
    assert value("sla_open_tickets", state="breached") == 1
    assert value("celery_queue_length", queue="mail") == 3
    assert value("celery_queue_length", queue="inbound") == 1
    assert value("celery_queue_length", queue="celery") == 0
    # django-prometheus's request metrics, served alongside.
    assert any(
        name.startswith("django_http_requests_total_by_method") for name, _ in samples
    )


@pytest.mark.django_db
def test_one_scrape_runs_a_fixed_number_of_queries(django_assert_num_queries):
    for status in (InboundStatus.RECEIVED, InboundStatus.PROCESSED):
        _inbound(status)
    for n in range(5):
        _delivery(DeliveryStatus.SENT, n)
        _sla_ticket(due=timedelta(minutes=-1), at_risk=timedelta(minutes=-30))

    with django_assert_num_queries(7):
        families = list(OperationsCollector().collect())

    assert {family.name for family in families} >= {
        "scalr_support_inbound_messages",
        "scalr_support_celery_queue_length",
    }


@pytest.mark.django_db(transaction=True)
def test_production_refuses_the_metrics_without_the_token(live_server, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert status_of(live_server) == 404  # neither set: closed

    settings.METRICS_TOKEN = TOKEN
    assert status_of(live_server) == 404
    assert status_of(live_server, {"Authorization": f"Bearer {TOKEN}x"}) == 404
    assert status_of(live_server, {"Authorization": f"Basic {TOKEN}"}) == 404
    assert status_of(live_server, {"Authorization": f"Bearer {TOKEN}"}) == 200


@pytest.mark.django_db(transaction=True)
def test_an_allow_list_admits_only_its_addresses(live_server, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert status_of(live_server) == 404  # the test client is 127.0.0.1

    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "127.0.0.1"]
    assert status_of(live_server) == 200


@pytest.mark.django_db(transaction=True)
def test_every_metric_the_grafana_dashboard_queries_is_exported(live_server, settings):
    settings.DEBUG = True
    scrape(live_server)  # a first request, so the per-view latencies exist
    exported = {name for name, _ in scrape(live_server)}
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    queried = {name for expr in expressions for name in METRIC_NAME.findall(expr)}

    assert len(expressions) >= 10
    assert queried <= exported, sorted(queried - exported)
    assert {
        "scalr_support_celery_queue_length",
        "scalr_support_inbound_messages",
        "scalr_support_outbox_deliveries",
        "scalr_support_sla_open_tickets",
        "scalr_support_slack_announcements",
    } <= queried
