"""Stage 2 of reply extraction: what the sender added around the new text.

Removes a forwarded message below new text, "-- " signatures, device lines
("Sent from my iPhone"), legal disclaimers and contact blocks. A signature goes
only where a delimiter or a strong signal says so: a delimiter line, the
wording of a device line or disclaimer, a run of contact lines, or a block of
short lines with contact details below a sign-off and the sender's name. The
sign-off and the name themselves ("Thanks,\\nKyle", "Thanks, Kyle") stay: they
are part of what the customer wrote.
"""

from . import reply_patterns as p
from .reply_blocks import block_after, looks_like_people
from .reply_lines import is_blank, is_delimiter, is_quote, is_text, join, prepare

MAX_SIGNATURE_LINES = 10  # a block below a sign-off longer than this is text
MAX_SIGNATURE_LINE_CHARS = 80


def _strip_forward(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if p.FORWARD_RE.match(line) or p.NOTES_FORWARD_RE.match(line):
            if any(is_text(before) for before in lines[:index]):
                return lines[:index]
            return lines[:index] + lines[block_after(lines, index + 1) :]
    return lines


def _first_signature_line(lines: list[str]) -> int | None:
    seen_text = False
    lowered = "\n".join(lines).lower()
    disclaimer = any(word in lowered for word in p.DISCLAIMER_WORDS)
    for index, line in enumerate(lines):
        if seen_text and (
            p.SIGNATURE_DELIMITER_RE.match(line) or p.DEVICE_SIGNATURE_RE.match(line)
        ):
            return index
        if disclaimer and seen_text and p.DISCLAIMER_RE.search(line):
            start = index
            while start > 0 and not is_blank(lines[start - 1]):
                start -= 1  # the disclaimer's paragraph starts here
            if any(is_text(before) for before in lines[:start]):
                return start
        seen_text = seen_text or is_text(line)
    return None


def _strip_trailing_contact_block(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and is_blank(lines[end - 1]):
        end -= 1
    start = end
    while start and p.CONTACT_LINE_RE.match(lines[start - 1]):
        start -= 1
    block = lines[start:end]
    if (
        len(block) >= 2
        and any(p.PHONE_LINE_RE.search(line) for line in block)
        and any(is_text(line) for line in lines[:start])
    ):
        return lines[:start]
    return lines


def _is_name(line: str) -> bool:
    """A line with only a person's name ("Kyle", "Mary-Ann O'Neil")."""
    text = line.strip()
    return (
        0 < len(text) <= 40
        and len(text.split()) <= 4
        and text[0].isupper()
        and not text.endswith((".", "?", "!", ":", ","))
        and p.CONTACT_SIGNAL_RE.search(text) is None
        and looks_like_people(text)
    )


def _is_signature_block(block: list[str]) -> bool:
    """Short lines (a name, a title, a company) with at least one contact detail.

    It must start like a signature (a name, a title, a company or a contact line),
    so "P.S. my new number is ..." below a sign-off stays.
    """
    lines = [line for line in block if line.strip()]
    return (
        0 < len(lines) <= MAX_SIGNATURE_LINES
        and (
            p.CONTACT_LINE_RE.match(lines[0]) is not None
            or looks_like_people(lines[0].strip().removesuffix("."))
        )
        and all(
            len(line.strip()) <= MAX_SIGNATURE_LINE_CHARS
            and not line.rstrip().endswith("?")
            and not is_quote(line)
            for line in lines
        )
        and any(p.CONTACT_SIGNAL_RE.search(line) for line in lines)
    )


def _name_end(lines: list[str], index: int) -> int | None:
    """After a sign-off on line ``index``: the line that ends it with the name."""
    match = p.SIGN_OFF_RE.match(lines[index])
    if match is None:
        return None
    if match.group("name") and _is_name(match.group("name")):
        return index  # "Thanks, Kyle"
    following = index + 1
    while following < len(lines) and is_blank(lines[following]):
        following += 1
    if following < len(lines) and following - index <= 2 and _is_name(lines[following]):
        return following
    return None


def _strip_block_below_sign_off(lines: list[str]) -> list[str]:
    """Cut a contact block below "Thanks,\\nKyle" (keeping the sign-off and name)."""
    end = len(lines)
    while end and is_blank(lines[end - 1]):
        end -= 1
    low = max(0, end - MAX_SIGNATURE_LINES - 4)
    for index in range(end - 1, low - 1, -1):
        name_end = _name_end(lines, index)
        if name_end is None and _is_name(lines[index]):
            # A name on its own, then a block that starts with the same name.
            following = index + 1
            if following < end and is_blank(lines[following]):
                following += 1
                while following < end and is_blank(lines[following]):
                    following += 1
                first_word = lines[index].split()[0]
                if following < end and lines[following].strip().startswith(first_word):
                    name_end = index
        if name_end is None or name_end + 1 >= end:
            continue
        if not any(is_text(line) for line in lines[:index]):
            return lines
        if _is_signature_block(lines[name_end + 1 : end]):
            return lines[: name_end + 1]
        return lines
    return lines


def strip_signature(text: str) -> str:
    """Remove forwarded messages below new text, signatures and disclaimers."""
    lines = _strip_forward(prepare(text))
    cut = _first_signature_line(lines)
    if cut is not None:
        lines = lines[:cut]
    lines = _strip_trailing_contact_block(_strip_block_below_sign_off(lines))
    has_text = any(is_text(line) for line in lines)
    while lines and (
        is_blank(lines[-1])
        or is_delimiter(lines[-1])
        or (has_text and is_quote(lines[-1]))
    ):
        lines.pop()  # what the signature hid: trailing rules and quotes
    return join(lines)
