"""The sweeps queue a backlog once, not at every run; parked mail is in the admin."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from notifications import inbound, services
from notifications.models import (
    DeliveryStatus,
    EmailDelivery,
    InboundMessage,
    InboundStatus,
)
from scalr_support.accounts.models import User
from tests.notifications.builders import raw_email, solved_mail

pytestmark = pytest.mark.django_db

LATER = timedelta(seconds=1)


def test_a_pending_delivery_is_queued_once_per_requeue_window(alice, settings):
    delivery = solved_mail(alice, "backlog")
    now = timezone.now() + LATER
    window = timedelta(seconds=settings.SWEEP_REQUEUE_AFTER_SECONDS)

    assert services.deliveries_sweep(now=now) == [delivery.pk]
    assert services.deliveries_sweep(now=now + timedelta(seconds=30)) == []
    assert services.deliveries_sweep(now=now + window + LATER) == [delivery.pk]


def test_a_transient_failure_is_queued_again_when_its_backoff_is_over(alice, settings):
    delivery = solved_mail(alice, "backlog")
    now = timezone.now() + LATER
    assert services.deliveries_sweep(now=now) == [delivery.pk]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = 1  # nothing listens: a refused connection

    assert services.delivery_send(delivery_id=delivery.pk) is False

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.queued_at is None
    due = delivery.next_attempt_at + LATER
    assert services.deliveries_sweep(now=due) == [delivery.pk]


def test_a_released_claim_is_queued_at_once(alice, settings):
    delivery = solved_mail(alice, "backlog")
    now = timezone.now() + LATER
    assert services.deliveries_sweep(now=now) == [delivery.pk]
    EmailDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=now
    )
    stale = now + timedelta(seconds=settings.EMAIL_OUTBOX_STALE_CLAIM_SECONDS) + LATER

    assert services.deliveries_sweep(now=stale) == [delivery.pk]


def test_a_stored_message_is_queued_once_per_requeue_window(settings):
    stored = inbound.inbound_store(raw=raw_email(sender="a@example.com"), transport="t")
    now = timezone.now() + timedelta(seconds=settings.INBOUND_STALE_AFTER_SECONDS + 1)
    window = timedelta(seconds=settings.SWEEP_REQUEUE_AFTER_SECONDS)

    assert inbound.inbound_sweep(now=now) == [stored.pk]
    assert inbound.inbound_sweep(now=now + timedelta(seconds=5)) == []
    assert inbound.inbound_sweep(now=now + window + LATER) == [stored.pk]


def test_a_parked_message_is_listed_with_its_reason_in_the_admin(settings):
    message = InboundMessage.objects.create(
        raw=b"Subject: kills workers\r\n\r\nboom",
        raw_sha256="0" * 64,
        size=30,
        transport="smtp",
        status=InboundStatus.PARKED,
        attempts=6,
        reason="Processing failed 5 times; parked for a person.",
    )
    admin = User.objects.create_superuser(
        email="root@support.example.com", password="x"
    )
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/notifications/inboundmessage/?status__exact=parked")
    detail = client.get(f"/admin/notifications/inboundmessage/{message.pk}/change/")

    assert listing.status_code == 200
    assert "Parked after repeated failures" in listing.content.decode()
    assert "parked for a person" in listing.content.decode()
    assert detail.status_code == 200
    assert "parked for a person" in detail.content.decode()
