"""JSON deliveries: JSON Lines (one object per line) or one document holding a record list.

Keys map to contract columns through the contract's ``source_header`` (the key name). Scalars
are kept as text: strings as they are, numbers and booleans in their JSON spelling, null as
NULL. Unknown keys are schema drift (kept in ``Record.unmapped``). A line that is not a JSON
object is rejected with its line number; a document that is not valid JSON fails the file.
"""

from __future__ import annotations

from typing import Any

import orjson

from ingest.records import ParsedFile, Record, Reject, SourceFileError


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _record(obj: dict[str, Any], keys: dict[str, str], row_number: int, parsed: ParsedFile) -> Record:
    values = {column: _text(obj.get(key)) for key, column in keys.items()}
    unmapped = {k: v for k, v in obj.items() if k not in keys}
    if unmapped:
        parsed.unmapped_fields.update(unmapped)
    return Record(row_number, values, unmapped or None)


def parse_jsonl(data: bytes, keys: dict[str, str], label: str) -> ParsedFile:
    parsed = ParsedFile()
    for row_number, line in enumerate(data.splitlines(), start=1):
        parsed.rows_read += 1
        if not line.strip():
            parsed.skipped += 1
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            parsed.rejects.append(
                Reject(
                    row_number,
                    "json_syntax",
                    f"{label} line {row_number}: not valid JSON ({exc})",
                    line.decode("utf-8", "replace"),
                )
            )
            continue
        if not isinstance(obj, dict):
            parsed.rejects.append(
                Reject(
                    row_number,
                    "json_syntax",
                    f"{label} line {row_number}: expected a JSON object",
                    line.decode("utf-8", "replace"),
                )
            )
            continue
        parsed.records.append(_record(obj, keys, row_number, parsed))
    parsed.check_counts(label)
    return parsed


def parse_json_document(data: bytes, keys: dict[str, str], records_key: str | None, label: str) -> ParsedFile:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SourceFileError(f"{label}: not valid JSON ({exc})") from exc
    items = doc.get(records_key) if records_key and isinstance(doc, dict) else doc
    if not isinstance(items, list):
        where = f"key {records_key!r}" if records_key else "the top level"
        raise SourceFileError(f"{label}: expected a list of records at {where}")
    parsed = ParsedFile()
    for index, obj in enumerate(items, start=1):
        parsed.rows_read += 1
        if not isinstance(obj, dict):
            parsed.rejects.append(
                Reject(
                    index, "json_syntax", f"{label} record {index}: expected a JSON object", _text(obj) or ""
                )
            )
            continue
        parsed.records.append(_record(obj, keys, index, parsed))
    parsed.check_counts(label)
    return parsed
