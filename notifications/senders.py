"""Who may speak for a ticket: what the evidence says about a message's sender.

Anyone can write any ``From:``. Believed are only what a transport vouches for:
the SMTP envelope sender that ``receive_mail`` was given by the relaying MTA, the
envelope sender an ESP's webhook reports, and the SPF/DMARC verdicts of a receiving
server we trust (an ``Authentication-Results`` header, RFC 8601, whose authserv-id
is in ``INBOUND_TRUSTED_AUTHSERV_IDS``) or of the ESP itself (its own verdict
fields, stored with the message). A failure is believed from those sources; a pass
is never needed from them, so a header an attacker adds can only count against
them. Pure: no database; the decision table is in docs/email.md.
"""

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import authres
from django.conf import settings

from .models import InboundReason

logger = logging.getLogger(__name__)


# Bounce Address Tag Validation: some MTAs sign the envelope sender as
# prvs=<tag>=local@domain; the address under the tag is the sender's.
_BATV_RE = re.compile(r"^prvs=[0-9a-z]+=(?P<address>[^=@]+@[^@]+)$", re.IGNORECASE)


def envelope_address(envelope_from: str) -> str:
    """The sender's address in an SMTP envelope sender (<>, BATV tag removed)."""
    address = envelope_from.strip().strip("<>")
    match = _BATV_RE.match(address)
    return match["address"] if match else address


@dataclass(frozen=True)
class SenderEvidence:
    """What the transport and the trusted receiving servers say about the sender."""

    from_address: str
    envelope_from: str  # SMTP MAIL FROM, or the ESP's envelope sender; "" unknown
    dmarc_fail: bool  # a trusted DMARC fail for the From: domain
    spf_fail: bool  # a trusted SPF fail: the envelope sender is forged

    @property
    def envelope_matches(self) -> bool:
        return bool(self.envelope_from) and (
            self.envelope_from.lower() == self.from_address.lower()
        )


@dataclass(frozen=True)
class Refusal:
    """Why a message cannot speak for its sender: a code for the admin, a sentence."""

    code: str
    message: str


DMARC_FAIL = Refusal(
    InboundReason.DMARC_FAIL,
    "DMARC failed for the sender's domain (reported by a trusted server).",
)
ENVELOPE_MISMATCH = Refusal(
    InboundReason.ENVELOPE_MISMATCH,
    "The envelope sender is not the From: address.",
)
SPF_FAIL = Refusal(
    InboundReason.SPF_FAIL,
    "SPF failed for the envelope sender (reported by a trusted server).",
)
SENDER_UNVERIFIED = Refusal(
    InboundReason.SENDER_UNVERIFIED,
    "Nothing vouches for the From: address (no envelope sender was given).",
)


def sender_evidence(
    *,
    from_address: str,
    envelope_from: str,
    authentication_results: Iterable[str] = (),
    reported: Mapping[str, str] | None = None,
) -> SenderEvidence:
    """Gather the evidence: the envelope, trusted headers and the ESP's verdicts.

    ``authentication_results`` are the raw values of the message's
    ``Authentication-Results`` headers; only those whose authserv-id is trusted
    count. ``reported`` is what the ESP's webhook said (``{"dmarc": "fail"}``).
    """
    verdicts = {key: str(value).lower() for key, value in (reported or {}).items()}
    domain = from_address.rpartition("@")[2].lower()
    for method, result, header_from in _trusted_results(authentication_results):
        if method == "dmarc" and (not header_from or header_from == domain):
            verdicts["dmarc"] = _worst(verdicts.get("dmarc"), result)
        elif method == "spf":
            verdicts["spf"] = _worst(verdicts.get("spf"), result)
    return SenderEvidence(
        from_address=from_address,
        envelope_from=envelope_address(envelope_from),
        dmarc_fail=verdicts.get("dmarc") == "fail",
        spf_fail=verdicts.get("spf") == "fail",
    )


def _worst(previous: str | None, result: str) -> str:
    return "fail" if "fail" in (previous, result) else result


def _trusted_results(values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(method, result, header.from domain) of the trusted servers' results."""
    trusted = {
        value.strip().lower()
        for value in settings.INBOUND_TRUSTED_AUTHSERV_IDS
        if value.strip()
    }
    if not trusted:
        return []
    found = []
    for value in values:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(
                " ".join(value.split())
            )
        except Exception:  # an unreadable header is no evidence
            logger.info("unreadable Authentication-Results header ignored")
            continue
        if str(header.authserv_id or "").lower() not in trusted:
            continue
        for result in header.results:
            header_from = next(
                (
                    str(p.value).lower()
                    for p in result.properties
                    if p.type == "header" and p.name == "from"
                ),
                "",
            )
            found.append((str(result.method), str(result.result).lower(), header_from))
    return found


def evidence_refusal(
    evidence: SenderEvidence, *, with_token: bool, is_staff: bool
) -> Refusal | None:
    """The first rule the evidence breaks, or None; the one rule of both paths.

    A signed reply token is itself evidence that a customer received our mail, so
    a customer's tokened reply needs no envelope (a webhook may give none), only
    no contrary evidence. Staff always need the envelope to match: a leaked token
    must not be enough to speak as support. Everything without a token (subject
    tag, References, a new ticket) needs the envelope to match.
    """
    if evidence.dmarc_fail:
        return DMARC_FAIL
    if evidence.envelope_from and not evidence.envelope_matches:
        return ENVELOPE_MISMATCH
    if with_token and not is_staff:
        return None
    if evidence.spf_fail:
        return SPF_FAIL
    if not evidence.envelope_from:
        return SENDER_UNVERIFIED
    return None
