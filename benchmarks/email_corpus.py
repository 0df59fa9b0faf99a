"""Inbound email parsing against the shared corpora and the project's own.

Run from the repository root (``make bench`` runs it through run_all.py)::

    python benchmarks/email_corpus.py [--corpora DIR] [--libraries] [--verbose]

Every case of every corpus goes through ``parse_message`` (plain-text and HTML
bodies are wrapped in a minimal MIME message first), and per corpus it prints:

- discourse-email_reply_trimmer: the share of exact reply matches; the corpus
  expects quoted history *and* signatures removed, so ``reply_text`` is scored.
- mailgun-talon: its manifest says signatures are kept ("Sent from my iPhone"
  stays), so ``unquoted_text`` (history removed, signature kept) is scored; the
  share for the product's ``reply_text`` is printed beside it for honesty.
- own-tuning and own-heldout (tests/fixtures/replies/, written for issue 16):
  ``reply_text``; the held-out part was never tuned on.
- for each reply corpus, beside the exact share: over-keeping (the expected text
  is a proper prefix of ours) and over-cutting (ours is a proper prefix of it).
- sisimai-bounces: precision, recall and F1 of ``bounce`` against ``is_bounce``
  and of ``auto_reply`` against ``is_auto_reply_vacation``; human mail flagged as
  a bounce is listed; the CRLF/CR/mbox variants are parsed too.
- zammad-mail: parse failures and agreement with its headers, bodies (as text)
  and attachments.
- long bodies: CPU seconds for a few ~1 MB bodies (prose, quotes, header-like
  lines, one line, dashes and dates).

"Exact" is after normalisation: CRLF to LF, Markdown ``**``/``__`` and heading
marks removed, whitespace runs folded. A message "fails to parse" when
``parse_message`` reports a ParseError defect. The exit status is non-zero when
a target is missed: 85% exact on each of the four reply corpora, no parse
failure, bounce F1 of 0.99, no human message classified as a bounce, and every
1 MB body parsed in under a CPU second. ``--libraries`` also scores
email-reply-parser (a dev extra) and mail-parser-reply (if installed) on the
same bodies, for docs/email-parsing.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, run_main

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scalr_support.settings.local")

import django

django.setup()

from _email_replies import (  # noqa: E402
    normalise,
    reply_corpora,
    score_libraries,
    score_replies,
    share,
    time_long_bodies,
)

from notifications.parsing import ParsedMessage, parse_message  # noqa: E402
from notifications.parsing.html import html_to_text  # noqa: E402

DEFAULT_CORPORA = REPO_ROOT.parent / "shared" / "corpora"
REPLY_TARGET = 0.85
F1_TARGET = 0.99
TRIMMER = "discourse-email_reply_trimmer"
SISIMAI = "sisimai-bounces"
ZAMMAD = "zammad-mail"


def load_manifest(corpora: Path, name: str) -> dict[str, Any]:
    return json.loads((corpora / name / "manifest.json").read_text(encoding="utf-8"))


@dataclass
class Timer:
    """Counts parses, their wall and CPU time, and failures per corpus."""

    messages: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    bytes_read: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def parse(self, raw: bytes, corpus: str) -> ParsedMessage:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            parsed = parse_message(raw)
        except Exception as error:  # counted as a failure, never expected
            parsed = ParsedMessage(defects=(f"ParseError: raised {error!r}",))
        self.seconds += time.perf_counter() - started
        self.bytes_read += len(raw)
        self.cpu_seconds += time.process_time() - cpu_started
        self.messages += 1
        if any(defect.startswith("ParseError") for defect in parsed.defects):
            self.failures[corpus] += 1
        return parsed


# --- bounces --------------------------------------------------------------------------
@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    def line(self) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = (
            2 * precision * recall / (precision + recall) if precision + recall else 0.0
        )
        return (
            f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})"
        )

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0


def score_bounces(corpora: Path, timer: Timer, verbose: bool) -> tuple[float, int]:
    manifest = load_manifest(corpora, SISIMAI)
    bounce, vacation = Confusion(), Confusion()
    human_as_bounce: list[str] = []
    misses: list[str] = []
    expectations: dict[str, dict[str, Any]] = {}
    with_recipients = 0
    for case in manifest["cases"]:
        expected = case["expected"]
        parsed = timer.parse(
            (corpora / SISIMAI / case["raw_path"]).read_bytes(), SISIMAI
        )
        if "is_bounce" not in expected:
            continue
        expectations[Path(case["raw_path"]).name] = expected
        bounce.add(parsed.bounce, expected["is_bounce"])
        vacation.add(parsed.auto_reply, expected["is_auto_reply_vacation"])
        if parsed.bounce != expected["is_bounce"]:
            misses.append(case["id"])
        if parsed.bounce and not expected["is_bounce"] and not parsed.report:
            is_machine = expected.get("is_feedback_report") or expected.get(
                "is_delivered_notification"
            )
            if not is_machine:
                human_as_bounce.append(case["id"])
        with_recipients += parsed.bounce and bool(parsed.bounced_recipients)
    print(f"\n== {SISIMAI}: {bounce.tp + bounce.fp + bounce.fn + bounce.tn} cases")
    print(f"  parse failures: {share(timer.failures[SISIMAI], len(manifest['cases']))}")
    print(f"  bounce:                 {bounce.line()}")
    print(f"  auto-reply (vacation):  {vacation.line()}")
    print(
        "  bounces with a bounced recipient extracted: "
        f"{share(with_recipients, bounce.tp)}"
    )
    print(
        "  non-bounce mail classified as a bounce: "
        f"{len(human_as_bounce)} {human_as_bounce}"
    )
    if verbose and misses:
        print("  bounce misclassified: " + ", ".join(misses))

    variants = Confusion()
    variant_files = 0
    maildir = corpora / SISIMAI / "set-of-emails" / "maildir"
    for folder in ("dos", "mac", "err"):
        for path in (
            sorted((maildir / folder).glob("*.eml"))
            if (maildir / folder).is_dir()
            else []
        ):
            variant_files += 1
            parsed = timer.parse(path.read_bytes(), SISIMAI + " variants")
            expected = expectations.get(path.name)
            if expected is not None:
                variants.add(parsed.bounce, expected["is_bounce"])
    print(
        f"  CRLF/CR/mbox variants: {variant_files} files, parse failures "
        f"{share(timer.failures[SISIMAI + ' variants'], variant_files)}; "
        f"bounce on those with bsd expectations: {variants.line()}"
    )
    return bounce.f1, len(human_as_bounce)


# --- zammad ---------------------------------------------------------------------------
def similarity(first: str, second: str) -> float:
    """Dice coefficient of the two texts' word multisets (1.0: same words)."""
    words_first, words_second = Counter(first.split()), Counter(second.split())
    total = sum(words_first.values()) + sum(words_second.values())
    return 2 * sum((words_first & words_second).values()) / total if total else 1.0


def _addresses(value: str | None) -> set[str]:
    """Addresses in a header value as Zammad rendered it (names may hold brackets)."""
    return {
        match.lower()
        for match in re.findall(r"[^\s<>()\[\]\"',;]+@[^\s<>()\[\]\"',;]+", value or "")
    }


def _body_text(expected: dict[str, Any]) -> str:
    body = expected.get("body") or ""
    if body == "no visible content":  # Zammad's placeholder for an empty body
        return ""
    return html_to_text(body) if expected.get("content_type") == "text/html" else body


def score_zammad(corpora: Path, timer: Timer, verbose: bool) -> None:
    manifest = load_manifest(corpora, ZAMMAD)
    agree = Counter[str]()
    checked = Counter[str]()
    misses: dict[str, list[str]] = {}

    def check(field_name: str, ok: bool, case_id: str) -> None:
        checked[field_name] += 1
        agree[field_name] += ok
        if not ok:
            misses.setdefault(field_name, []).append(case_id)

    for case in manifest["cases"]:
        expected = case["expected"]
        parsed = timer.parse((corpora / ZAMMAD / case["raw_path"]).read_bytes(), ZAMMAD)
        case_id = case["id"]
        sender = case.get("expected_extra_from_spec", {}).get("spec_sender_email")
        sender = sender or expected["from_email"].strip('"')
        check("from address", parsed.from_address.lower() == sender.lower(), case_id)
        check(
            "from name",
            parsed.from_name == (expected["from_display_name"] or ""),
            case_id,
        )
        check(
            "subject",
            normalise(parsed.subject) == normalise(expected.get("subject") or ""),
            case_id,
        )
        check(
            "to",
            set(a.lower() for a in parsed.to) == _addresses(expected.get("to")),
            case_id,
        )
        if "cc" in expected:
            check(
                "cc",
                set(a.lower() for a in parsed.cc) == _addresses(expected["cc"]),
                case_id,
            )
        ours, theirs = normalise(parsed.text), normalise(_body_text(expected))
        check("body (exact text)", ours == theirs, case_id)
        check("body (>= 90% same words)", similarity(ours, theirs) >= 0.9, case_id)
        wanted = [
            attachment
            for attachment in expected["attachments"]
            if not attachment.get("preferences", {}).get("content-alternative")
        ]
        if wanted:
            names = Counter(attachment.filename for attachment in parsed.attachments)
            digests = {
                hashlib.md5(a.content, usedforsecurity=False).hexdigest()
                for a in parsed.attachments
            }
            check(
                "attachment names",
                not (Counter(a["filename"] for a in wanted) - names),
                case_id,
            )
            check(
                "attachment bytes (md5)",
                all(a["md5"] in digests for a in wanted),
                case_id,
            )
    inline_ok = inline_total = 0
    for case in manifest.get("spec_inline_cases", []):
        parsed = timer.parse((corpora / ZAMMAD / case["raw_path"]).read_bytes(), ZAMMAD)
        expected = case["expected"]
        flag = expected.get(
            "is_out_of_office_auto_reply", expected.get("is_auto_response")
        )
        if flag is not None:
            inline_total += 1
            inline_ok += parsed.machine_generated == flag
    total = len(manifest["cases"]) + len(manifest.get("spec_inline_cases", []))
    print(f"\n== {ZAMMAD}: {total} messages")
    print(f"  parse failures: {share(timer.failures[ZAMMAD], total)}")
    for field_name in checked:
        print(f"  {field_name:24} {share(agree[field_name], checked[field_name])}")
    print(f"  auto-reply flags (spec cases): {share(inline_ok, inline_total)}")
    if verbose:
        for field_name, ids in misses.items():
            print(f"  {field_name} differs: {', '.join(ids)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument(
        "--libraries", action="store_true", help="score the two libraries too"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="list the cases that differ"
    )
    args = parser.parse_args(argv)
    corpora: Path = args.corpora
    if not (corpora / TRIMMER / "manifest.json").exists():
        print(f"No corpora under {corpora}")
        return 1

    timer = Timer()
    replies = reply_corpora(corpora)
    exact = {
        corpus.name: score_replies(corpus, timer, args.verbose) for corpus in replies
    }
    f1, human_bounces = score_bounces(corpora, timer, args.verbose)
    score_zammad(corpora, timer, args.verbose)
    if args.libraries:
        score_libraries(replies)
    slowest = time_long_bodies()

    failures = sum(timer.failures.values())
    rate = timer.messages / timer.seconds if timer.seconds else 0.0
    cpu_rate = timer.messages / timer.cpu_seconds if timer.cpu_seconds else 0.0
    print(
        f"\nthroughput: {timer.messages} messages, {rate:,.0f} messages/s wall "
        f"({timer.seconds:.2f}s), {cpu_rate:,.0f} messages per CPU second "
        f"({timer.cpu_seconds:.2f}s; one core, corpus messages average "
        f"{timer.bytes_read / timer.messages / 1024 if timer.messages else 0:.0f} KB)"
    )
    print(f"parse failures in all corpora: {failures}")
    missed = [
        label
        for label, ok in (
            *(
                (f"{name} exact >= {REPLY_TARGET:.0%}", rate >= REPLY_TARGET)
                for name, rate in exact.items()
            ),
            ("a 1 MB body parses in under a second", slowest < 1.0),
            ("no parse failure", failures == 0),
            (f"bounce F1 >= {F1_TARGET}", f1 >= F1_TARGET),
            ("no human mail classified as a bounce", human_bounces == 0),
        )
        if not ok
    ]
    print("targets: " + ("all met" if not missed else "MISSED " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    run_main(main)
