"""Text encodings of delivered files: decoded correctly or rejected naming the byte offset.

A source declares its encodings in its contract (default UTF-8 with or without BOM, then
GBK/GB18030). The rules, so that mojibake is never loaded silently:

- a UTF-8 byte-order mark means UTF-8: a later invalid byte rejects the file (no GBK fallback);
- a UTF-16/UTF-32 byte-order mark is decoded only if the contract declares that encoding,
  otherwise the file is rejected naming the mark;
- a NUL byte means binary data (or UTF-16 without a mark): rejected naming its offset;
- without a mark, the declared encodings are tried in order, except that a file which is not
  valid UTF-8 but whose other non-ASCII text is overwhelmingly UTF-8 is *damaged UTF-8*, not
  GBK (GB18030 decodes almost any byte string): rejected naming the first invalid byte; and a
  file that is valid UTF-8 with non-ASCII text is not read as GBK when the source does not
  declare UTF-8 (rejected: the sender changed encoding).

A last guard is the tabular parser's header match: every tabular contract has Chinese headers,
so a file decoded with the wrong table finds no header line and is rejected.
JSON is UTF-8 by definition (RFC 8259): :func:`check_utf8` applies the same rules to it.
"""

from __future__ import annotations

import codecs

from ingest.records import SourceFileError

_ASCII = bytes(range(128))
# Ratio of valid multi-byte UTF-8 sequences to invalid ones above which a file that fails UTF-8 is
# damaged UTF-8 rather than GBK. GBK text of ten words or more stays below 1 (accidental UTF-8
# sequences are ~1 in 3 characters); a UTF-8 file with a few bad bytes is far above.
_DAMAGED_UTF8_RATIO = 4
_DAMAGED_UTF8_MIN_VALID = 8
# Longest marks first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 LE", "FF FE 00 00"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 BE", "00 00 FE FF"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE", "FF FE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE", "FE FF"),
)


def _family(encoding: str) -> str:
    name = codecs.lookup(encoding).name  # normalised: utf-8-sig, gb18030, gbk, utf-16 …
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8"
    if name in ("gbk", "gb2312", "gb18030"):
        return "gb"
    if name.startswith("utf-16"):
        return "utf-16"
    if name.startswith("utf-32"):
        return "utf-32"
    return name


def describe(encodings: tuple[str, ...]) -> str:
    """``("utf-8-sig", "gb18030")`` → ``UTF-8 or GBK/GB18030``."""
    words = {"utf-8": "UTF-8", "gb": "GBK/GB18030", "utf-16": "UTF-16", "utf-32": "UTF-32"}
    return " or ".join(dict.fromkeys(words.get(_family(e), e) for e in encodings))


def _utf8_shape(data: bytes) -> tuple[int, int]:
    """(valid multi-byte UTF-8 characters, invalid sequences) of ``data``, in C-speed passes."""
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd")
    ascii_bytes = len(data) - len(data.translate(None, _ASCII))
    return len(text) - ascii_bytes - invalid, invalid


def _first_non_ascii(data: bytes) -> int:
    return len(data) - len(data.lstrip(_ASCII))


def decode(data: bytes, label: str, encodings: tuple[str, ...]) -> str:
    """``data`` as text in one of ``encodings``, or :class:`SourceFileError` naming the offset."""
    families = [_family(e) for e in encodings]
    prefix = f"{label}: not {describe(encodings)} text"
    for mark, family, name, spelled in _BOMS:
        if data.startswith(mark):
            if family not in families:
                raise SourceFileError(
                    f"{prefix}: it starts with a {name} byte-order mark ({spelled}) at byte offset 0, "
                    f"and {family.upper()} is not among the source's declared encodings"
                )
            return _strict(data, family, 0, prefix)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceFileError(
            f"{prefix}: NUL byte at byte offset {nul} (binary data, or UTF-16 without a byte-order mark)"
        )
    if data.startswith(codecs.BOM_UTF8):
        if "utf-8" not in families:
            raise SourceFileError(
                f"{prefix}: it starts with a UTF-8 byte-order mark, and UTF-8 is not among the "
                "source's declared encodings"
            )
        return _strict(data, "utf-8-sig", len(codecs.BOM_UTF8), prefix, " (after a UTF-8 byte-order mark)")
    if "utf-8" not in families and not data.isascii() and _is_utf8(data):
        raise SourceFileError(
            f"{prefix}: it is UTF-8 text (first non-ASCII byte at byte offset {_first_non_ascii(data)}), "
            "and UTF-8 is not among the source's declared encodings"
        )
    failures: list[str] = []
    for encoding, family in zip(encodings, families, strict=True):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            failures.append(f"invalid {describe((encoding,))} at byte offset {exc.start}")
            if family == "utf-8":
                valid, invalid = _utf8_shape(data)
                if valid >= _DAMAGED_UTF8_MIN_VALID and valid >= _DAMAGED_UTF8_RATIO * invalid:
                    raise SourceFileError(
                        f"{prefix}: invalid UTF-8 at byte offset {exc.start} in a file whose other "
                        f"non-ASCII text is UTF-8 ({valid} valid characters, {invalid} invalid "
                        "sequences): a damaged UTF-8 file, not GBK"
                    ) from None
    raise SourceFileError(f"{prefix}: {'; '.join(failures)}")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strict(data: bytes, encoding: str, skipped: int, prefix: str, note: str = "") -> str:
    """``data`` decoded with ``encoding`` and no fallback; the decoder's offsets start after
    ``skipped`` bytes (utf-8-sig counts from after its mark; utf-16 and utf-32 from the start)."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceFileError(
            f"{prefix}: invalid {describe((encoding,))} at byte offset {skipped + exc.start}{note}"
        ) from None


def check_utf8(data: bytes, label: str, lines: bool = False) -> bool:
    """JSON must be UTF-8: raise naming the byte offset of a UTF-16/32 mark, a NUL byte or the
    first invalid byte. With ``lines`` (JSON Lines), a file that is overwhelmingly UTF-8 with a few
    damaged bytes is accepted, returning True: its damaged lines are then rejected one by one."""
    for mark, _, name, spelled in _BOMS:
        if data.startswith(mark):
            raise SourceFileError(
                f"{label}: not UTF-8 JSON: it starts with a {name} byte-order mark ({spelled}) "
                "at byte offset 0"
            )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise SourceFileError(f"{label}: not UTF-8 JSON: NUL byte at byte offset {nul} (binary data)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        valid, invalid = _utf8_shape(data)
        if lines and valid >= _DAMAGED_UTF8_MIN_VALID and valid >= _DAMAGED_UTF8_RATIO * invalid:
            return True
        try:
            data.decode("gb18030")
            looks = " (it reads as GBK/GB18030 text)"
        except UnicodeDecodeError:
            looks = ""
        raise SourceFileError(
            f"{label}: not UTF-8 JSON: invalid UTF-8 at byte offset {exc.start}{looks}"
        ) from None
    return False
