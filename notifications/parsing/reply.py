"""Extract the new text of an email reply: quoted history and signature removed.

Two pure stages, each usable alone:

1. ``strip_quoted_history`` removes what the sender's client quoted: our own
   ``REPLY_MARKER`` and everything below it, quote headers ("On <date>, <someone>
   wrote:" in many languages, over several lines), Outlook/Lotus header blocks
   ("From: ... Sent: ..."), "-----Original Message-----" separators and trailing
   ``>`` quotes. Inline answers between quotes survive. A forwarded message is
   not quoted history and is kept.
2. ``strip_signature`` removes what the sender added around the new text:
   forwarded messages below it, "-- " signatures, "Sent from my iPhone" lines,
   legal disclaimers, trailing contact blocks and leftover rules.

``extract_reply`` runs both and is what a comment receives. The rules work on
lines: quote headers and header blocks are found first ("splits"), then each
split either ends the reply (new text above it) or, at the top of a bottom-posted
reply, is dropped with the quote it introduces. The approach owes its shape to
discourse/email_reply_trimmer and mailgun/talon; see docs/email-parsing.md for
the evaluation against their corpora.
"""

import re
from dataclasses import dataclass
from typing import Literal

from . import reply_patterns as p

REPLY_MARKER = "-- Reply above this line --"

SplitKind = Literal["header", "separator", "block", "forward"]


@dataclass(frozen=True, slots=True)
class _Split:
    start: int  # first line of the split
    end: int  # last line of the split (inclusive)
    kind: SplitKind


# --- line predicates ------------------------------------------------------------------
def _is_blank(line: str) -> bool:
    return not line.strip()


def _is_quote(line: str) -> bool:
    return p.QUOTE_LINE_RE.match(line) is not None


def _is_text(line: str) -> bool:
    """A line of the sender's own words (not blank, quoted or a bare rule)."""
    return bool(line.strip()) and not _is_quote(line) and not _is_delimiter(line)


def _is_delimiter(line: str) -> bool:
    return p.DELIMITER_LINE_RE.match(line) is not None and not _is_quote(line)


def _field_group(line: str) -> str | None:
    for group, regex in p.HEADER_FIELD_RES.items():
        if regex.match(line):
            return group
    return None


def _prepare(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return p.INVISIBLE_CHARS_RE.sub("", text).split("\n")


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


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
        if _is_blank(line):
            blanks += 1
            if blanks > 1:
                break
            continue
        if index < end and _is_quote(line):
            break
        if p.HEADER_START_RE.match(line):
            return index, None
    inline = p.INLINE_HEADER_RE.search(lines[end])
    if inline is not None and not _is_quote(lines[end]):
        return end, lines[end][: inline.start(1)].rstrip(" \t-")
    for index in range(end, low - 1, -1):
        if _is_blank(lines[index]) or (index < end and _is_quote(lines[index])):
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


def _find_quote_headers(lines: list[str]) -> list[_Split]:
    splits = []
    for end, line in enumerate(lines):
        dashed = p.DASHED_WROTE_RE.match(line) is not None
        if not dashed and not p.WROTE_END_RE.search(line):
            continue
        start, _prefix = _header_start(lines, end)
        if _is_quote(lines[start]):
            continue  # quoted history quoting older history: handled as a quote
        joined = " ".join(part.strip() for part in lines[start : end + 1])
        if _valid_header(joined, dashed=dashed):
            splits.append(_Split(start, end, "header"))
    for index, line in enumerate(lines):
        if p.LOTUS_HEADER_RE.match(line) and not _is_quote(line):
            splits.append(_Split(index, index, "header"))
        elif p.DATE_NAME_RE.match(line):
            end = (
                index + 1
                if line.rstrip().endswith("<") and index + 1 < len(lines)
                else index
            )
            splits.append(_Split(index, end, "header"))
    return splits


def _header_block_end(lines: list[str], start: int) -> int | None:
    """Last line of an Outlook-style header block starting at ``start``, if any."""
    groups: set[str] = set()
    last = start
    index = start
    pending = 0  # continuation lines since the last header field
    while index < len(lines):
        line = lines[index]
        group = _field_group(line)
        if group is not None:
            groups.add(group)
            last = index
            pending = 0
        elif _is_blank(line) or pending >= 2:
            break
        else:
            pending += 1
        index += 1
    if len(groups) >= 2 and groups & {"from", "date"}:
        return last
    return None


def _find_header_blocks(lines: list[str]) -> list[_Split]:
    splits = []
    index = 0
    while index < len(lines):
        if _field_group(lines[index]) in ("from", "date", "subject", "reply_to"):
            end = _header_block_end(lines, index)
            if end is not None:
                splits.append(_Split(index, end, "block"))
                index = end + 1
                continue
        index += 1
    return splits


def _find_splits(lines: list[str]) -> list[_Split]:
    splits = _find_quote_headers(lines) + _find_header_blocks(lines)
    for index, line in enumerate(lines):
        if p.ORIGINAL_MESSAGE_RE.match(line):
            splits.append(_Split(index, index, "separator"))
        elif p.FORWARD_RE.match(line):
            splits.append(_Split(index, index, "forward"))
    splits.sort(key=lambda split: (split.start, -split.end))
    merged: list[_Split] = []
    for split in splits:
        if merged and split.start <= merged[-1].end:
            continue  # overlaps an earlier split (e.g. a block inside a header span)
        merged.append(split)
    return merged


# --- walking the splits -----------------------------------------------------------
def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and _is_blank(lines[index]):
        index += 1
    return index


def _quote_block_end(lines: list[str], start: int) -> int | None:
    """Last line of the ``>`` block at ``start`` (after blanks), or None.

    A non-quoted line between two quoted lines belongs to the quote: a long link
    or word that the sender's client wrapped without a quote mark.
    """
    index = _skip_blank(lines, start)
    if index >= len(lines) or not _is_quote(lines[index]):
        return None
    last = index
    while index < len(lines):
        if _is_quote(lines[index]):
            last = index
        elif _is_blank(lines[index]):
            if _skip_blank(lines, index) >= len(lines) or not _is_quote(
                lines[_skip_blank(lines, index)]
            ):
                break
        elif not (index + 1 < len(lines) and _is_quote(lines[index + 1])):
            break
        index += 1
    return last


def _block_after(lines: list[str], index: int) -> int:
    """Index after a separator: past a header block that follows it, if any."""
    following = _skip_blank(lines, index)
    if following < len(lines) and _field_group(lines[following]) is not None:
        end = _header_block_end(lines, following)
        if end is not None:
            return end + 1
    return index


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


def strip_quoted_history(text: str) -> str:
    """Remove quoted history, quote headers and our reply marker (keep signatures)."""
    lines = _cut_at_marker(_prepare(text))
    out: list[str] = []
    position = 0
    for split in _find_splits(lines):
        if split.start < position:
            continue
        if split.kind == "forward":
            break  # a forwarded message is content, not history (strip_signature)
        before = lines[position : split.start]
        inline_prefix = None
        if split.kind == "header":
            _start, inline_prefix = _header_start(lines, split.end)
            if inline_prefix:
                before = [*before, inline_prefix]
        has_text = any(_is_text(line) for line in (*out, *before))
        out.extend(before)
        if has_text:
            if split.kind == "header":
                quote_end = _quote_block_end(lines, split.end + 1)
                after = _skip_blank(lines, (quote_end or split.end) + 1)
                if (
                    quote_end is not None
                    and after < len(lines)
                    and _is_text(lines[after])
                ):
                    position = quote_end + 1  # an inline answer follows the quote
                    continue
            position = len(lines)
            break
        # Bottom-posting: a split at the top introduces the history that follows.
        if split.kind == "header":
            position = (_quote_block_end(lines, split.end + 1) or split.end) + 1
        elif split.kind == "separator":
            position = _block_after(lines, split.end + 1)
        else:
            position = split.end + 1
    out.extend(lines[position:])
    if any(_is_text(line) for line in out):
        while out and (
            _is_blank(out[-1]) or _is_quote(out[-1]) or _is_delimiter(out[-1])
        ):
            out.pop()
    elif _only_quoted_headers(out):
        out = []
    return _join(out)


# --- signatures and forwards -------------------------------------------------------
def _strip_forward(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if p.FORWARD_RE.match(line):
            if any(_is_text(before) for before in lines[:index]):
                return lines[:index]
            return lines[:index] + lines[_block_after(lines, index + 1) :]
    return lines


def _first_signature_line(lines: list[str]) -> int | None:
    seen_text = False
    for index, line in enumerate(lines):
        if seen_text and (
            p.SIGNATURE_DELIMITER_RE.match(line) or p.DEVICE_SIGNATURE_RE.match(line)
        ):
            return index
        if seen_text and p.DISCLAIMER_RE.search(line):
            start = index
            while start > 0 and not _is_blank(lines[start - 1]):
                start -= 1  # the disclaimer's paragraph starts here
            if any(_is_text(before) for before in lines[:start]):
                return start
        seen_text = seen_text or _is_text(line)
    return None


def _strip_trailing_contact_block(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and _is_blank(lines[end - 1]):
        end -= 1
    start = end
    while start and p.CONTACT_LINE_RE.match(lines[start - 1]):
        start -= 1
    block = lines[start:end]
    if (
        len(block) >= 2
        and any(p.PHONE_LINE_RE.search(line) for line in block)
        and any(_is_text(line) for line in lines[:start])
    ):
        return lines[:start]
    return lines


def strip_signature(text: str) -> str:
    """Remove forwarded messages below new text, signatures and disclaimers."""
    lines = _strip_forward(_prepare(text))
    cut = _first_signature_line(lines)
    if cut is not None:
        lines = lines[:cut]
    lines = _strip_trailing_contact_block(lines)
    has_text = any(_is_text(line) for line in lines)
    while lines and (
        _is_blank(lines[-1])
        or _is_delimiter(lines[-1])
        or (has_text and _is_quote(lines[-1]))
    ):
        lines.pop()  # what the signature hid: trailing rules and quotes
    return _join(lines)


def extract_reply(text: str) -> str:
    """The new text of a reply: no quoted history, no signature."""
    return strip_signature(strip_quoted_history(text)).strip()
