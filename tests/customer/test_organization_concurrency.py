"""Two admins acting at the same moment leave the organisation within its rules.

Real threads, each with its own connection, released together by a barrier.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.db import connections
from django.test import Client

from tests.conftest import signed_in
from tests.factories import ContactFactory
from tests.tickets.test_concurrency import run_together
from tickets import organizations
from tickets.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_admins_deactivating_each_other_at_once_leave_one_admin(alice, bob):
    Contact.objects.filter(pk__in=[alice.pk, bob.pk]).update(is_organization_admin=True)
    clients: list[Client] = [signed_in(alice.user), signed_in(bob.user)]
    for client in clients:
        client.raise_request_exception = False
    real_check = organizations._other_admins

    def slow_check(*args: object) -> bool:
        # Widen the window between the last-admin check and the write, as a
        # loaded server would, so the two requests surely overlap.
        answer = real_check(*args)  # type: ignore[arg-type]
        time.sleep(0.3)
        return answer

    with mock.patch.object(organizations, "_other_admins", slow_check):
        responses = run_together(
            [
                lambda: clients[0].post(f"/organization/contacts/{bob.pk}/deactivate/"),
                lambda: clients[1].post(
                    f"/organization/contacts/{alice.pk}/deactivate/"
                ),
            ]
        )
    assert [response.status_code for response in responses] == [302, 302]
    active_admins = Contact.objects.filter(
        organization=alice.organization,
        is_organization_admin=True,
        user__is_active=True,
    )
    assert active_admins.count() == 1


def test_an_admin_demoted_while_their_request_waits_can_no_longer_act(
    alice, bob, org_a
):
    """Bob removes alice's admin role; alice's request, sent a moment later,
    waits for his change and is then refused, instead of acting as an admin."""
    Contact.objects.filter(pk__in=[alice.pk, bob.pk]).update(is_organization_admin=True)
    carol = ContactFactory(organization=org_a, is_technical_contact=False)
    alice_client, bob_client = signed_in(alice.user), signed_in(bob.user)
    real_check = organizations._other_admins

    def slow_check(*args: object) -> bool:
        answer = real_check(*args)  # type: ignore[arg-type]
        time.sleep(0.5)  # bob holds the organisation's lock here
        return answer

    def alice_later() -> object:
        time.sleep(0.2)
        return alice_client.post(
            f"/organization/contacts/{carol.pk}/roles/", {"technical_contact": "on"}
        )

    with (
        mock.patch.object(organizations, "_other_admins", slow_check),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        demote = pool.submit(
            lambda: bob_client.post(f"/organization/contacts/{alice.pk}/roles/", {})
        )
        late = pool.submit(alice_later)
        assert demote.result().status_code == 302
        assert late.result().status_code == 302  # type: ignore[attr-defined]
    connections.close_all()
    carol.refresh_from_db()
    alice.refresh_from_db()
    assert not alice.is_organization_admin
    assert not carol.is_technical_contact
