"""Tabular deliveries: CSV (UTF-8 with/without BOM, GBK/GB18030) or XLSX, told apart by content.

Government spreadsheets come with title lines above the header, a 合计 totals row, blank lines
and 注 notes. Those are counted as skipped. The header is the first line holding every header
the contract maps; a line with a different number of fields is rejected with its line number;
columns the contract does not know are kept as schema drift (``Record.unmapped``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator

from ingest.records import ParsedFile, Record, Reject, SourceFileError

XLSX_MAGIC = b"PK\x03\x04"
_TOTAL_MARKERS = ("合计", "总计", "小计")
_NOTE_MARKERS = ("注：", "注:", "注 ", "说明：", "说明:", "备注：", "备注:")
# Header spelling varies between senders only in bracket width and stray spaces.
_HEADER_FIX = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": "", "\ufeff": ""})


def normalise_header(text: str) -> str:
    return text.strip().translate(_HEADER_FIX)


DEFAULT_ENCODINGS = ("utf-8-sig", "gb18030")


def decode(data: bytes, label: str, encodings: tuple[str, ...] = DEFAULT_ENCODINGS) -> str:
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    names = " or ".join(
        "UTF-8" if e.startswith("utf") else "GBK/GB18030" if e.startswith("gb") else e
        for e in dict.fromkeys(encodings)
    )
    raise SourceFileError(f"{label}: not {names} text")


def _cell_text(value: object) -> str:
    """An XLSX cell as text, the way a person reads it in the sheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def xlsx_rows(data: bytes, label: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceFileError(f"{label}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        workbook.close()


def table_rows(
    data: bytes, label: str, encodings: tuple[str, ...] = DEFAULT_ENCODINGS
) -> tuple[Iterator[list[str]], str]:
    """The file's rows as text cells, and the word for a row position ("line" or "row")."""
    if data.startswith(XLSX_MAGIC):
        return xlsx_rows(data, label), "row"
    return csv.reader(io.StringIO(decode(data, label, encodings), newline="")), "line"


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def parse_tabular(
    data: bytes, headers: dict[str, str], label: str, encodings: tuple[str, ...] = DEFAULT_ENCODINGS
) -> ParsedFile:
    """``headers`` maps each source header (as in the contract) to its column name."""
    wanted = {normalise_header(h): column for h, column in headers.items()}
    rows, word = table_rows(data, label, encodings)
    parsed = ParsedFile()
    header: list[str] | None = None
    for row_number, cells in enumerate(rows, start=1):
        parsed.rows_read += 1
        stripped = [c.strip() for c in cells]
        if header is None:
            if set(wanted) <= {normalise_header(c) for c in cells}:
                header = _header(_trim(cells), label, word, row_number)
            parsed.skipped += 1  # title lines and the header itself
            continue
        if not any(stripped):
            parsed.skipped += 1
            continue
        first = next(c for c in stripped if c)
        if first.startswith(_TOTAL_MARKERS) or first.startswith(_NOTE_MARKERS):
            parsed.skipped += 1
            continue
        if len(cells) > len(header):
            cells = cells[: len(header)] + _trim(cells[len(header) :])
        if len(cells) < len(header) and word == "row":
            cells = cells + [""] * (len(header) - len(cells))  # XLSX omits trailing empty cells
        if len(cells) != len(header):
            parsed.rejects.append(
                Reject(
                    row_number=row_number,
                    rule_id="column_count",
                    reason=f"{label} {word} {row_number}: expected {len(header)} fields, got {len(cells)}",
                    raw=cells,
                )
            )
            continue
        values: dict[str, str | None] = {}
        unmapped: dict[str, str] = {}
        for name, cell in zip(header, cells, strict=True):
            key = normalise_header(name)
            if key in wanted:
                values[wanted[key]] = cell
            elif cell.strip():
                unmapped[name] = cell
        parsed.records.append(Record(row_number, values, unmapped or None))
    if header is None:
        raise SourceFileError(f"{label}: no header line with all of: {', '.join(headers)}")
    parsed.unmapped_fields = {h for h in header if normalise_header(h) not in wanted}
    parsed.check_counts(label)
    return parsed


def _header(cells: list[str], label: str, word: str, row_number: int) -> list[str]:
    names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(cells)]
    seen = [normalise_header(n) for n in names]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise SourceFileError(f"{label} {word} {row_number}: duplicate header {', '.join(duplicates)}")
    return names
