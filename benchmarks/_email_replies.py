"""Reply-extraction scoring for ``email_corpus.py`` (a helper: run_all.py skips ``_*``).

Four reply corpora are scored the same way: the two shared ones
(../shared/corpora: discourse's trimmer and mailgun's talon, key
``visible_reply_text``) and the project's own, written for issue 16 in
tests/fixtures/replies/ (key ``reply_text``): ``tuning`` (the rules were tuned on
it) and ``heldout`` (kept aside, never tuned on). Per corpus it prints the exact
share and how the misses lean: *over-keeping* (the expected text is a proper
prefix of ours: history or signature left in) or *over-cutting* (ours is a proper
prefix of the expected: new text lost).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from _common import REPO_ROOT

from notifications.parsing import ParsedMessage, parse_message
from notifications.parsing.html import html_to_text

OWN_CORPORA = REPO_ROOT / "tests" / "fixtures" / "replies"
TUNING = "own-tuning"
HELDOUT = "own-heldout"
TALON = "mailgun-talon"


def normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?m)^[ \t]*#{1,6}[ \t]+", "", text)
    return re.sub(r"\s+", " ", text).strip()


def wrap_body(body: bytes, subtype: str) -> bytes:
    """A minimal message around a bare body, so the whole parser is exercised."""
    head = (
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/{subtype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode("ascii") + body


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.1f}%" if whole else "0/0"


class Parser(Protocol):
    """What scoring needs of email_corpus.py's Timer: a parse and its failures."""

    failures: Counter[str]

    def parse(self, raw: bytes, corpus: str) -> ParsedMessage: ...


@dataclass(frozen=True)
class ReplyCorpus:
    name: str
    folder: Path
    key: str  # the expected field scored


def reply_corpora(shared: Path) -> list[ReplyCorpus]:
    return [
        ReplyCorpus(
            "discourse-email_reply_trimmer",
            shared / "discourse-email_reply_trimmer",
            "visible_reply_text",
        ),
        ReplyCorpus(TALON, shared / TALON, "visible_reply_text"),
        ReplyCorpus(TUNING, OWN_CORPORA / "tuning", "reply_text"),
        ReplyCorpus(HELDOUT, OWN_CORPORA / "heldout", "reply_text"),
    ]


def reply_cases(corpus: ReplyCorpus) -> Iterator[tuple[dict[str, Any], bytes, str]]:
    """(case, raw message, the body as the library baselines see it)."""
    manifest = json.loads((corpus.folder / "manifest.json").read_text("utf-8"))
    for case in manifest["cases"]:
        if corpus.key not in case["expected"]:
            continue
        data = (corpus.folder / case["raw_path"]).read_bytes()
        kind = case.get("input_kind", "").lower()
        if kind.startswith("raw"):
            message = email.message_from_bytes(data, policy=email.policy.default)
            part = message.get_body(("plain",))  # type: ignore[attr-defined]
            body = part.get_content() if part is not None else ""
            yield case, data, body
        elif kind.startswith("html"):
            body = html_to_text(data.decode("utf-8", "replace"))
            yield case, wrap_body(data, "html"), body
        else:
            yield case, wrap_body(data, "plain"), data.decode("utf-8", "replace")


@dataclass
class Lean:
    """Exact matches and the direction of the misses."""

    outcomes: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    def add(self, ours: str, expected: str, case_id: str) -> None:
        ours, expected = normalise(ours), normalise(expected)
        self.outcomes["total"] += 1
        if ours == expected:
            self.outcomes["exact"] += 1
            return
        self.misses.append(case_id)
        if ours.startswith(expected):
            self.outcomes["over-keeping"] += 1
        elif expected.startswith(ours):
            self.outcomes["over-cutting"] += 1

    def line(self) -> str:
        total = self.outcomes["total"]
        return "; ".join(
            f"{label} {share(self.outcomes[label], total)}"
            for label in ("exact", "over-keeping", "over-cutting")
        )

    @property
    def total(self) -> int:
        return self.outcomes["total"]

    @property
    def rate(self) -> float:
        return self.outcomes["exact"] / self.total if self.total else 0.0


def score_replies(corpus: ReplyCorpus, timer: Parser, verbose: bool) -> float:
    """Print the corpus' figures; return the exact share of the scored field."""
    reply, unquoted = Lean(), Lean()
    for case, raw, _body in reply_cases(corpus):
        parsed = timer.parse(raw, corpus.name)
        expected = case["expected"][corpus.key]
        reply.add(parsed.reply_text, expected, case["id"])
        unquoted.add(parsed.unquoted_text, expected, case["id"])
    print(f"\n== {corpus.name}: {reply.total} cases with {corpus.key}")
    print(f"  parse failures: {share(timer.failures[corpus.name], reply.total)}")
    scored = reply
    if corpus.name == TALON:
        print(f"  unquoted_text (talon semantics: signature kept): {unquoted.line()}")
        print(f"  reply_text (product: signature stripped too):    {reply.line()}")
        scored = unquoted
    else:
        print(f"  reply_text: {reply.line()}")
    if verbose and scored.misses:
        print("  misses: " + ", ".join(scored.misses))
    return scored.rate


def score_libraries(corpora: list[ReplyCorpus]) -> None:
    """email-reply-parser and mail-parser-reply on the same bodies (if installed)."""
    baselines: dict[str, Callable[[str], str | None]] = {}
    try:
        from email_reply_parser import EmailReplyParser

        baselines["email-reply-parser"] = EmailReplyParser.parse_reply
    except ImportError:
        print("\n(email-reply-parser not installed: pip install -e '.[dev]')")
    with contextlib.suppress(ImportError):
        from mailparser_reply import EmailReplyParser as MailParserReply

        languages = ["en", "de", "fr", "nl", "es", "it", "pl", "sv", "da", "cs"]
        baselines["mail-parser-reply"] = MailParserReply(
            languages=languages
        ).parse_reply
    if not baselines:
        return
    print("\n== libraries on the same bodies (first text/plain part; HTML as text)")
    for corpus in corpora:
        leans = {library: Lean() for library in baselines}
        for case, _raw, body in reply_cases(corpus):
            expected = case["expected"][corpus.key]
            for library, extract in baselines.items():
                try:
                    ours = extract(body) or ""
                except Exception:  # a library failure is a miss
                    ours = "\0"
                leans[library].add(ours, expected, case["id"])
        for library, lean in leans.items():
            print(f"  {corpus.name:30} {library:19} {lean.line()}")


def time_long_bodies() -> float:
    """Seconds for the slowest of a few ~1 MB bodies; the ingest path needs < 1 s."""
    paragraph = (
        "We restarted the agent pool at 10:02 and the runs resumed; the logs are "
        "attached. From: the second region we still see timeouts.\n\n"
    )
    quote = "> On Tue, Mar 3, 2026 at 10:02 AM Support <support@example.com> wrote:\n"
    header = "From: Someone <a@example.com>\nSent: Tuesday, March 3, 2026\nTo: x\n"
    bodies = {
        "prose": paragraph * (1_000_000 // len(paragraph)),
        "quoted": (paragraph + quote) * (1_000_000 // (len(paragraph) + len(quote))),
        "header-like lines": (header + "\n") * (1_000_000 // (len(header) + 1)),
        "one long line": "x" * 1_000_000,
        "dashes and dates": ("-" * 40 + " 01/02/2001 10:00 AM\n") * 16_000,
        "forward banners": (
            "----- Forwarded by Ann Lee/NA/Corp on 10/02/2001 11:05 AM -----\n"
            "Lee Park\n01/14/2000 01:16 PM\nTo: Ann Lee/NA/Corp@Corp\n"
            "cc:\nSubject: x\n\n"
        )
        * 8_500,
    }
    print("\n== long bodies (~1 MB each, through parse_message; CPU time decides)")
    slowest = 0.0
    for label, body in bodies.items():
        raw = wrap_body(body.encode(), "plain")
        started, cpu_started = time.perf_counter(), time.process_time()
        parse_message(raw)
        cpu = time.process_time() - cpu_started
        slowest = max(slowest, cpu)
        print(
            f"  {label:20} {len(raw) / 1e6:.2f} MB  {cpu:.3f}s CPU "
            f"({time.perf_counter() - started:.3f}s wall)"
        )
    return slowest
