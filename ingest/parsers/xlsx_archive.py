"""An XLSX file's zip archive checked against the limits before openpyxl opens it.

openpyxl trusts the archive: a sheet XML that expands to gigabytes (a "zip bomb") is parsed until
memory runs out. Here, from the zip's own directory and without expanding anything, the number of
parts, the number of sheets and the sum of the declared uncompressed sizes are checked; then every
part is stream-decompressed with a cap of its declared size, so a part whose declared size (or
CRC) lies is rejected after at most that many bytes, and XML parts are scanned for document type
declarations (entity expansion; no spreadsheet writer emits one). Time and memory are bounded by
the limits, whatever the file claims.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

from ingest.limits import LimitExceeded, Limits, variable
from ingest.records import SourceFileError

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_LOCAL = b"PK\x03\x04"
_LOCAL_SIZE = 30
# A central-directory entry is 46 bytes plus its name and extra field: 1 KiB per part is generous.
_DIRECTORY_BYTES_PER_PART = 1024
_SHEET_PART = re.compile(r"(?:^|/)(?:worksheets|chartsheets|dialogsheets)/[^/]+\.xml$", re.IGNORECASE)
_XML_PART = re.compile(r"\.(?:xml|rels|vml)$", re.IGNORECASE)
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 1024 * 1024


def _unreadable(label: str, why: str) -> SourceFileError:
    return SourceFileError(f"{label}: not a readable XLSX workbook ({why})")


def _directory_size(data: bytes, label: str) -> int:
    """Size in bytes of the central directory, from the end-of-directory record (zip64 too);
    0 without such a record (zipfile then refuses the file, as it did before these checks)."""
    start = max(0, len(data) - _EOCD_SIZE - 0xFFFF)
    at = data.rfind(_EOCD, start)
    if at < 0 or at + _EOCD_SIZE > len(data):
        return 0
    fields = struct.unpack("<4s4H2LH", data[at : at + _EOCD_SIZE])
    entries, size = fields[4], fields[5]
    if entries == 0xFFFF or size == 0xFFFFFFFF:
        locator = at - 20
        if locator < 0 or data[locator : locator + 4] != _ZIP64_LOCATOR:
            raise _unreadable(label, "zip64 markers without a zip64 locator")
        offset = struct.unpack("<Q", data[locator + 8 : locator + 16])[0]
        if data[offset : offset + 4] != _ZIP64_EOCD:
            raise _unreadable(label, "no zip64 end-of-directory record")
        size = struct.unpack("<Q", data[offset + 40 : offset + 48])[0]
    return size


def check_xlsx_archive(data: bytes, label: str, limits: Limits) -> None:
    """Raise :class:`~ingest.limits.LimitExceeded` or :class:`SourceFileError` if the archive is
    over a limit, damaged or lying about its sizes; return when openpyxl may open it."""
    directory = _directory_size(data, label)
    if directory > limits.max_xlsx_parts * _DIRECTORY_BYTES_PER_PART:  # before zipfile reads it
        raise LimitExceeded(
            label,
            f"zip directory size (bytes; {_DIRECTORY_BYTES_PER_PART} allowed per part)",
            directory,
            limits.max_xlsx_parts * _DIRECTORY_BYTES_PER_PART,
            variable("max_xlsx_parts"),
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, struct.error) as exc:
        raise _unreadable(label, f"{type(exc).__name__}: {exc}") from exc
    limits.check("max_xlsx_parts", label, "zip parts", len(infos))
    limits.check("max_xlsx_sheets", label, "sheets", sum(1 for i in infos if _SHEET_PART.search(i.filename)))
    limits.check(
        "max_xlsx_expanded_bytes",
        label,
        "uncompressed size declared by the zip directory (bytes)",
        sum(i.file_size for i in infos),
    )
    view = memoryview(data)
    for info in infos:
        _verify_part(view, info, label)


def _verify_part(view: memoryview, info: zipfile.ZipInfo, label: str) -> None:
    """Stream one part through the decompressor, capped at its declared size: it must end exactly
    there with the declared CRC, and an XML part must hold no document type declaration."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise _unreadable(label, f"part {name} is encrypted")
    offset = info.header_offset
    header = bytes(view[offset : offset + _LOCAL_SIZE])
    if len(header) < _LOCAL_SIZE or header[:4] != _LOCAL:
        raise _unreadable(label, f"part {name}: no local header at byte offset {offset}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + _LOCAL_SIZE + name_length + extra_length
    compressed = view[start : start + info.compress_size]
    if len(compressed) < info.compress_size:
        raise _unreadable(label, f"part {name} is truncated")
    if info.compress_type == zipfile.ZIP_STORED:
        chunks = (compressed[i : i + _OUT_CHUNK] for i in range(0, len(compressed), _OUT_CHUNK))
        ended = True
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        chunks = _inflate(decompressor, compressed, name, label)
        ended = False
    else:
        raise _unreadable(label, f"part {name} uses zip compression method {info.compress_type}, not deflate")
    scan = _XML_PART.search(name) is not None
    total = crc = 0
    tail = b""
    for chunk in chunks:
        total += len(chunk)
        if total > info.file_size:
            raise _unreadable(
                label,
                f"part {name} expands beyond the {info.file_size:,} bytes its zip directory declares",
            )
        crc = zlib.crc32(chunk, crc)
        if scan:
            window = tail + bytes(chunk)
            if any(marker in window for marker in _DTD_MARKERS):
                raise _unreadable(label, f"part {name} holds an XML document type declaration")
            tail = window[-16:]
    if not ended and not decompressor.eof:
        raise _unreadable(label, f"part {name}: compressed data ends early")
    if total != info.file_size:
        raise _unreadable(label, f"part {name} holds {total:,} bytes, not the {info.file_size:,} declared")
    if crc != info.CRC:
        raise _unreadable(label, f"part {name}: CRC-32 does not match the zip directory")


def _inflate(decompressor, compressed: memoryview, name: str, label: str):
    """Deflate output in pieces of at most ``_OUT_CHUNK`` bytes, whatever the compression ratio."""
    position = 0
    while not decompressor.eof:
        if decompressor.unconsumed_tail:
            piece = decompressor.unconsumed_tail
        elif position < len(compressed):
            piece = compressed[position : position + _IN_CHUNK]
            position += _IN_CHUNK
        else:
            break
        try:
            out = decompressor.decompress(piece, _OUT_CHUNK)
        except zlib.error as exc:
            raise _unreadable(label, f"part {name}: {exc}") from exc
        if out:
            yield out
