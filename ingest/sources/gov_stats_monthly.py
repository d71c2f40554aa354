"""规上工业企业月报: one CSV per city and month from each city statistics bureau.

Files may be UTF-8 (with or without BOM) or GBK/GB18030, have title lines above the header, a
``合计`` totals row, blank lines and ``注：`` notes. Those lines are counted as skipped; a line
with the wrong number of fields is rejected with its line number; everything else is kept as
text exactly as received.
"""

from __future__ import annotations

import csv
import io
import re

from ingest.records import ParsedFile, Reject, SourceFileError
from ingest.sources.base import Source

_FILE_NAME = re.compile(r"(?P<unit>\d{6})[_-](?P<year>\d{4})-?(?P<month>\d{2})(?!\d)")
_TOTAL_MARKERS = ("合计", "总计", "小计")
_NOTE_MARKERS = ("注：", "注:", "注 ", "说明：", "说明:")
# Header spelling varies between bureaus only in bracket width and stray spaces.
_HEADER_FIX = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": "", "\ufeff": ""})


def normalise_header(text: str) -> str:
    return text.strip().translate(_HEADER_FIX)


def decode(data: bytes, label: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceFileError(f"{label}: not UTF-8 or GBK/GB18030 text")


class GovStatsMonthly(Source):
    name = "gov_stats_monthly"

    def identify(self, file_name: str) -> tuple[str | None, str | None]:
        match = _FILE_NAME.search(file_name)
        if not match:
            return None, None
        month = int(match["month"])
        if not 1 <= month <= 12:
            return None, None
        return match["unit"], f"{match['year']}-{month:02d}"

    def parse(self, data: bytes, label: str) -> ParsedFile:
        text = decode(data, label)
        headers = {normalise_header(h): col for h, col in self.bronze_contract.source_headers.items()}
        parsed = ParsedFile()
        header: list[str] | None = None
        for row_number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            parsed.rows_read += 1
            stripped = [c.strip() for c in cells]
            if header is None:
                if set(headers) <= {normalise_header(c) for c in cells}:
                    header = self._header_columns(cells, headers, label, row_number)
                parsed.skipped += 1  # title lines and the header itself
                continue
            if not any(stripped):
                parsed.skipped += 1
                continue
            first = next(c for c in stripped if c)
            if first.startswith(_TOTAL_MARKERS) or first.startswith(_NOTE_MARKERS):
                parsed.skipped += 1
                continue
            while len(cells) > len(header) and not cells[-1].strip():
                cells = cells[:-1]  # trailing empty cells from spreadsheet exports
            if len(cells) != len(header):
                parsed.rejects.append(
                    Reject(
                        row_number=row_number,
                        rule_id="column_count",
                        reason=f"{label} line {row_number}: expected {len(header)} fields, got {len(cells)}",
                        raw=cells,
                    )
                )
                continue
            parsed.records.append((row_number, dict(zip(header, cells, strict=True))))
        if header is None:
            missing = ", ".join(self.bronze_contract.source_headers)
            raise SourceFileError(f"{label}: no header line with all of: {missing}")
        parsed.check_counts(label)
        return parsed

    @staticmethod
    def _header_columns(cells: list[str], headers: dict[str, str], label: str, row_number: int) -> list[str]:
        while cells and not cells[-1].strip():
            cells = cells[:-1]
        columns: list[str] = []
        for cell in cells:
            key = normalise_header(cell)
            if key in headers:
                columns.append(headers[key])
            elif key:
                raise SourceFileError(
                    f"{label} line {row_number}: unexpected column {cell.strip()!r}; "
                    "add it to the contract before loading this file"
                )
            else:
                columns.append(f"_blank_{len(columns)}")
        if any(c.startswith("_blank_") for c in columns):
            raise SourceFileError(f"{label} line {row_number}: the header has an empty column name")
        return columns
