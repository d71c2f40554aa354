"""Landing → bronze: load what the ledger says is pending, one commit per table per run.

Per batch: rows read = bronze rows + bronze-quarantine rows + skipped lines, and the ledger row
records all four. A batch replaces its reporting unit and period in bronze (``replaceWhere``), so
a correction swaps the old delivery out atomically and the old rows stay in Delta history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from catalog import Contract
from catalog.spark_schema import struct_type
from ibrain.delta import sql_literal
from ibrain.tables import LakeTables
from ingest.ledger import FAILED, LOADED, PENDING, SUPERSEDED, IngestLedger, utc_now
from ingest.records import ParsedFile, SourceFileError, raw_json, record_hash
from ingest.sources import get_source

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    source: str
    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_bronze: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "batches_loaded": len(self.loaded),
            "batches_failed": len(self.failed),
            "batches_superseded": len(self.superseded),
            "rows_read": self.rows_read,
            "rows_bronze": self.rows_bronze,
            "rows_quarantined": self.rows_quarantined,
            "rows_skipped": self.rows_skipped,
        }


def unit_period_predicate(pairs: set[tuple[str, str]]) -> str:
    terms = [f"(reporting_unit = {sql_literal(u)} AND period = {sql_literal(p)})" for u, p in sorted(pairs)]
    return " OR ".join(terms) if terms else "FALSE"


def load_pending(tables: LakeTables, source_name: str) -> LoadReport:
    source = get_source(source_name)
    ledger = IngestLedger(tables)
    report = LoadReport(source_name)
    entries = ledger.entries(source=source_name)
    pending = [e for e in entries if e["status"] == PENDING]
    if not pending:
        return report

    # Of several pending deliveries for one unit-period, only the latest counts.
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in pending:
        latest[(entry["reporting_unit"], entry["period"])] = entry
    updates: list[dict[str, Any]] = []
    now = utc_now()
    for entry in pending:
        winner = latest[(entry["reporting_unit"], entry["period"])]
        if winner is not entry:
            updates.append(
                entry
                | {
                    "status": SUPERSEDED,
                    "superseded_by": winner["batch_id"],
                    "processed_at": now,
                    "message": "a later delivery for the same unit and period arrived first",
                }
            )
            report.superseded.append(entry["batch_id"])

    bronze_cols: dict[str, list[Any]] = {c: [] for c in source.bronze_contract.column_names}
    quarantine_cols: dict[str, list[Any]] = {c: [] for c in source.quarantine_contract.column_names}
    loaded: list[dict[str, Any]] = []
    for entry in latest.values():
        label = entry["landing_path"]
        try:
            parsed = source.parse(tables.lake.read_bytes(label), label)
        except SourceFileError as exc:
            log.error("batch %s failed: %s", entry["batch_id"], exc)
            updates.append(entry | {"status": FAILED, "processed_at": now, "message": str(exc)})
            report.failed[entry["batch_id"]] = str(exc)
            continue
        _add_bronze_rows(bronze_cols, source.data_columns, entry, parsed, now)
        _add_quarantine_rows(quarantine_cols, entry, parsed, now)
        counts = {
            "rows_read": parsed.rows_read,
            "rows_bronze": len(parsed.records),
            "rows_quarantined": len(parsed.rejects),
            "rows_skipped": parsed.skipped,
        }
        loaded.append(entry | counts | {"status": LOADED, "processed_at": now, "message": None})
        report.loaded.append(entry["batch_id"])
        report.rows_read += parsed.rows_read
        report.rows_bronze += len(parsed.records)
        report.rows_quarantined += len(parsed.rejects)
        report.rows_skipped += parsed.skipped

    if loaded:
        pairs = {(e["reporting_unit"], e["period"]) for e in loaded}
        predicate = unit_period_predicate(pairs)
        tables.replace_where(
            source.bronze_contract, _frame(tables, source.bronze_contract, bronze_cols), predicate
        )
        tables.replace_where(
            source.quarantine_contract, _frame(tables, source.quarantine_contract, quarantine_cols), predicate
        )
        winners = {(e["reporting_unit"], e["period"]): e for e in loaded}
        for entry in entries:
            winner = winners.get((entry["reporting_unit"], entry["period"]))
            if entry["status"] == LOADED and winner is not None:  # the old delivery it replaces
                updates.append(
                    entry
                    | {
                        "status": SUPERSEDED,
                        "superseded_by": winner["batch_id"],
                        "message": "replaced by a correction",
                    }
                )
                report.superseded.append(entry["batch_id"])
        updates.extend(loaded)
    ledger.update(updates)
    log.info("%s: %s", source_name, report.as_metadata())
    return report


def _add_bronze_rows(
    cols: dict[str, list[Any]], data_columns: list[str], entry: dict[str, Any], parsed: ParsedFile, now
) -> None:
    for row_number, record in parsed.records:
        values = [record.get(c) for c in data_columns]
        for c, v in zip(data_columns, values, strict=True):
            cols[c].append(v)
        cols["reporting_unit"].append(entry["reporting_unit"])
        cols["period"].append(entry["period"])
        _add_lineage(cols, entry, row_number, record_hash(values), now)


def _add_quarantine_rows(cols: dict[str, list[Any]], entry: dict[str, Any], parsed: ParsedFile, now) -> None:
    for reject in parsed.rejects:
        raw_values = reject.raw if isinstance(reject.raw, list) else list(reject.raw.values())
        cols["reporting_unit"].append(entry["reporting_unit"])
        cols["period"].append(entry["period"])
        cols["rule_id"].append(reject.rule_id)
        cols["reason"].append(reject.reason)
        cols["raw"].append(raw_json(reject.raw))
        cols["quarantined_at"].append(now)
        _add_lineage(cols, entry, reject.row_number, record_hash(raw_values), now)


def _add_lineage(cols: dict[str, list[Any]], entry: dict[str, Any], row_number: int, hash_: str, now) -> None:
    cols["_batch_id"].append(entry["batch_id"])
    cols["_source_file"].append(entry["landing_path"])
    cols["_row_number"].append(row_number)
    cols["_record_hash"].append(hash_)
    cols["_ingested_at"].append(now)


def _frame(tables: LakeTables, contract: Contract, cols: dict[str, list[Any]]):
    """A Spark DataFrame from column lists, sent as Arrow (fast for large batches)."""
    schema = struct_type(contract)
    arrow = pa.table(
        {f.name: pa.array(cols[f.name], type=_arrow_type(f.dataType.simpleString())) for f in schema.fields}
    )
    return tables.spark.createDataFrame(arrow, schema=schema)


def _arrow_type(spark_type: str) -> pa.DataType:
    return {"string": pa.string(), "int": pa.int32(), "bigint": pa.int64(), "timestamp": pa.timestamp("us")}[
        spark_type
    ]
