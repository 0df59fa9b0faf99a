"""A ticket opened by email gets its category from its text, as in the API."""

import pytest

from notifications.inbound import inbound_process, inbound_store
from tests.notifications.builders import raw_email
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("subject", "body", "category"),
    [
        ("Runs fail since the upgrade", "Every plan ends in an error.", "bug"),
        ("Quick question", "Where do I find the audit log?", "question"),
    ],
)
def test_an_emailed_ticket_is_categorised_from_its_text(alice, subject, body, category):
    raw = raw_email(sender=alice.user.email, subject=subject, body=body)
    message = inbound_store(raw=raw, transport="test", envelope_from="")
    inbound_process(inbound_id=message.pk)

    assert Ticket.objects.get().category == category
