"""Hostile files for the limit tests, built in memory: zip bombs (honest and lying), wide headers.

A zip is written by hand (local headers, central directory, end record) so that a test can declare
sizes that lie. The bomb's sheet XML is one deflate block repeated: a block compressed after a
full flush refers to nothing before it, so N copies inflate to N times its text — 1 GiB of sheet
XML from about 1 MB of bytes, without ever holding or writing the gigabyte.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from simulators.sources import xlsx_bytes

SHEET = "xl/worksheets/sheet1.xml"
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"
_ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'


@dataclass(frozen=True)
class Member:
    name: str
    payload: bytes  # as stored (raw deflate or plain)
    crc: int
    size: int  # true uncompressed size
    method: int = zipfile.ZIP_DEFLATED
    declared_size: int | None = None  # what the zip says, if it lies


def deflated(name: str, data: bytes) -> Member:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return Member(name, compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data))


def zip_archive(members: list[Member]) -> bytes:
    """A zip of ``members`` exactly as given (sizes, CRCs), without zipfile's checks."""
    out = io.BytesIO()
    central = io.BytesIO()
    for m in members:
        name = m.name.encode()
        size = m.size if m.declared_size is None else m.declared_size
        offset = out.tell()
        fields = (20, 0, m.method, 0, 0x21, m.crc, len(m.payload), size, len(name))
        out.write(struct.pack("<4s5HL2L2H", b"PK\x03\x04", *fields, 0) + name + m.payload)
        central.write(struct.pack("<4s6HL2L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0, offset) + name)
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), start, 0)
    )
    return out.getvalue()


def workbook_members(rows: list[list[str]]) -> list[Member]:
    """The parts of a real small workbook (the simulator's writer), recompressed as Members."""
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows))) as archive:
        return [deflated(i.filename, archive.read(i)) for i in archive.infolist()]


def bomb_sheet(expanded: int) -> Member:
    """A sheet of ``expanded`` bytes (rounded to whole 1 MiB blocks of rows) from ~1 KB per MiB."""
    block_text = _ROW * (1024 * 1024 // len(_ROW))
    head = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = head.compress(_SHEET_HEAD) + head.flush(zlib.Z_FULL_FLUSH)
    body = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = body.compress(block_text) + body.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    last = tail.compress(_SHEET_TAIL) + tail.flush()
    count = max(1, (expanded - len(_SHEET_HEAD) - len(_SHEET_TAIL)) // len(block_text))
    crc = zlib.crc32(_SHEET_HEAD)
    for _ in range(count):
        crc = zlib.crc32(block_text, crc)
    crc = zlib.crc32(_SHEET_TAIL, crc)
    size = len(_SHEET_HEAD) + count * len(block_text) + len(_SHEET_TAIL)
    return Member(SHEET, first + block * count + last, crc, size)


def bomb_workbook(expanded: int, declared_size: int | None = None) -> bytes:
    """A valid workbook whose first sheet expands to about ``expanded`` bytes (its zip directory
    saying so, or ``declared_size`` if given: a lie)."""
    sheet = bomb_sheet(expanded)
    if declared_size is not None:
        sheet = Member(sheet.name, sheet.payload, sheet.crc, sheet.size, declared_size=declared_size)
    members = [sheet if m.name == SHEET else m for m in workbook_members([["x"]])]
    return zip_archive(members)


def wide_csv(columns: int, rows: int = 1) -> bytes:
    """A CSV whose header has ``columns`` distinct names (c1, c2, …) and ``rows`` data lines."""
    header = ",".join(f"c{i}" for i in range(1, columns + 1))
    line = ",".join("1" for _ in range(columns))
    return "\r\n".join([header, *[line] * rows]).encode()
