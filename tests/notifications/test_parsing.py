"""Inbound email parsing: what a support engineer would notice in the comment.

Non-Latin letters and full-width punctuation in the samples are meant (RUF001).

Fixtures in tests/fixtures/email/ were written for this project in the styles of
the common clients. ``REPLYTOKEN`` in a fixture is replaced by a real signed token.
"""

# ruff: noqa: RUF001
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.parsing import (
    REPLY_MARKER,
    extract_reply,
    parse_message,
    strip_quoted_history,
    strip_signature,
    ticket_reference_hint,
)
from notifications.parsing.charsets import decode_bytes
from notifications.parsing.html import html_to_text
from notifications.tokens import reply_token_make

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"


UNSIGNED = "t1r1saaaaaaaaaaaaaaaaaaaa"  # well-formed, signature does not verify


def fixture(name: str, substitute: str = UNSIGNED) -> bytes:
    """A fixture's bytes with ``REPLYTOKEN`` replaced (by a real token, if given)."""
    return (FIXTURES / name).read_bytes().replace(b"REPLYTOKEN", substitute.encode())


# --- client reply styles --------------------------------------------------------------
def test_gmail_reply_keeps_the_new_text_and_reads_threading_headers() -> None:
    parsed = parse_message(fixture("gmail_reply.eml"))

    assert parsed.reply_text == (
        "Thanks — restarting the agent pool fixed it. Runs are moving again.\n\nAlice"
    )
    assert parsed.from_address == "alice@acme.example.com"
    assert parsed.from_name == "Alice Example"
    assert parsed.in_reply_to == ("ticket-42-comment-7@support.example.com",)
    assert parsed.references == (
        "ticket-42@support.example.com",
        "ticket-42-comment-7@support.example.com",
    )
    assert parsed.date == datetime(2026, 3, 3, 10, 2, 41, tzinfo=UTC)
    assert "Could you restart the agent pool" in parsed.text
    assert not parsed.machine_generated
    assert parsed.defects == ()


def test_outlook_reply_drops_the_header_block_and_decodes_windows_1252() -> None:
    parsed = parse_message(fixture("outlook_reply.eml"))

    assert parsed.reply_text == (
        "We upgraded to 1.42 this morning – the “pending” state is gone.\n"
        "Budget approved: 1 200 €.\n\nRegards,\nBob"
    )
    assert parsed.cc == ("carol@acme.example.com", "dave@acme.example.com")
    assert parsed.subject_ticket_number == 42


def test_apple_mail_reply_drops_the_quote_and_the_device_signature() -> None:
    parsed = parse_message(fixture("apple_mail_reply.eml"))

    assert (
        parsed.reply_text
        == "Confirmed: the variables are back after the re-import. Merci !"
    )
    # The quote-only stage keeps signatures, as talon does.
    assert parsed.unquoted_text.endswith("Sent from my iPhone")


def test_thunderbird_latin1_reply_drops_dash_signature_and_german_quote() -> None:
    parsed = parse_message(fixture("thunderbird_reply.eml"))

    assert parsed.from_name == "Jürgen Müller"
    assert parsed.subject == "Re: [#55] Zugriff für neue Kollegen"
    assert parsed.reply_text == (
        "Hallo,\n\ndie neuen Kollegen können sich jetzt anmelden. "
        "Schöne Grüße aus Köln!"
    )


def test_html_only_base64_message_becomes_text_without_the_quoted_block() -> None:
    parsed = parse_message(fixture("html_only_outlook_de.eml"))

    assert parsed.reply_text == (
        "Guten Tag,\n\ndas Problem tritt nur bei Workspace prod-eu auf. Details: "
        "Incident 881 <https://status.acme.example.com/incident/881>\n\n"
        "Mit freundlichen Grüßen\nPetra Schmidt"
    )
    assert "in welchem Workspace" in parsed.text


def test_iso_2022_jp_reply_decodes_body_and_encoded_word_headers() -> None:
    parsed = parse_message(fixture("iso2022jp_reply.eml"))

    assert parsed.from_name == "田中"
    assert parsed.subject == "Re: [#90] 設定"
    assert parsed.reply_text == (
        "お世話になっております。\n設定を変更したところ、正常に動作しました。"
    )


# --- attachments ----------------------------------------------------------------------
def test_attachments_keep_names_sizes_and_types_with_paths_removed() -> None:
    parsed = parse_message(fixture("attachments.eml"))

    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("plan-output.pdf", "application/pdf", 1069),
        ("Agent log – März.txt", "text/plain", 960),
        ("passwd", "application/octet-stream", 11),
    ]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")
    assert parsed.reply_text == "The plan output and the agent log are attached."


def test_inline_image_is_an_inline_attachment_and_the_plain_part_is_the_body() -> None:
    parsed = parse_message(fixture("inline_image.eml"))

    (image,) = parsed.attachments
    assert (image.filename, image.content_type, image.inline) == (
        "error.png",
        "image/png",
        True,
    )
    assert image.content_id == "ii_error_png"
    assert image.content.startswith(b"\x89PNG")
    assert parsed.reply_text.startswith("The run page shows this error:")


# --- forwards, our marker, tokens -----------------------------------------------------
def test_forwarded_message_keeps_only_the_note_added_above_it() -> None:
    parsed = parse_message(fixture("forwarded.eml"))

    assert parsed.reply_text == "FYI, this is the notification we got overnight."
    assert "failed at the apply stage" in parsed.unquoted_text


def test_a_forward_with_no_note_keeps_the_forwarded_body() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: Ops <ops@example.com>\n"
        "Date: Mon, 2 Mar 2026 at 09:00\nSubject: Disk full\nTo: <me@example.com>\n\n"
        "The volume /data is 98% full.\n"
    )
    assert extract_reply(text) == "The volume /data is 98% full."


def test_reply_above_our_marker_is_kept_and_the_notification_below_dropped() -> None:
    parsed = parse_message(fixture("reply_marker.eml"))

    assert parsed.reply_text == "The pool is back online, you can close the ticket."
    assert ticket_reference_hint(parsed) == 123


@pytest.mark.parametrize(
    "quoted_marker",
    [f"> {REPLY_MARKER}", f"**{REPLY_MARKER}**", REPLY_MARKER.upper()],
)
def test_our_marker_is_found_quoted_bold_or_in_capitals(quoted_marker: str) -> None:
    text = f"Done, thanks.\n\nOn Mon, 2 Mar 2026, Support wrote:\n{quoted_marker}\n> Hi"
    assert extract_reply(text) == "Done, thanks."


def test_reply_token_in_to_names_the_ticket() -> None:
    token = reply_token_make(ticket_number=4711, user_id=3)
    parsed = parse_message(fixture("reply_token.eml", substitute=token))

    assert parsed.reply_tokens == (token,)
    assert ticket_reference_hint(parsed) == 4711


def test_envelope_recipient_token_is_read_first() -> None:
    envelope_token = reply_token_make(ticket_number=8, user_id=1)
    header_token = reply_token_make(ticket_number=9, user_id=1)
    parsed = parse_message(
        fixture("reply_token.eml", substitute=header_token),
        envelope_recipients=[f"support+{envelope_token}@support.example.com"],
    )

    assert parsed.reply_tokens == (envelope_token, header_token)
    assert ticket_reference_hint(parsed) == 8


def test_tampered_token_is_ignored_and_the_subject_tag_is_the_hint() -> None:
    token = reply_token_make(ticket_number=42, user_id=5).replace("t42", "t43")
    parsed = parse_message(fixture("gmail_reply.eml", substitute=token))

    assert parsed.reply_tokens == (token,)
    assert ticket_reference_hint(parsed) == 42  # from "[#42]", not the forged 43


def test_tokens_on_other_domains_are_not_ours(settings: pytest.FixtureRequest) -> None:
    parsed = parse_message(
        f"From: a@example.com\nTo: support+{UNSIGNED}@elsewhere.example\n\nhi".encode()
    )
    assert parsed.reply_tokens == ()


# --- auto-replies and bounces ---------------------------------------------------------
def test_vacation_reply_is_an_auto_reply_not_a_bounce() -> None:
    parsed = parse_message(fixture("vacation_auto_reply.eml"))

    assert parsed.auto_reply
    assert not parsed.bounce
    assert parsed.return_path == ""
    assert ("Auto-Submitted", "auto-replied") in parsed.auto_headers


def test_dsn_is_a_bounce_naming_the_failed_recipient() -> None:
    parsed = parse_message(fixture("bounce_dsn.eml"))

    assert parsed.bounce
    assert not parsed.auto_reply
    assert parsed.bounced_recipients == ("gone@customer.example",)
    names = [attachment.filename for attachment in parsed.attachments]
    assert names == [
        "Delivery report.txt",
        "[#42] Terraform runs stuck in _pending_.eml",
    ]


@pytest.mark.parametrize(
    ("headers", "auto_reply"),
    [
        ("Auto-Submitted: auto-generated\n", True),
        ("Auto-Submitted: no\n", False),
        ("Precedence: bulk\n", True),
        ("Precedence: list\n", True),
        ("X-Autoreply: yes\n", True),
        ("X-Autorespond: Out of office\n", True),
        ("X-Auto-Response-Suppress: All\n", True),
        ("Return-Path: <>\n", True),
        ("Subject: Out of Office: Re: your ticket\n", True),
        ("Subject: Re: out of office policy question\n", False),
        ("", False),
    ],
)
def test_auto_reply_headers(headers: str, auto_reply: bool) -> None:
    raw = f"From: someone@example.com\n{headers}\nBody text\n".encode()
    assert parse_message(raw).auto_reply is auto_reply


def test_a_person_replying_about_a_bounce_is_not_a_bounce() -> None:
    raw = (
        b"From: Bob <bob@acme.example.com>\nReturn-Path: <bob@acme.example.com>\n"
        b"Subject: Re: Undelivered Mail Returned to Sender\n\n"
        b"Your notifications bounce for carol@acme.example.com, can you check?\n"
    )
    assert not parse_message(raw).machine_generated


def test_mailer_daemon_sender_is_a_bounce_even_without_a_dsn() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@mx.example.net>\n"
        b"Subject: failure notice\n\n"
        b"<carol@acme.example.com>:\nSorry, no mailbox here by that name.\n"
    )
    parsed = parse_message(raw)
    assert parsed.bounce
    assert parsed.bounced_recipients == ("carol@acme.example.com",)


def test_feedback_report_is_machine_generated_but_neither_bounce_nor_auto_reply() -> (
    None
):
    raw = (
        b"From: feedback@isp.example\nSubject: Abuse report\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nA complaint.\n"
        b"--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
        b"--b--\n"
    )
    parsed = parse_message(raw)
    assert parsed.report
    assert parsed.machine_generated
    assert not parsed.bounce
    assert not parsed.auto_reply


# --- reply stripping rules ------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [
        "On Mon, 2 Mar 2026 at 10:15, Support <support@example.com> wrote:",
        "On Mon, 2 Mar 2026 at 10:15, Support <\nsupport@example.com> wrote:",
        "Am 02.03.2026 um 10:15 schrieb Support <support@example.com>:",
        "Support <support@example.com> schrieb am Mo., 2. März 2026 um 10:15 Uhr:",
        "Op 2 mrt. 2026 om 10:15 heeft Support <support@example.com> het volgende\n"
        "geschreven:",
        "Le 2 mars 2026 à 10:15, Support <support@example.com> a écrit :",
        "El lun, 2 mar 2026 a las 10:15, Support (<support@example.com>) escribió:",
        "Il giorno lun 2 mar 2026 alle ore 10:15 Support <support@example.com>\n"
        "ha scritto:",
        "Em seg., 2 de mar. de 2026 às 10:15, Support <support@example.com>\nescreveu:",
        "Den 2 mars 2026 kl. 10:15 skrev Support <support@example.com>:",
        "W dniu 2.03.2026 o 10:15, Support <support@example.com> pisze:",
        "W dniu 2 marca 2026 10:15 użytkownik Support <support@example.com>\nnapisał:",
        "пн, 2 мар. 2026 г. в 10:15, Support <support@example.com>:",
        "2 бер. 2026 р. о 10:15 Support <support@example.com> пише:",
        "在 2026年3月2日 10:15，Support <support@example.com> 写道：",
        "2026年3月2日(月) 10:15 Support <support@example.com>:",
        '"Support" <support@example.com> on 03/02/2026 10:15:32 AM',
        "-----Original Message-----",
        "----- Ursprüngliche Nachricht -----",
        "From: Support <support@example.com>\nSent: Monday, March 2, 2026 10:15\n"
        "To: Ann <ann@example.com>\nSubject: Re: [#7] Login",
        "**From:** Support <support@example.com>\n**Sent:** Monday, March 2, 2026\n"
        "**To:** Ann\n**Subject:** Login",
        "De : Support <support@example.com>\nEnvoyé : lundi 2 mars 2026 10:15\n"
        "À : Ann\nObjet : Login",
        "Von: Support <support@example.com>\nGesendet: Montag, 2. März 2026 10:15\n"
        "An: Ann\nBetreff: Login",
    ],
)
def test_quote_headers_in_many_clients_and_languages_end_the_reply(header: str) -> None:
    text = f"The fix works for us.\n\n{header}\n\n> Please try the fix.\n> Support"
    assert extract_reply(text) == "The fix works for us."


def test_inline_answers_between_quotes_are_kept() -> None:
    text = (
        "On Mon, 2 Mar 2026 at 10:15, Support <s@example.com> wrote:\n"
        "> Which version do you run?\n\n1.42\n"
    )
    assert strip_quoted_history(text) == "1.42"


def test_quotes_without_a_header_stay_when_text_follows() -> None:
    text = "> Do you use agents?\n\nYes, three agent pools."
    assert extract_reply(text) == text


def test_a_line_starting_with_on_is_not_a_quote_header() -> None:
    text = "On Monday we deploy 2 new agents.\nThanks for the quick help"
    assert extract_reply(text) == text


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nAnn Example\nPlatform Team",
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Von meinem iPhone gesendet",
        "Get Outlook for Android",
        "Ann Example\nTel: +49 30 1234 5678\nwww.example.com",
        "This e-mail and any attachments may contain confidential information. If you "
        "are not the intended recipient, please delete it.",
    ],
)
def test_signatures_disclaimers_and_contact_blocks_are_removed(signature: str) -> None:
    text = f"The upgrade is done.\n\nBest regards,\nAnn\n\n{signature}\n"
    assert strip_signature(text) == "The upgrade is done.\n\nBest regards,\nAnn"


def test_a_link_at_the_end_of_a_reply_is_not_a_signature() -> None:
    text = "Here is the log:\nhttps://gist.example.com/abc123"
    assert extract_reply(text) == text


# --- charsets and HTML ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("Grüße".encode("cp1252"), "iso-8859-1", "Grüße"),
        ("“quoted” €".encode("cp1252"), "iso-8859-1", "“quoted” €"),
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # mislabelled UTF-8
        ("Grüße".encode(), "us-ascii", "Grüße"),
        ("Grüße".encode(), "x-no-such-charset", "Grüße"),
        ("绩效管理，究竟谁错了".encode("gbk"), "gb2312", "绩效管理，究竟谁错了"),
        ("日本語".encode("iso2022_jp"), "ISO-2022-JP", "日本語"),
        ("Hi Mom -☺-!".encode("utf-7"), "utf-7", "Hi Mom -☺-!"),
        (b"", None, ""),
        # Codecs that are no charset: bytes-to-bytes and text transforms.
        ("Grüße".encode(), "uu", "Grüße"),
        ("Grüße".encode(), "base64", "Grüße"),
        ("Grüße".encode(), "rot13", "Grüße"),
        (b"plain", "hex", "plain"),
    ],
)
def test_charsets_decode_with_sensible_fallbacks(
    data: bytes, declared: str | None, expected: str
) -> None:
    assert decode_bytes(data, declared).text == expected


def test_microsoft_iso_2022_jp_extensions_are_decoded() -> None:
    # ESC $ B, then JIS 0x2D21 (NEC row 13: "①"), then back to ASCII.
    assert decode_bytes(b"\x1b$B-!\x1b(B ok", "iso-2022-jp").text == "① ok"


def test_html_to_text_quotes_blockquotes_and_drops_invisible_parts() -> None:
    html = (
        "<html><head><style>p{}</style><title>t</title></head><body>"
        "<p>Hello&nbsp;there</p><blockquote>Old <b>text</b><br>line two</blockquote>"
        "<script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>"
    )
    assert html_to_text(html) == (
        "Hello there\n\n> Old text\n> line two\n\n- one\n- two"
    )


# --- robustness -----------------------------------------------------------------------
def test_broken_message_never_raises_and_reports_defects() -> None:
    parsed = parse_message(fixture("broken.eml"))

    assert parsed.reply_text == "Hello world"
    assert parsed.subject.startswith("café")
    assert parsed.date is None
    assert "InvalidDateHeader" in parsed.defects
    assert any(defect.startswith("TextCharset") for defect in parsed.defects)
    assert [a.filename for a in parsed.attachments] == ["ÿþ.bin"]


@pytest.mark.parametrize("raw", [b"", b"\x00\xff" * 10, b"Subject: only\n", b"\n\n\n"])
def test_degenerate_inputs_parse_to_empty_messages(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert parsed.reply_text == parsed.reply_text.strip()
    assert not any(defect.startswith("ParseError") for defect in parsed.defects)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_parse_message_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    parsed = parse_message(raw)
    assert isinstance(parsed.reply_text, str)


FIXTURE_BYTES = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIXTURE_BYTES),
    st.integers(min_value=0, max_value=4000),
    st.binary(min_size=1, max_size=40),
)
def test_parse_message_never_raises_on_corrupted_real_messages(
    raw: bytes, position: int, garbage: bytes
) -> None:
    position = position % (len(raw) + 1)
    parsed = parse_message(raw[:position] + garbage + raw[position:])
    assert not any(defect.startswith("ParseError") for defect in parsed.defects)
    json_safe = parsed.reply_text.encode("utf-8")  # no lone surrogates
    assert isinstance(json_safe, bytes)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.eml")), ids=lambda p: p.name)
def test_reply_text_is_extract_reply_of_the_body(path: Path) -> None:
    # parse_message reuses stage 1 instead of running extract_reply again.
    parsed = parse_message(fixture(path.name))

    assert parsed.reply_text == extract_reply(parsed.text)
    assert parsed.unquoted_text == strip_quoted_history(parsed.text)
