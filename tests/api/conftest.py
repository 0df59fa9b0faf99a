"""API fixtures: token-authenticated clients for each kind of user."""

import pytest
from rest_framework.test import APIClient

from scalr_support.accounts.models import User
from scalr_support.accounts.services import api_token_create
from tickets.models import Contact


def token_client(user: User) -> APIClient:
    """A client that sends ``Authorization: Token <key>`` for a fresh token."""
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, name='tests').key}"
    )
    return client


@pytest.fixture
def alice_api(alice: Contact) -> APIClient:
    return token_client(alice.user)


@pytest.fixture
def bob_api(bob: Contact) -> APIClient:
    return token_client(bob.user)


@pytest.fixture
def gina_api(gina: Contact) -> APIClient:
    return token_client(gina.user)


@pytest.fixture
def engineer_api(engineer: User) -> APIClient:
    return token_client(engineer)
