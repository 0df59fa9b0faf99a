"""``manage.py inspect_email PATH...``: show how inbound processing reads messages.

For operators looking at a quarantined message and for the corpus benchmark: one
JSON object per message and line, keys in the order CONTRACT.md gives. ``-``
reads standard input. Nothing here fails on bad input: an unreadable file is a
line with a defect, and the exit status is 0 whenever paths were given.
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.parsing import ParsedMessage, parse_message, ticket_reference_hint


def report(parsed: ParsedMessage) -> dict[str, Any]:
    """The CONTRACT.md shape of one parsed message (key order matters)."""
    return {
        "from": parsed.from_address or None,
        "to": list(parsed.to),
        "cc": list(parsed.cc),
        "subject": parsed.subject,
        "message_id": parsed.message_id,
        "in_reply_to": list(parsed.in_reply_to),
        "references": list(parsed.references),
        "reply_text": parsed.reply_text,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in parsed.attachments
        ],
        "auto_reply": parsed.auto_reply or parsed.report,
        "bounce": parsed.bounce,
        "ticket_reference": ticket_reference_hint(parsed),
        "defects": list(parsed.defects),
    }


def unreadable(path: str, error: OSError) -> dict[str, Any]:
    """The line for a path that could not be read."""
    return report(
        ParsedMessage(defects=(f"Unreadable: {path}: {error.strerror or error}",))
    )


def _read_stream(stream: Any) -> bytes:
    data = getattr(stream, "buffer", stream).read()
    return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data


class Command(BaseCommand):
    help = "Parse raw RFC 822 messages as inbound processing does; print JSON lines."
    stealth_options = ("stdin",)  # a binary stream instead of sys.stdin (tests)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="*", metavar="PATH", help="files, or - for stdin"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[str] = options["paths"]
        if not paths:
            raise CommandError("Give at least one PATH (or - for standard input).")
        stdin = options.get("stdin") or sys.stdin
        for line in self._lines(paths, stdin):
            self.stdout.write(json.dumps(line, ensure_ascii=False))

    def _lines(self, paths: list[str], stdin: Any) -> Iterator[dict[str, Any]]:
        for path in paths:
            try:
                raw = _read_stream(stdin) if path == "-" else Path(path).read_bytes()
            except OSError as error:
                yield unreadable(path, error)
                continue
            yield report(parse_message(raw))
