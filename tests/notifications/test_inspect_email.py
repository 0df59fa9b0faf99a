"""``manage.py inspect_email``: CONTRACT.md's JSON lines; bad input never fails it."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.tokens import reply_token_make

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
CONTRACT_KEYS = [
    "from",
    "to",
    "cc",
    "subject",
    "message_id",
    "in_reply_to",
    "references",
    "reply_text",
    "attachments",
    "auto_reply",
    "bounce",
    "ticket_reference",
    "defects",
]


def run(*paths: str, stdin: bytes | None = None) -> list[dict[str, object]]:
    out = io.StringIO()
    options = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.BytesIO(stdin)
    call_command("inspect_email", *paths, **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_line_per_message_with_the_contract_keys_in_order() -> None:
    lines = run(str(FIXTURES / "outlook_reply.eml"), str(FIXTURES / "attachments.eml"))

    assert [list(line) for line in lines] == [CONTRACT_KEYS, CONTRACT_KEYS]
    outlook, attachments = lines
    assert outlook["from"] == "bob@acme.example.com"
    assert outlook["cc"] == ["carol@acme.example.com", "dave@acme.example.com"]
    assert outlook["reply_text"].endswith("Regards,\nBob")
    assert outlook["ticket_reference"] == 42
    assert outlook["defects"] == []
    assert attachments["attachments"][0] == {
        "filename": "plan-output.pdf",
        "content_type": "application/pdf",
        "size": 1069,
    }


def test_standard_input_is_read_for_a_dash() -> None:
    token = reply_token_make(ticket_number=31, user_id=2)
    raw = (
        (FIXTURES / "reply_token.eml")
        .read_bytes()
        .replace(b"REPLYTOKEN", token.encode())
    )

    (line,) = run("-", stdin=raw)

    assert line["ticket_reference"] == 31
    assert line["reply_text"] == "Yes, please go ahead with the maintenance on Tuesday."


def test_bounce_and_auto_reply_flags() -> None:
    bounce, vacation = run(
        str(FIXTURES / "bounce_dsn.eml"), str(FIXTURES / "vacation_auto_reply.eml")
    )
    assert (bounce["bounce"], bounce["auto_reply"]) == (True, False)
    assert (vacation["bounce"], vacation["auto_reply"]) == (False, True)


def test_unreadable_and_broken_inputs_give_lines_with_defects(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\xff\xfe garbage \x80\x81")

    missing, broken, junk = run(
        str(tmp_path / "missing.eml"), str(FIXTURES / "broken.eml"), str(garbage)
    )

    assert missing["defects"][0].startswith("Unreadable:")
    assert missing["reply_text"] == ""
    assert missing["ticket_reference"] is None
    assert "InvalidDateHeader" in broken["defects"]
    assert list(junk) == CONTRACT_KEYS


def test_no_path_is_a_usage_error() -> None:
    with pytest.raises(CommandError):
        call_command("inspect_email")
