"""Turn bytes into text whatever charset a message claims.

Mail in the wild declares charsets that do not exist (``x-unknown``), that are
narrower than what was really used (``gb2312`` holding GBK characters,
``iso-8859-1`` holding Windows-1252 quotes, ``us-ascii`` holding UTF-8) or none at
all. ``decode_bytes`` never raises: it tries the declared charset (widened to the
superset that mail clients really emit), then UTF-8, then a statistical guess,
and finally Windows-1252 with replacement characters, reporting which fallback
it used so the caller can record a defect.
"""

import codecs
import re
from typing import NamedTuple

# Labels that clients use for a narrower charset than the bytes they send, mapped
# to the superset that decodes both (as browsers do, see the WHATWG Encoding spec).
_SUPERSETS = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "chinese": "gb18030",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "big5": "big5hkscs",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
_SINGLE_BYTE_LATIN = {
    "cp1252",
    "cp1250",
    "cp1254",
    "iso8859-15",
    "iso8859-2",
    "mac_roman",
}
_GUESS_LIMIT = 64 * 1024  # bytes handed to the statistical detector
_GUESS_MINIMUM = 4  # below this a statistical guess is noise
_NEVER_GUESSED = ("utf_16", "utf_32", "utf-16", "utf-32")
_LABEL_RE = re.compile(r"[^a-z0-9_.:()-]")
# Other encodings of the same script, for bytes that fail the one declared: mail
# labelled ISO-2022-JP is often Shift_JIS, "gb2312" Big5, and so on.
_SAME_SCRIPT = {
    "iso2022_jp": ("cp932", "euc_jp"),
    "iso2022_jp_ext": ("cp932", "euc_jp"),
    "iso2022_jp_2": ("cp932", "euc_jp"),
    "cp932": ("euc_jp",),
    "euc_jp": ("cp932",),
    "gb18030": ("big5hkscs",),
    "big5hkscs": ("gb18030",),
    "cp949": ("iso2022_kr",),
}


class Decoded(NamedTuple):
    text: str
    charset: str  # the codec that produced ``text``
    problem: str | None  # why the declared charset was not used as is, if so


def codec_for(label: str | None) -> str | None:
    """The Python codec to use for a MIME charset label, or None if unknown."""
    if not label:
        return None
    name = _LABEL_RE.sub("", label.strip().strip("\"'").lower())
    for candidate in (name, re.sub(r"^(?:x-|iso-|cs)", "", name)):
        candidate = _SUPERSETS.get(candidate, candidate)
        try:
            codec = codecs.lookup(candidate).name
            # Bytes-to-bytes codecs (uu, base64, zlib) are no charset: this raises.
            "".encode(codec)
        except LookupError:
            continue
        return codec
    return None


_ISO2022JP_ESCAPE_RE = re.compile(rb"\x1b(\$[@B]|\$\(D|\([BJI])")


def _decode_iso2022jp_microsoft(data: bytes) -> str:
    """ISO-2022-JP as Microsoft clients write it: with CP932 extensions (①, ㈱...).

    Python's iso2022 codecs reject those characters, so the JIS X 0208 pairs are
    converted to Shift_JIS and decoded as CP932, which has them.
    """
    out = bytearray()
    mode = b"(B"
    position = 0
    for match in [*_ISO2022JP_ESCAPE_RE.finditer(data), None]:
        chunk = data[position : match.start() if match else len(data)]
        if mode in (b"$@", b"$B", b"$(D"):
            for index in range(0, len(chunk) - 1, 2):
                first, second = chunk[index], chunk[index + 1]
                if first % 2:
                    second += 0x1F + (1 if second >= 0x60 else 0)
                else:
                    second += 0x7E
                first = (first + 1) // 2 + (0x70 if first < 0x5F else 0xB0)
                out += bytes((first & 0xFF, second & 0xFF))
        elif mode == b"(I":
            out += bytes((byte | 0x80) for byte in chunk)
        else:
            out += chunk
        if match:
            mode = match.group(1)
            position = match.end()
    return out.decode("cp932", errors="replace")


def _is_ascii(data: bytes) -> bool:
    return data.isascii()


def _guess(data: bytes) -> str | None:
    if len(data) < _GUESS_MINIMUM:
        return None
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a declared dependency
        return None
    best = from_bytes(data[:_GUESS_LIMIT]).best()
    codec = None if best is None else codec_for(best.encoding)
    return None if codec is None or codec.startswith(_NEVER_GUESSED) else codec


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:
    """Decode ``data`` as text; see the module docstring for the order of tries."""
    if not data:
        return Decoded("", codec_for(declared) or "utf-8", None)
    codec = codec_for(declared)
    if codec == "utf-7" and not _is_ascii(data):
        codec = None  # 8-bit bytes are never UTF-7: mislabelled
    if codec is not None:
        if codec in _SINGLE_BYTE_LATIN and not _is_ascii(data):
            # A single-byte label never fails, so check for mislabelled UTF-8 first:
            # valid multi-byte UTF-8 is vanishingly rare in genuine Latin text.
            try:
                return Decoded(data.decode("utf-8"), "utf-8", f"declared {declared}")
            except UnicodeDecodeError:
                pass
        try:
            return Decoded(data.decode(codec), codec, None)
        except UnicodeDecodeError:
            pass
        if codec.startswith("iso2022_jp") and _is_ascii(data):
            return Decoded(_decode_iso2022jp_microsoft(data), "cp932", None)
        problem = f"undecodable as declared charset {declared}"
    elif declared:
        problem = f"unknown charset {declared}"
    else:
        problem = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Decoded(text, "utf-8", problem)
    for related in _SAME_SCRIPT.get(codec or "", ()):
        try:
            return Decoded(data.decode(related), related, problem)
        except UnicodeDecodeError:
            continue
    if problem is None:
        problem = "no charset declared for 8-bit text"
    guess = _guess(data)
    if guess is not None:
        try:
            return Decoded(data.decode(guess), guess, problem)
        except UnicodeDecodeError:
            pass
    if codec is not None:
        return Decoded(data.decode(codec, errors="replace"), codec, problem)
    return Decoded(data.decode("cp1252", errors="replace"), "cp1252", problem)


def repair_surrogates(text: str, hint: str | None = None) -> str:
    """Re-decode the raw bytes that the email package kept as surrogate escapes.

    Headers with unencoded 8-bit bytes come out of ``message_from_bytes`` as str
    with lone surrogates (U+DC80..U+DCFF); those cannot be stored or printed.
    ``hint`` is a charset the message uses elsewhere, tried first.
    """
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("utf-8", errors="surrogateescape")
    if hint and codec_for(hint) in _SINGLE_BYTE_LATIN and _looks_multibyte(raw):
        hint = None  # a Latin body says little about a CJK name: let detection decide
    return decode_bytes(raw, hint).text


def _looks_multibyte(data: bytes) -> bool:
    """Whether 8-bit bytes come in runs, as in CJK encodings, not alone as in Latin."""
    high = [index for index, byte in enumerate(data) if byte >= 0x80]
    if len(high) < 2:
        return False
    paired = sum(
        1
        for index in high
        if (index > 0 and data[index - 1] >= 0x80)
        or (index + 1 < len(data) and data[index + 1] >= 0x80)
    )
    return paired / len(high) >= 0.8
