"""Response bodies of the data service: JSON, CSV (UTF-8 BOM, formulas neutralised), Arrow IPC."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import math
from typing import Any

import orjson
import pyarrow as pa

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "arrow": "application/vnd.apache.arrow.stream",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def json_value(value: Any) -> Any:
    """A value as JSON: decimals as exact text, dates and times ISO 8601, NaN and infinities null."""
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The page's rows as :func:`to_json` writes them. Decimal columns become their exact text in
    Arrow (the same digits as ``format(value, "f")``: a fixed scale), in one pass per column
    rather than per value; dates, times and non-finite floats are left to :func:`to_json`."""
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table.to_pylist()


def to_json(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (orjson): dates and times ISO 8601, NaN and infinities null, decimals
    as exact text (:func:`json_value`)."""
    return orjson.dumps(document, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(table: pa.Table) -> bytes:
    """UTF-8 with a BOM (so spreadsheets read Chinese right), a header row of column names; text
    cells starting with = + - @ tab or CR neutralised. Numbers, dates and booleans are rendered by
    this code from typed values, so they are never formulas (a negative number keeps its sign)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.column_names)
    text_columns = [pa.types.is_string(f.type) or pa.types.is_large_string(f.type) for f in table.schema]
    for row in table.to_pylist():
        cells = []
        for (_, value), is_text in zip(row.items(), text_columns, strict=True):
            if value is None:
                cells.append("")
            elif is_text:
                cells.append(neutralise(str(value)))
            else:
                shown = json_value(value)
                cells.append(
                    "" if shown is None else str(shown).lower() if isinstance(shown, bool) else str(shown)
                )
        writer.writerow(cells)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def to_arrow(table: pa.Table, metadata: dict[str, str]) -> bytes:
    """An Arrow IPC stream; the schema's metadata carries the version, as-of date and masks."""
    table = table.replace_schema_metadata({k: v for k, v in metadata.items()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
