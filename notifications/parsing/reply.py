"""Extract the new text of an email reply: quoted history and signature removed.

Two pure stages, each usable alone:

1. ``strip_quoted_history`` removes what the sender's client quoted: our own
   ``REPLY_MARKER`` and everything below it, quote headers ("On <date>, <someone>
   wrote:" in many languages, over several lines), header blocks of quoted mail
   found by their shape (Outlook's "From: ... Sent: ...", Thunderbird's, Lotus
   Notes' sender/date line over To/cc/Subject; ``reply_blocks.py``),
   "-----Original Message-----" separators and trailing ``>`` quotes. Inline
   answers between quotes survive. A forward below new text is content and kept;
   a forward with nothing above it (a *pure forward*, Notes' "----- Forwarded by
   ... -----" included) is read as the forwarded message, whose own new text is
   the result.
2. ``strip_signature`` (``reply_signature.py``) removes what the sender added
   around the new text: forwarded messages below it, "-- " signatures, "Sent from
   my iPhone" lines, legal disclaimers and contact blocks.

``extract_reply`` runs both and is what a comment receives. The rules work on
lines: quote headers, header blocks, separators and banners are found first
("splits"), then each split either ends the reply (new text above it) or, at the
top of a bottom-posted reply or a pure forward, is dropped with what it
introduces. The approach owes its shape to discourse/email_reply_trimmer and
mailgun/talon; see docs/email-parsing.md for the evaluation against their
corpora and the project's own.
"""

import re
from dataclasses import dataclass
from typing import Literal

from . import reply_patterns as p
from .reply_blocks import block_after, find_header_blocks, skip_blank
from .reply_lines import (
    is_blank,
    is_delimiter,
    is_quote,
    is_text,
    join,
    prepare,
)
from .reply_signature import strip_signature

REPLY_MARKER = "-- Reply above this line --"

SplitKind = Literal["header", "separator", "block", "forward"]
MAX_FORWARD_DEPTH = 4  # quoted forwards in quoted forwards, each unquoted and read


@dataclass(frozen=True, slots=True)
class _Split:
    start: int  # first line of the split
    end: int  # last line of the split (inclusive)
    kind: SplitKind


# --- finding splits ---------------------------------------------------------------
def _header_start(lines: list[str], end: int) -> tuple[int, str | None]:
    """Where the quote header that ends on line ``end`` begins.

    Returns (line index, text before the header on that line or None). The nearest
    line that starts like a header ("On", "Le", a date...) wins; otherwise the
    nearest line with an address; otherwise the ``end`` line alone.
    """
    low = max(0, end - p.MAX_HEADER_LINES + 1)
    blanks = 0
    for index in range(end, low - 1, -1):
        line = lines[index]
        if is_blank(line):
            blanks += 1
            if blanks > 1:
                break
            continue
        if index < end and is_quote(line):
            break
        if p.HEADER_START_RE.match(line):
            return index, None
    inline = p.INLINE_HEADER_RE.search(lines[end])
    if inline is not None and not is_quote(lines[end]):
        return end, lines[end][: inline.start(1)].rstrip(" \t-")
    for index in range(end, low - 1, -1):
        if is_blank(lines[index]) or (index < end and is_quote(lines[index])):
            break
        if "@" in lines[index]:
            return index, None
    return end, None


def _valid_header(joined: str, *, dashed: bool) -> bool:
    if len(joined) > p.MAX_HEADER_CHARS:
        return False
    if dashed:
        return True
    if re.search(r"\bsent\s*:\s*$", joined, re.IGNORECASE) and "@" not in joined:
        return False
    if re.search(r"\bUhr\s*:\s*$", joined) and "schrieb" not in joined.lower():
        return False
    return bool(re.search(r"\d|@", joined))


def _may_end_header(line: str) -> bool:
    """Whether a line can end a quote header: a cheap test before the regex."""
    tail = line.rstrip(" \t*_")
    if not tail.endswith((":", "\uff1a")) and p.CJK_WROTE_RE.search(tail) is None:
        return False
    return p.WROTE_END_RE.search(line) is not None


def _find_quote_headers(lines: list[str]) -> list[_Split]:
    splits = []
    for end, line in enumerate(lines):
        dashed = p.DASHED_WROTE_RE.match(line) is not None
        if not dashed and not _may_end_header(line):
            continue
        start, _prefix = _header_start(lines, end)
        if is_quote(lines[start]):
            continue  # quoted history quoting older history: handled as a quote
        joined = " ".join(part.strip() for part in lines[start : end + 1])
        if _valid_header(joined, dashed=dashed):
            splits.append(_Split(start, end, "header"))
    for index, line in enumerate(lines):
        if p.LOTUS_HEADER_RE.match(line) and not is_quote(line):
            splits.append(_Split(index, index, "header"))
        elif p.DATE_NAME_RE.match(line):
            end = (
                index + 1
                if line.rstrip().endswith("<") and index + 1 < len(lines)
                else index
            )
            splits.append(_Split(index, end, "header"))
    return splits


def _find_splits(lines: list[str]) -> list[_Split]:
    splits = _find_quote_headers(lines) + [
        _Split(start, end, "block") for start, end in find_header_blocks(lines)
    ]
    for index, line in enumerate(lines):
        if p.ORIGINAL_MESSAGE_RE.match(line):
            splits.append(_Split(index, index, "separator"))
        elif p.FORWARD_RE.match(line) or p.NOTES_FORWARD_RE.match(line):
            splits.append(_Split(index, index, "forward"))
    splits.sort(key=lambda split: (split.start, -split.end))
    merged: list[_Split] = []
    for split in splits:
        if merged and split.start <= merged[-1].end:
            continue  # overlaps an earlier split (e.g. a block inside a header span)
        merged.append(split)
    return merged


# --- walking the splits -----------------------------------------------------------
def _quote_block_end(lines: list[str], start: int) -> int | None:
    """Last line of the ``>`` block at ``start`` (after blanks), or None.

    A non-quoted line between two quoted lines belongs to the quote: a long link
    or word that the sender's client wrapped without a quote mark.
    """
    index = skip_blank(lines, start)
    if index >= len(lines) or not is_quote(lines[index]):
        return None
    last = index
    while index < len(lines):
        if is_quote(lines[index]):
            last = index
        elif is_blank(lines[index]):
            if skip_blank(lines, index) >= len(lines) or not is_quote(
                lines[skip_blank(lines, index)]
            ):
                break
        elif not (index + 1 < len(lines) and is_quote(lines[index + 1])):
            break
        index += 1
    return last


def _only_quoted_headers(lines: list[str]) -> bool:
    """Whether a quote-only body holds nothing but quote headers and blank lines."""
    for line in lines:
        content = re.sub(r"^[ \t>]*", "", line)
        if content.strip() and not (
            p.WROTE_END_RE.search(content) or p.DASHED_WROTE_RE.match(content)
        ):
            return False
    return any(line.strip() for line in lines)


def _cut_at_marker(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if p.MARKER_PHRASE_RE.search(line):
            return lines[:index]
    return lines


def _skip_rules(lines: list[str], index: int) -> int:
    """Past blank lines and the rest of a banner wrapped onto the next line."""
    while index < len(lines) and (is_blank(lines[index]) or is_delimiter(lines[index])):
        index += 1
    return index


def _unquote_forwarded(lines: list[str]) -> list[str]:
    """A forwarded message as written: one level of ``>`` off its leading quote."""
    quote_end = _quote_block_end(lines, 0)
    if quote_end is None:
        return lines
    unquoted = [re.sub(r"^[ \t]*>[ \t]?", "", line) for line in lines[: quote_end + 1]]
    return unquoted + lines[quote_end + 1 :]


def _walk(lines: list[str], depth: int) -> list[str]:
    """The lines of new text: splits with text above end it, those at the top go."""
    out: list[str] = []
    seen_text = False  # kept, not recomputed: one pass however many splits
    position = 0
    for split in _find_splits(lines):
        if split.start < position:
            continue
        before = lines[position : split.start]
        if split.kind == "forward":
            if seen_text or any(map(is_text, before)):
                break  # a forward below new text is content (strip_signature)
            # Nothing but the forward: its message is what the sender brings us.
            position = _skip_rules(lines, split.end + 1)
            if position < len(lines) and is_quote(lines[position]):
                if depth >= MAX_FORWARD_DEPTH:
                    break
                return _walk(_unquote_forwarded(lines[position:]), depth + 1)
            continue  # the splits below are the forwarded message's own
        inline_prefix = None
        if split.kind == "header":
            _start, inline_prefix = _header_start(lines, split.end)
            if inline_prefix:
                before = [*before, inline_prefix]
        has_text = seen_text = seen_text or any(map(is_text, before))
        if has_text or any(map(is_quote, before)):
            out.extend(before)  # (rules and blanks above a dropped split go with it)
        if has_text:
            if split.kind == "header":
                quote_end = _quote_block_end(lines, split.end + 1)
                after = skip_blank(lines, (quote_end or split.end) + 1)
                if (
                    quote_end is not None
                    and after < len(lines)
                    and is_text(lines[after])
                ):
                    position = quote_end + 1  # an inline answer follows the quote
                    continue
            return out
        # Bottom-posting: a split at the top introduces the history that follows.
        if split.kind == "header":
            position = (_quote_block_end(lines, split.end + 1) or split.end) + 1
        elif split.kind == "separator":
            position = block_after(lines, split.end + 1)
        else:
            position = split.end + 1
    return out + lines[position:]


def strip_quoted_history(text: str) -> str:
    """Remove quoted history, quote headers and our reply marker (keep signatures).

    A message that only forwards another (a banner and nothing above it) yields
    the forwarded message's own new text: see docs/email-parsing.md.
    """
    out = _walk(_cut_at_marker(prepare(text)), 0)
    if any(is_text(line) for line in out):
        while out and (is_blank(out[-1]) or is_quote(out[-1]) or is_delimiter(out[-1])):
            out.pop()
    elif _only_quoted_headers(out):
        out = []
    return join(out)


def extract_reply(text: str) -> str:
    """The new text of a reply: no quoted history, no signature."""
    return strip_signature(strip_quoted_history(text)).strip()
