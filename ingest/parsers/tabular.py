"""Tabular deliveries: CSV (UTF-8 with/without BOM, GBK/GB18030) or XLSX, told apart by content.

Limits (file size, XLSX archive, columns, field and line length: ingest/limits.py) reject a file
before the work they bound; encodings are decoded or rejected by ingest/parsers/encoding.py.

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
from collections import Counter
from collections.abc import Iterator

from ingest.limits import LimitExceeded, Limits, variable
from ingest.parsers import encoding
from ingest.parsers.xlsx_archive import check_xlsx_archive
from ingest.records import ParsedFile, Record, Reject, SourceFileError

XLSX_MAGIC = b"PK\x03\x04"
_TOTAL_MARKERS = ("合计", "总计", "小计")
_NOTE_MARKERS = ("注：", "注:", "注 ", "说明：", "说明:", "备注：", "备注:")
# Header spelling varies between senders only in bracket width and stray spaces.
_HEADER_FIX = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": "", "\ufeff": ""})


def normalise_header(text: str) -> str:
    return text.strip().translate(_HEADER_FIX)


DEFAULT_ENCODINGS = ("utf-8-sig", "gb18030")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other OLE2 documents)
EXCEL_MAX_ROWS = 1_048_576


def decode(data: bytes, label: str, encodings: tuple[str, ...] = DEFAULT_ENCODINGS) -> str:
    """The file as text, decoded correctly or rejected naming the byte offset (parsers/encoding.py)."""
    return encoding.decode(data, label, encodings)


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


def xlsx_rows(data: bytes, label: str, limits: Limits) -> Iterator[list[str]]:
    """The first sheet's rows, once the archive passed the limits (parsers/xlsx_archive.py).

    The sheet's declared dimension is ignored (``reset_dimensions``): a forged one would make
    openpyxl pad every row to 16,384 cells and rows beyond it would be dropped. Rows are then as
    long as their last cell, and a gap in row numbers is yielded row by row, so the row count is
    capped at Excel's 1,048,576.
    """
    from openpyxl import load_workbook

    check_xlsx_archive(data, label, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as exc:
        # SyntaxError: xml.etree's ParseError, for a part that is not well-formed XML
        raise SourceFileError(f"{label}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        if not workbook.worksheets:
            raise SourceFileError(f"{label}: the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > EXCEL_MAX_ROWS:
                raise SourceFileError(f"{label}: row numbers beyond Excel's {EXCEL_MAX_ROWS:,} rows")
            yield [_cell_text(v) for v in row]
    except SourceFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as exc:
        raise SourceFileError(f"{label}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()


def _physical_lines(text: str, label: str, limits: Limits) -> Iterator[str]:
    """The text's lines for the csv module, each checked against the line-length limit first."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > limits.max_line_length:
            limits.check("max_line_length", label, f"line {number} length (characters)", len(line))
        yield line


def csv_rows(text: str, label: str, limits: Limits) -> Iterator[list[str]]:
    """CSV rows, with the csv module's own field-size failure turned into the field limit."""
    if csv.field_size_limit() <= limits.max_field_chars:
        # Only ever raised (the setting is process-wide), so that our own check speaks first.
        csv.field_size_limit(limits.max_field_chars + 1)
    reader = csv.reader(_physical_lines(text, label, limits))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise LimitExceeded(
                    label,
                    f"line {reader.line_num}: field length (characters)",
                    f"over {csv.field_size_limit():,}",
                    limits.max_field_chars,
                    variable("max_field_chars"),
                ) from None
            raise SourceFileError(f"{label} line {reader.line_num}: not readable as CSV ({exc})") from None
        yield row


def table_rows(
    data: bytes, label: str, encodings: tuple[str, ...] = DEFAULT_ENCODINGS, limits: Limits | None = None
) -> tuple[Iterator[list[str]], str]:
    """The file's rows as text cells, and the word for a row position ("line" or "row")."""
    limits = limits or Limits.from_env()
    limits.check_file_size(len(data), label)
    if data.startswith(XLSX_MAGIC):
        return xlsx_rows(data, label, limits), "row"
    if data.startswith(OLE2_MAGIC):
        raise SourceFileError(
            f"{label}: a legacy Excel .xls (OLE2) file, not XLSX or CSV text; ask for XLSX or CSV"
        )
    return csv_rows(decode(data, label, encodings), label, limits), "line"


def _trim(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def parse_tabular(
    data: bytes,
    headers: dict[str, str],
    label: str,
    encodings: tuple[str, ...] = DEFAULT_ENCODINGS,
    limits: Limits | None = None,
) -> ParsedFile:
    """``headers`` maps each source header (as in the contract) to its column name. Work is linear
    in the file's size: each line is looked at a bounded number of times, and every line is held
    to the column and field limits (ingest/limits.py) before anything else is done with it."""
    limits = limits or Limits.from_env()
    wanted = {normalise_header(h): column for h, column in headers.items()}
    rows, word = table_rows(data, label, encodings, limits)
    parsed = ParsedFile()
    header: list[str] | None = None
    header_keys: list[str] = []
    for row_number, cells in enumerate(rows, start=1):
        parsed.rows_read += 1
        _check_row(cells, label, word, row_number, limits)
        stripped = [c.strip() for c in cells]
        if header is None:
            if set(wanted) <= {normalise_header(c) for c in cells}:
                header = _header(_trim(cells), label, word, row_number)
                header_keys = [normalise_header(n) for n in header]
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
        for name, key, cell in zip(header, header_keys, cells, strict=True):
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


def _check_row(cells: list[str], label: str, word: str, row_number: int, limits: Limits) -> None:
    if len(cells) > limits.max_columns:
        limits.check("max_columns", label, f"{word} {row_number}: number of columns", len(cells))
    longest = max(map(len, cells), default=0)
    if longest > limits.max_field_chars:
        limits.check("max_field_chars", label, f"{word} {row_number}: field length (characters)", longest)


def _header(cells: list[str], label: str, word: str, row_number: int) -> list[str]:
    """The header's names; a name twice (after normalising) fails the file. Linear: one pass
    with a counter (a quadratic check took minutes on a 100 k-column header)."""
    names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(cells)]
    counts = Counter(normalise_header(n) for n in names)
    duplicates = sorted(n for n, count in counts.items() if count > 1)
    if duplicates:
        raise SourceFileError(f"{label} {word} {row_number}: duplicate header {', '.join(duplicates)}")
    return names
