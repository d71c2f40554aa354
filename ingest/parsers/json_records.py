"""JSON deliveries: JSON Lines (one object per line) or one document holding a record list.

Keys map to contract columns through the contract's ``source_header`` (the key name). Scalars
are kept as text: strings as they are, numbers and booleans in their JSON spelling, null as
NULL. Unknown keys are schema drift (kept in ``Record.unmapped``). A line that is not a JSON
object is rejected with its line number; a document that is not valid JSON fails the file.

Limits (ingest/limits.py): file size, line length (JSON Lines, in bytes) and nesting depth, the
depth measured without recursion after orjson, which itself refuses documents deeper than 1,024
levels. JSON is UTF-8 (RFC 8259): a leading UTF-8 byte-order mark is skipped; a file in another
encoding, binary data or a UTF-16 file is rejected naming the byte offset; a JSON Lines file that
is UTF-8 with a few damaged bytes keeps its good lines, each damaged line rejected with its offset.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import orjson

from ingest.limits import ORJSON_MAX_DEPTH, LimitExceeded, Limits, variable
from ingest.parsers.encoding import check_utf8
from ingest.records import ParsedFile, Record, Reject, SourceFileError

_CONTAINERS = (dict, list)
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # the separators of bytes.splitlines


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


def depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar 0, ``{}`` 1, ``{"a": [1]}`` 2), by an
    explicit stack: no recursion, linear in the number of containers."""
    if not isinstance(value, _CONTAINERS):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, level + 1) for child in children if isinstance(child, _CONTAINERS))
    return deepest


def _loads(data: bytes | memoryview, label: str, where: str, limits: Limits) -> Any:
    """orjson.loads with the depth limit; orjson's own depth refusal becomes the limit error."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit exceeded" in str(exc):
            raise LimitExceeded(
                label,
                f"{where}JSON nesting depth",
                f"over {ORJSON_MAX_DEPTH:,}",
                limits.max_json_depth,
                variable("max_json_depth"),
            ) from None
        raise
    if isinstance(value, _CONTAINERS):
        levels = depth(value)
        limits.check("max_json_depth", label, f"{where}JSON nesting depth", levels)
    return value


def parse_jsonl(data: bytes, keys: dict[str, str], label: str, limits: Limits | None = None) -> ParsedFile:
    limits = limits or Limits.from_env()
    limits.check_file_size(len(data), label)
    damaged = check_utf8(data, label, lines=True)
    parsed = ParsedFile()
    lines = data.splitlines()
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    if bom:
        lines[0] = lines[0][bom:]
    # Byte offset of each line in the file, only needed to name a damaged byte.
    starts = [bom, *(m.end() for m in _LINE_BREAK.finditer(data))] if damaged else []
    for row_number, line in enumerate(lines, start=1):
        parsed.rows_read += 1
        if len(line) > limits.max_line_length:
            limits.check("max_line_length", label, f"line {row_number} length (bytes)", len(line))
        if not line.strip():
            parsed.skipped += 1
            continue
        if damaged:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                at = starts[row_number - 1] + exc.start
                parsed.rejects.append(
                    Reject(
                        row_number,
                        "json_syntax",
                        f"{label} line {row_number}: invalid UTF-8 at byte offset {at} of the file",
                        line.decode("utf-8", "replace"),
                    )
                )
                continue
        try:
            obj = _loads(line, label, f"line {row_number}: ", limits)
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


def parse_json_document(
    data: bytes, keys: dict[str, str], records_key: str | None, label: str, limits: Limits | None = None
) -> ParsedFile:
    limits = limits or Limits.from_env()
    limits.check_file_size(len(data), label)
    check_utf8(data, label)
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        doc = _loads(memoryview(data)[bom:], label, "", limits)
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
