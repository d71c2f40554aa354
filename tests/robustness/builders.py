"""Hostile deliveries built on the fly (issue 12, items 1-4): damaged, oversize, undecodable and
empty files, all-bad corrections, odd names. Every good file here has rows worked out by hand:
``good_report(n)`` is a title line, the header, ``n`` data rows and a totals line, so
rows_read = n + 3, bronze = n, skipped = 3."""

from __future__ import annotations

import io
import zipfile

from catalog.tables import LakeTables
from ibrain import uscc
from simulators.sources import headers, xlsx_bytes

SOURCE = "gov_stats_monthly"
HEADER = headers(SOURCE)


def uscc_code(n: int) -> str:
    """A valid USCC, distinct for each ``n``."""
    body = f"91210100MA{n:07d}"
    return body + uscc.check_char(body)


def data_row(n: int, output: str = "100", period: str = "2024-03") -> list[str]:
    return [uscc_code(n), f"测试企业{n}有限公司", "210102", "3421", period, output, "90", "5", "10", "2"]


def csv_lines(lines: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(line) for line in lines).encode("utf-8-sig")


def good_report(rows: int, output: str = "100", period: str = "2024-03") -> bytes:
    lines = [["辽宁省规模以上工业企业主要指标月报"], HEADER]
    lines += [data_row(n, output, period) for n in range(rows)]
    lines += [["合计", "", "", "", "", "1", "", "", "", ""]]
    return csv_lines(lines)


def all_bad_report(rows: int) -> bytes:
    """A header and ``rows`` lines of which none can be read (three fields where ten are due)."""
    return csv_lines([HEADER, *[[uscc_code(n), "x", "y"] for n in range(rows)]])


def mostly_bad_report(good: int, bad: int) -> bytes:
    lines = [HEADER, *[data_row(n) for n in range(good)], *[[uscc_code(n), "x"] for n in range(bad)]]
    return csv_lines(lines)


def oversize_field_report(size: int = 300_000) -> bytes:
    """One quoted field larger than the csv module's default limit (131072 characters)."""
    return csv_lines([HEADER, [*data_row(0)[:1], '"' + "长" * size + '"', *data_row(0)[2:]]])


def damaged_xlsx() -> bytes:
    """A real workbook cut in half: a zip whose central directory is gone."""
    data = xlsx_bytes([HEADER, data_row(0)])
    return data[: len(data) // 2]


def xlsx_with_broken_sheet() -> bytes:
    """A zip with the workbook's parts, the sheet XML replaced by garbage."""
    src = zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER, data_row(0)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(
                info.filename, b"<worksheet><sheetData><row" if "worksheets/" in info.filename else data
            )
    return out.getvalue()


def undecodable() -> bytes:
    """Bytes that are neither UTF-8 nor GB18030 (0xFF starts no character in either)."""
    return b"\xff\xfe\xff" * 200


def file_name(unit: str = "210100", period: str = "202403", ext: str = "csv") -> str:
    return f"{SOURCE}_{unit}_{period}.{ext}"


def drop(tables: LakeTables, name: str, data: bytes, source: str = SOURCE) -> str:
    """Put a file in the source's inbox as a sender would; returns its URI."""
    uri = tables.lake.uri("landing", "_inbox", source, name)
    tables.lake.write_bytes(uri, data)
    return uri
