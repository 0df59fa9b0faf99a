"""The service's own Prometheus metrics, read from PostgreSQL and Redis at scrape time.

Every figure is a count of rows by state (or an age) that the database holds, so
it is the same whichever web process Prometheus asks and never resets with a
restart; ``rate()`` over a status's count (e.g. sent deliveries) gives the
throughput. One scrape runs a fixed number of aggregate queries (seven), each
served by the tables' status indexes or a GROUP BY, and one Redis pipeline.
"""

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, QuerySet
from django.utils import timezone
from kombu.transport.redis import PRIORITY_STEPS
from kombu.transport.redis import Channel as RedisChannel
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from maintenance.models import AnnouncementStatus, SlackAnnouncement
from notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    InboundMessage,
    InboundStatus,
)
from tickets.choices import Status
from tickets.models import Ticket
from tickets.selectors import tickets_in_sla_state

logger = logging.getLogger(__name__)

PREFIX = "scalr_support"
REDIS_SCHEMES = ("redis://", "rediss://")
REDIS_TIMEOUT_SECONDS = 0.5
CLOSED_STATUSES = (Status.SOLVED, Status.CLOSED)
# The states of tickets.selectors.tickets_in_sla_state that need attention.
SLA_STATES = ("at_risk", "breached")


def _by_status(
    name: str, documentation: str, counts: dict[str, int], statuses: Iterable[str]
) -> GaugeMetricFamily:
    """One gauge with a sample for every status, zero included (absent is not 0)."""
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=["status"])
    for status in statuses:
        family.add_metric([status], counts.get(status, 0))
    return family


def _status_counts(queryset: QuerySet[Any]) -> dict[str, int]:
    """Count the rows by ``status`` in one GROUP BY."""
    rows = queryset.order_by().values_list("status").annotate(n=Count("id"))
    return {status: n for status, n in rows}


def _age(since: datetime | None, now: datetime) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def inbound_metrics(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Inbound mail by status, and how long the oldest unprocessed one has waited."""
    yield _by_status(
        "inbound_messages",
        "Inbound email messages stored, by status (received: not yet processed).",
        _status_counts(InboundMessage.objects.all()),
        InboundStatus.values,
    )
    oldest = InboundMessage.objects.filter(status=InboundStatus.RECEIVED).aggregate(
        oldest=Min("received_at")
    )["oldest"]
    yield GaugeMetricFamily(
        f"{PREFIX}_inbound_oldest_unprocessed_seconds",
        "Age of the oldest stored inbound message not yet processed (0: none).",
        value=_age(oldest, now),
    )


def outbox_metrics(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Outgoing email deliveries by status, and how late the most overdue one is."""
    yield _by_status(
        "outbox_deliveries",
        "Outgoing email deliveries (the outbox), by status.",
        _status_counts(EmailDelivery.objects.all()),
        DeliveryStatus.values,
    )
    due = EmailDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        next_attempt_at__lte=now,
    ).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    yield GaugeMetricFamily(
        f"{PREFIX}_outbox_overdue_seconds",
        "How long the most overdue pending delivery has been due (0: none).",
        value=_age(due, now),
    )


def sla_metrics(now: datetime) -> Iterator[GaugeMetricFamily]:
    """Open tickets whose guaranteed response is at risk or already breached."""
    family = GaugeMetricFamily(
        f"{PREFIX}_sla_open_tickets",
        "Open (not solved or closed) tickets by SLA state: at_risk, breached.",
        labels=["state"],
    )
    open_tickets = Ticket.objects.exclude(status__in=CLOSED_STATUSES)
    for state in SLA_STATES:
        family.add_metric(
            [state], tickets_in_sla_state(open_tickets, state, now=now).count()
        )
    yield family


def slack_metrics() -> Iterator[GaugeMetricFamily]:
    """Slack maintenance announcements by status (sent, failed, unknown, ...)."""
    yield _by_status(
        "slack_announcements",
        "Slack maintenance announcements (one per window and phase), by status.",
        _status_counts(SlackAnnouncement.objects.all()),
        AnnouncementStatus.values,
    )


_redis_clients: dict[str, redis.Redis] = {}


def _redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per broker URL for the process's life."""
    if url not in _redis_clients:
        _redis_clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
    return _redis_clients[url]


def queue_names() -> list[str]:
    """The Celery queues the workers consume (``CELERY_TASK_QUEUES``)."""
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def queue_metrics() -> Iterator[GaugeMetricFamily]:
    """Messages waiting in each Celery queue on Redis (LLEN of its priority lists).

    kombu keeps one list per priority step (``mail``, ``mail\\x06\\x163``, ...); the
    queue's depth is their sum, as kombu's own ``_size`` counts it. Other brokers
    (the embedded filesystem one) give no sample: absent, not zero.
    """
    url = settings.CELERY_BROKER_URL
    if not url.startswith(REDIS_SCHEMES):
        return
    names = queue_names()
    up = GaugeMetricFamily(
        f"{PREFIX}_broker_up", "1 if the Celery broker (Redis) answered the scrape."
    )
    try:
        with _redis_client(url).pipeline(transaction=False) as pipe:
            for name in names:
                for step in PRIORITY_STEPS:
                    pipe.llen(f"{name}{RedisChannel.sep}{step}" if step else name)
            lengths = pipe.execute()
    except (redis.RedisError, OSError) as error:
        logger.warning("metrics: the broker did not answer (%s)", type(error).__name__)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    depth = GaugeMetricFamily(
        f"{PREFIX}_celery_queue_length",
        "Celery messages waiting in each queue (Redis), not yet taken by a worker.",
        labels=["queue"],
    )
    steps = len(PRIORITY_STEPS)
    for index, name in enumerate(names):
        depth.add_metric([name], sum(lengths[index * steps : (index + 1) * steps]))
    yield depth


class OperationsCollector(Collector):
    """Collect the database and broker figures each time Prometheus scrapes.

    A database error yields ``scalr_support_database_up 0`` and the broker's
    figures, never a failed scrape: the outage itself is what an alert wants.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        database_up = GaugeMetricFamily(
            f"{PREFIX}_database_up", "1 if PostgreSQL answered the scrape's queries."
        )
        try:
            families = [
                *inbound_metrics(now),
                *outbox_metrics(now),
                *sla_metrics(now),
                *slack_metrics(),
            ]
        except DatabaseError as error:
            logger.warning("metrics: the database failed (%s)", type(error).__name__)
            families = []
        database_up.add_metric([], 1 if families else 0)
        yield database_up
        yield from families
        yield from queue_metrics()

    def describe(self) -> Iterable[GaugeMetricFamily]:
        """Describe nothing, so registering does not run the queries."""
        return []


# The project's figures; django-prometheus's request metrics live in the default
# registry. /metrics serves both.
registry = CollectorRegistry(auto_describe=False)
registry.register(OperationsCollector())
