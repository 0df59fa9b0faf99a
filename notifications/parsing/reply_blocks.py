"""Header blocks of quoted and forwarded mail, recognised by the shape of their lines.

A mail client that quotes or forwards a message writes the old message's header
as a run of "Field: value" lines: Outlook's From/Sent/To/Subject (in the
sender's language), Thunderbird's Subject/Date/From/To, Lotus Notes' To/cc/Subject
under a line with the sender's name and the date. Three things tell such a block
from text that merely has a colon in it ("From: April, the old API is retired"):

- the *values* have the shape of header values: a From or To holds names or
  addresses (not a sentence), a Sent or Date holds a date or a time;
- at least two different fields with such values stand together, one of them
  a date (a Notes block has the sender and the date on the lines above it, or
  the date in its From: line). A memo's "To: all staff / From: the board" has
  no date field and stays text;
- something in it says *mail*: a Subject: line, a client's own date word
  ("Sent:", "Gesendet:") or an address. A booking's "From: Berlin / To: Munich /
  Date: 12.03.2026 10:00" has none and stays text.

Every scan is bounded (``MAX_BLOCK_LINES``), so a body of a million header-like
lines is still read in linear time.
"""

import re

from . import reply_patterns as p
from .reply_lines import field, is_blank

MAX_BLOCK_LINES = 40  # fields, wrapped values and gaps of one block
MAX_GAP = 3  # blank lines between two fields (Notes leaves them after From:)
MAX_CONTINUATION = 8  # wrapped lines of a long To: or Cc: value
MAX_NAME_WORDS = 6
_START_GROUPS = frozenset({"from", "date", "to", "subject", "reply_to"})
_UNQUOTE_RE = re.compile(r"^[ \t>]*")


def _unquoted(line: str) -> str:
    return _UNQUOTE_RE.sub("", line).strip()


def looks_like_people(value: str) -> bool:
    """Whether a value lists people or teams ("Kitchen, Louise; Whalley, Greg")."""
    value = re.sub(r"[ \t]+@[ \t]+", "@", value)  # Notes: "Amanda Huble @ ENRON"
    if p.ADDRESS_RE.search(value):
        return True
    for item in re.split(r"[;,]", value):
        words = re.sub(r"['\"()]", " ", item).split()
        if len(words) > MAX_NAME_WORDS:
            return False
        for word in words:
            if any(char.isdigit() for char in word):
                return False
            first = word[0]
            if first.isalpha() and first.islower() and word not in p.NAME_PARTICLES:
                return False
    return True


def looks_like_date(value: str) -> bool:
    """Whether a value is a date or a time ("Tuesday, March 3, 2026 10:15 AM")."""
    if p.CLOCK_RE.search(value) or p.NUMERIC_DATE_RE.search(value):
        return True
    return (
        p.YEAR_RE.search(value) is not None
        and len(value.split()) <= 8
        and not value.rstrip().endswith((".", "!", "?"))
    )


def value_fits(group: str, value: str) -> bool:
    if group in ("from", "reply_to"):
        value = p.NOTES_DATE_LINE_RE.sub(r"\g<name>", value)  # "X @ ENRON 11/27/2000"
        return bool(value.strip()) and looks_like_people(value)
    if group in ("to", "cc"):
        return looks_like_people(value)  # an empty Cc: is fine
    if group == "date":
        return looks_like_date(value)
    return True  # any subject


Fields = list[tuple[str, str] | None]  # ``field`` of each line, computed once


def _scan(
    lines: list[str], fields: Fields, start: int
) -> tuple[int, set[str], set[str]]:
    """(last field line, groups with fitting values, all groups) from ``start``."""
    fitting: set[str] = set()
    seen: set[str] = set()
    last = start
    gap = continuation = 0
    for index in range(start, min(len(lines), start + MAX_BLOCK_LINES)):
        line = lines[index]
        found = fields[index]
        if found is not None:
            group, value = found
            if group in seen and group != "cc":
                break  # a second From: begins the next block
            seen.add(group)
            if value_fits(group, value):
                fitting.add(group)
                if group == "from" and p.NOTES_DATE_LINE_RE.match(value):
                    fitting.add("date")  # "From: Amanda Huble @ ENRON 11/27/2000 ..."
            last, gap, continuation = index, 0, 0
        elif is_blank(line):
            gap += 1
            if gap > MAX_GAP:
                break
        else:
            continuation += 1
            if gap or continuation > MAX_CONTINUATION:
                break  # the body after the block
    return last, fitting, seen


def _mail_like(lines: list[str], fields: Fields, start: int, last: int) -> bool:
    """Whether a block says "mail": a Subject:, Sent:, or an address in it.

    A booking's "From: Berlin / To: Munich / Date: 12.03.2026 10:00" has the shape
    of a header block but none of these.
    """
    for index in range(start, last + 1):
        found = fields[index]
        if found is None:
            continue
        group, value = found
        if group == "subject" or p.ADDRESS_RE.search(value):
            return True
        if group == "date" and not p.GENERIC_DATE_FIELD_RE.match(lines[index]):
            return True  # "Sent:", "Gesendet:", "Отправлено:": a mail client's word
    return False


def _people_line(text: str) -> bool:
    return (
        bool(text)
        and len(text) <= 80
        and not text.endswith((".", "?", "!", ":"))
        and looks_like_people(text)
    )


def _title_line(text: str) -> bool:
    return (
        bool(text)
        and len(text.split()) <= MAX_NAME_WORDS
        and not text.endswith((".", "?", "!", ":", ","))
    )


def notes_preamble(lines: list[str], start: int) -> int | None:
    """First line of a Notes sender/date preamble right above line ``start``."""
    index = start - 1
    for _ in range(2):  # Notes puts a blank or whitespace line before To:
        if index >= 0 and is_blank(lines[index]):
            index -= 1
    if index >= 0 and p.RESPOND_TO_RE.match(_unquoted(lines[index])):
        index -= 1
    if index < 0:
        return None
    match = p.NOTES_DATE_LINE_RE.match(_unquoted(lines[index]))
    if match is None:
        return None
    name = match.group("name").strip()
    if name:
        return index if _people_line(name.removesuffix(" on").strip()) else None
    first = index
    above = index - 1
    if above >= 0 and p.SENT_BY_RE.match(_unquoted(lines[above])):
        first, above = above, above - 1
    if above >= 0 and _title_line(_unquoted(lines[above])):
        first = above  # the sender's name, or a role ("Office of the Chairman")
    return first


def _org_line(lines: list[str], start: int) -> int | None:
    """Notes' indented company line above its From: ("\tEnron North America Corp.")."""
    index = start - 1
    while index >= 0 and start - index <= 3 and is_blank(lines[index]):
        index -= 1
    if index < 0 or index == start - 1:
        return None
    line = lines[index]
    text = line.strip().removesuffix(".")  # "Corp."
    if line[:1] == "\t" and _title_line(text) and looks_like_people(text):
        return index
    return None


def header_block(
    lines: list[str], start: int, fields: Fields | None = None
) -> tuple[int, int] | None:
    """(first, last) line of the header block whose first field is line ``start``."""
    if fields is None:
        window = lines[: start + MAX_BLOCK_LINES]
        fields = [
            None if index < start else field(line) for index, line in enumerate(window)
        ]
    last, groups, seen = _scan(lines, fields, start)
    if len(groups) < 2 or not _mail_like(lines, fields, start, last):
        return None
    if "from" in seen:
        preamble = _org_line(lines, start)
    else:
        preamble = notes_preamble(lines, start)
    if "date" in groups or (preamble is not None and groups & {"to", "subject"}):
        return (start if preamble is None else preamble), last
    return None


def _one_line_block(found: tuple[str, str], index: int) -> tuple[int, int] | None:
    group, value = found
    if group != "from":
        return None
    date = p.INLINE_FIELD_RES["date"].search(value)
    if date is None or not looks_like_date(value[date.end() :]):
        return None
    others = ("to", "subject")
    if all(p.INLINE_FIELD_RES[other].search(value) for other in others):
        return index, index
    return None


def find_header_blocks(lines: list[str]) -> list[tuple[int, int]]:
    blocks = []
    fields = [field(line) for line in lines]
    index = 0
    while index < len(lines):
        found = fields[index]
        if found is not None and found[0] in _START_GROUPS:
            block = header_block(lines, index, fields) or _one_line_block(found, index)
            if block is not None:
                blocks.append(block)
                index = block[1] + 1
                continue
        index += 1
    return blocks


def block_at(lines: list[str], index: int) -> int | None:
    """Last line of a header block that begins on line ``index`` (or None)."""
    for offset in range(4):  # a Notes block's first field is below its preamble
        position = index + offset
        if position >= len(lines):
            return None
        if field(lines[position]) is not None:
            block = header_block(lines, position)
            if block is not None and block[0] <= index:
                return block[1]
            return None
    return None


def skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and is_blank(lines[index]):
        index += 1
    return index


def block_after(lines: list[str], index: int) -> int:
    """Index after a separator or banner: past a header block that follows it."""
    following = skip_blank(lines, index)
    end = block_at(lines, following)
    return index if end is None else end + 1
