"""Scheduled aggregate exports to the provincial platforms, filtered by classification.

Only columns graded 一般 leave the lake (GB/T 43697 handling: 重要 data is masked or withheld in
exports, 核心 never leaves). A table holding any 核心 column is graded 核心 and refused. Each export is
written to ``<root>/exchange/<name>/<name>.csv`` with a manifest (columns, rows, SHA-256) next to
it; content is deterministic, so a re-run writes identical bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import json
from dataclasses import dataclass

from catalog import Contract
from catalog.tables import LakeTables


class ExportRefused(PermissionError):
    pass


@dataclass(frozen=True)
class ExportResult:
    name: str
    uri: str
    manifest_uri: str
    rows: int
    columns: list[str]
    withheld: list[str]
    sha256: str


def exportable_columns(contract: Contract) -> tuple[list[str], list[str]]:
    """(columns that may leave, columns withheld with their level)."""
    if contract.classification == "核心":
        raise ExportRefused(f"{contract.name} is graded 核心 (就高从严) and never leaves the lake")
    allowed = [c.name for c in contract.columns if c.exportable]
    withheld = [f"{c.name} ({c.classification})" for c in contract.columns if not c.exportable]
    if not allowed:
        raise ExportRefused(f"{contract.name} has no column graded 一般; nothing may be exported")
    return allowed, withheld


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float | decimal.Decimal):
        return format(value, "f") if isinstance(value, decimal.Decimal) else repr(value)
    return str(value)


def export_table(tables: LakeTables, contract: Contract, name: str, recipient: str) -> ExportResult:
    allowed, withheld = exportable_columns(contract)
    df = tables.read(contract.layer, contract.table).select(allowed)
    order = list(contract.primary_key) or allowed
    rows = df.orderBy(*order).collect()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(allowed)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    data = out.getvalue().encode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    uri = tables.lake.uri("exchange", name, f"{name}.csv")
    manifest_uri = tables.lake.uri("exchange", name, "manifest.json")
    manifest = {
        "name": name,
        "recipient": recipient,
        "source_table": contract.name,
        "classification_allowed": "一般",
        "columns": [
            {"name": c, "name_zh": contract.column(c).name_zh, "type": contract.column(c).type}
            for c in allowed
        ],
        "withheld_columns": withheld,
        "rows": len(rows),
        "sha256": sha,
        "file": f"{name}.csv",
    }
    tables.lake.write_bytes(uri, data)
    tables.lake.write_bytes(manifest_uri, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
    return ExportResult(name, uri, manifest_uri, len(rows), allowed, withheld, sha)
