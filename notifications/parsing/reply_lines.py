"""Line predicates shared by the reply-extraction stages (``reply*.py``).

Every rule of reply extraction classifies single lines first (blank, quoted,
a header field, a rule of dashes) and then looks at runs of them; these are the
classifications, kept in one place so the stages agree on what a line is.
"""

from . import reply_patterns as p


def is_blank(line: str) -> bool:
    return not line.strip()


def is_quote(line: str) -> bool:
    return p.QUOTE_LINE_RE.match(line) is not None


def is_delimiter(line: str) -> bool:
    return p.DELIMITER_LINE_RE.match(line) is not None and not is_quote(line)


def is_text(line: str) -> bool:
    """A line of the sender's own words (not blank, quoted or a bare rule)."""
    return bool(line.strip()) and not is_quote(line) and not is_delimiter(line)


def field(line: str) -> tuple[str, str] | None:
    """(group, value) of a header field line ("Von: X" is ("from", "X")), or None."""
    if ":" not in line and "\uff1a" not in line:
        return None
    match = p.HEADER_FIELD_RE.match(line)
    if match is None:
        return None
    label = match.group("label")
    group = p.FIELD_GROUP_OF.get(label.casefold())
    if group is None:
        return None  # a case-insensitive match with no casefold twin
    if group != "cc" and len(label) > 2 and label.isupper():
        return None  # "FROM: HR / DATE: ..." heads a memo, not a quote
    return group, line[match.end() :].strip().strip("*_").strip()


def prepare(text: str) -> list[str]:
    """The text as lines: one newline convention, no NBSP, no invisible characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return p.INVISIBLE_CHARS_RE.sub("", text).split("\n")


def join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")
