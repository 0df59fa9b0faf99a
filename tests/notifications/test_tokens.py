"""Signed reply addresses cannot be forged, moved to another ticket or person."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.tokens import (
    reply_address,
    reply_token_make,
    reply_token_read,
    token_from_address,
)


@given(st.integers(1, 10**9), st.integers(1, 10**11))
def test_token_names_its_ticket_and_recipient(ticket_number, user_id):
    token = reply_token_make(ticket_number=ticket_number, user_id=user_id)

    found = reply_token_read(token)

    assert found is not None
    assert (found.ticket_number, found.user_id) == (ticket_number, user_id)


def test_token_survives_a_mail_server_that_upper_cases_local_parts():
    token = reply_token_make(ticket_number=42, user_id=7)

    assert reply_token_read(token.upper()) == reply_token_read(token)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("t42r", "t43r"),  # moved to another ticket
        lambda t: t.replace("r7s", "r8s"),  # moved to another person
        lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # signature edited
        lambda t: t[:-2],  # truncated
        lambda t: "t42r7s" + "a" * 20,  # forged
        lambda t: "",
    ],
)
def test_tampered_tokens_are_refused(tamper):
    token = reply_token_make(ticket_number=42, user_id=7)

    assert reply_token_read(tamper(token)) is None


def test_token_from_signing_key_of_another_installation_is_refused(settings):
    token = reply_token_make(ticket_number=42, user_id=7)
    settings.SECRET_KEY = "another-installation-secret-key-0123456789abcdef"

    assert reply_token_read(token) is None


def test_reply_address_is_on_the_support_domain(settings):
    settings.SUPPORT_EMAIL_DOMAIN = "help.example.org"

    address = reply_address(ticket_number=5, user_id=9)

    assert address.startswith("support+t5r9s")
    assert address.endswith("@help.example.org")
    assert reply_token_read(token_from_address(address) or "") is not None


@pytest.mark.parametrize(
    "address",
    [
        "support@support.example.com",
        "other+t1r1sabc@support.example.com",
        "support+t1r1s@elsewhere.example.com",
        "not-an-address",
    ],
)
def test_addresses_without_our_token_yield_none(address):
    assert token_from_address(address) is None


OLD_KEY = "test-secret-key-not-for-production-0123456789abcdef"
NEW_KEY = "the-rotated-secret-key-of-the-next-quarter-987654321"


def test_the_token_format_is_unchanged_so_mail_already_sent_still_verifies(settings):
    """Pinned: the token the previous release put in Reply-To for this key."""
    settings.SECRET_KEY = OLD_KEY

    assert reply_token_make(ticket_number=42, user_id=7) == "t42r7sz46wifbdws2xur5izaol"


def test_a_token_made_before_a_key_rotation_verifies_after_it(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    sent_before = reply_token_make(ticket_number=42, user_id=7)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    found = reply_token_read(sent_before)

    assert found is not None
    assert (found.ticket_number, found.user_id) == (42, 7)
    # New mail is signed with the new key, which verifies too.
    assert reply_token_make(ticket_number=42, user_id=7) != sent_before
    assert reply_token_read(reply_token_make(ticket_number=42, user_id=7)) == found


def test_a_token_signed_with_an_unknown_key_does_not_verify(settings):
    settings.SECRET_KEY = "a-key-this-deployment-never-had-0000000000000000"
    foreign = reply_token_make(ticket_number=42, user_id=7)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]

    assert reply_token_read(foreign) is None


def test_once_the_old_key_leaves_the_fallbacks_its_tokens_stop_verifying(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    sent_before = reply_token_make(ticket_number=42, user_id=7)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []

    assert reply_token_read(sent_before) is None
