"""The evidence about a sender, as a table: what each transport's word is worth."""

import pytest

from notifications.senders import evidence_refusal, sender_evidence

ALICE = "alice@acme.example.com"
TRUSTED = "mx.support.example.com"


@pytest.fixture(autouse=True)
def trusted(settings):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]


def results(*values: str) -> tuple[str, ...]:
    return values


@pytest.mark.parametrize(
    ("envelope", "headers", "reported", "dmarc_fail", "spf_fail", "envelope_seen"),
    [
        (ALICE, (), {}, False, False, ALICE),
        (f"<{ALICE}>", (), {}, False, False, ALICE),
        (f"prvs=4a5b6c7d={ALICE}", (), {}, False, False, ALICE),
        (
            ALICE,
            (f"{TRUSTED}; dmarc=fail header.from=acme.example.com",),
            {},
            True,
            False,
            ALICE,
        ),
        # Another domain's DMARC result says nothing about this From:.
        (
            ALICE,
            (f"{TRUSTED}; dmarc=fail header.from=other.example",),
            {},
            False,
            False,
            ALICE,
        ),
        (
            ALICE,
            ("mx.evil.example; dmarc=fail header.from=acme.example.com",),
            {},
            False,
            False,
            ALICE,
        ),
        (
            ALICE,
            (f"{TRUSTED.upper()}; spf=fail smtp.mailfrom={ALICE}",),
            {},
            False,
            True,
            ALICE,
        ),
        # A pass elsewhere does not outweigh a fail.
        (
            ALICE,
            (
                f"{TRUSTED}; dmarc=pass",
                f"{TRUSTED}; dmarc=fail header.from=acme.example.com",
            ),
            {},
            True,
            False,
            ALICE,
        ),
        (ALICE, ("this is ;; not = a header",), {}, False, False, ALICE),
        (ALICE, (), {"dmarc": "FAIL"}, True, False, ALICE),
        (ALICE, (), {"spf": "fail", "dmarc": "gray"}, False, True, ALICE),
        ("", (), {}, False, False, ""),
    ],
)
def test_the_evidence_read_from_envelope_headers_and_esp(
    envelope, headers, reported, dmarc_fail, spf_fail, envelope_seen
):
    evidence = sender_evidence(
        from_address=ALICE,
        envelope_from=envelope,
        authentication_results=headers,
        reported=reported,
    )

    assert (evidence.dmarc_fail, evidence.spf_fail) == (dmarc_fail, spf_fail)
    assert evidence.envelope_from == envelope_seen


def test_no_trusted_server_configured_believes_no_header(settings):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = []

    evidence = sender_evidence(
        from_address=ALICE,
        envelope_from=ALICE,
        authentication_results=(f"{TRUSTED}; dmarc=fail header.from=acme.example.com",),
    )

    assert not evidence.dmarc_fail


@pytest.mark.parametrize(
    ("envelope", "reported", "with_token", "is_staff", "code"),
    [
        # customer with a token: the token is evidence, contrary evidence is not
        ("", {}, True, False, None),
        (ALICE, {}, True, False, None),
        ("mallory@evil.example", {}, True, False, "envelope_mismatch"),
        (ALICE, {"dmarc": "fail"}, True, False, "dmarc_fail"),
        ("", {"spf": "fail"}, True, False, None),
        # staff with a token: the envelope must vouch for them
        ("", {}, True, True, "sender_unverified"),
        (ALICE, {"spf": "fail"}, True, True, "spf_fail"),
        (ALICE, {}, True, True, None),
        # no token: the envelope must vouch
        ("", {}, False, False, "sender_unverified"),
        ("mallory@evil.example", {}, False, False, "envelope_mismatch"),
        (ALICE, {"spf": "fail"}, False, False, "spf_fail"),
        (ALICE, {"dmarc": "fail"}, False, False, "dmarc_fail"),
        (ALICE, {}, False, False, None),
    ],
)
def test_who_may_speak_decision_table(envelope, reported, with_token, is_staff, code):
    evidence = sender_evidence(
        from_address=ALICE, envelope_from=envelope, reported=reported
    )

    refusal = evidence_refusal(evidence, with_token=with_token, is_staff=is_staff)

    assert (refusal.code if refusal else None) == code
