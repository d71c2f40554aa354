"""Landing → bronze, driven by the ingest ledger, one Delta commit per table per call.

For each period (the bronze table's partition):
- deliveries that are pending are parsed; per reporting unit the latest one wins and replaces
  that unit-period in bronze (``replaceWhere``), older ones become ``superseded``;
- on a backfill (``replay``), a period with nothing pending is *replayed*: every current
  delivery is parsed again from landing and the whole period rewritten. ``_ingested_at`` is the
  batch's first processing time, so a replay gives exactly the rows of the original run.

A file that cannot be read at all is moved to ``landing/_rejected/<source>/`` with a reason
file, and its batch marked ``failed`` (the unit keeps its previous delivery, if any).
Per batch: rows read = bronze + bronze quarantine + skipped, recorded in the ledger.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass, field
from typing import Any

from catalog.staging import Staging
from catalog.tables import LakeTables
from ibrain.delta import in_predicate, sql_literal
from ingest.ledger import FAILED, LOADED, PENDING, SUPERSEDED, IngestLedger, utc_now
from ingest.records import ParsedFile, SourceFileError, record_hash, to_json
from ingest.sources import Source, get_source

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    source: str
    periods: list[str] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # batch id -> reason
    superseded: list[str] = field(default_factory=list)
    unmapped_fields: set[str] = field(default_factory=set)
    rows_read: int = 0
    rows_bronze: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "periods": ", ".join(self.periods) or "none",
            "periods_replayed": ", ".join(self.replayed) or "none",
            "batches_loaded": len(self.loaded),
            "batches_failed": len(self.failed),
            "batches_superseded": len(self.superseded),
            "rows_read": self.rows_read,
            "rows_bronze": self.rows_bronze,
            "rows_quarantined": self.rows_quarantined,
            "rows_skipped": self.rows_skipped,
            "schema_drift": ", ".join(sorted(self.unmapped_fields)) or "none",
        }


def unit_period_predicate(pairs: set[tuple[str, str]]) -> str:
    terms = [f"(reporting_unit = {sql_literal(u)} AND period = {sql_literal(p)})" for u, p in sorted(pairs)]
    return " OR ".join(terms) if terms else "FALSE"


class _Batches:
    """Bronze and quarantine rows of one call, staged file by file (see catalog/staging.py)."""

    def __init__(self, tables: LakeTables, source: Source) -> None:
        self.source = source
        self.staging = Staging(tables)

    def add(self, entry: dict[str, Any], parsed: ParsedFile, ingested_at) -> None:
        data_columns = self.source.data_columns
        cols: dict[str, list[Any]] = {c: [] for c in self.source.bronze_contract.column_names}
        for record in parsed.records:
            values = [record.values.get(c) for c in data_columns]
            for c, v in zip(data_columns, values, strict=True):
                cols[c].append(v)
            cols["_unmapped"].append(to_json(record.unmapped) if record.unmapped else None)
            self._common(cols, entry, record.row_number, record_hash(values), ingested_at)
        self.staging.add(self.source.bronze_contract, cols)
        cols = {c: [] for c in self.source.quarantine_contract.column_names}
        for reject in parsed.rejects:
            raw = reject.raw
            flat = raw if isinstance(raw, list) else list(raw.values()) if isinstance(raw, dict) else [raw]
            cols["rule_id"].append(reject.rule_id)
            cols["reason"].append(reject.reason)
            cols["raw"].append(to_json(raw))
            cols["quarantined_at"].append(ingested_at)
            self._common(cols, entry, reject.row_number, record_hash([str(v) for v in flat]), ingested_at)
        self.staging.add(self.source.quarantine_contract, cols)

    @staticmethod
    def _common(
        cols: dict[str, list[Any]], entry: dict[str, Any], row_number: int, hash_: str, ingested_at
    ) -> None:
        cols["reporting_unit"].append(entry["reporting_unit"])
        cols["period"].append(entry["period"])
        cols["_batch_id"].append(entry["batch_id"])
        cols["_source_file"].append(entry["landing_path"])
        cols["_row_number"].append(row_number)
        cols["_record_hash"].append(hash_)
        cols["_ingested_at"].append(ingested_at)


def load(
    tables: LakeTables, source_name: str, periods: list[str] | None = None, replay: bool = False
) -> LoadReport:
    """Bring bronze in line with the ledger for the pending deliveries among ``periods``
    (default: every period). With ``replay`` (a backfill), periods that have nothing pending are
    rewritten from landing as well."""
    source = get_source(source_name)
    ledger = IngestLedger(tables)
    entries = ledger.entries(source=source_name)
    pending = {e["period"] for e in entries if e["status"] == PENDING}
    wanted = set(periods) if periods is not None else pending
    report = LoadReport(source_name, periods=sorted(wanted if replay else wanted & pending))
    now = utc_now()
    updates: list[dict[str, Any]] = []
    batches = _Batches(tables, source)
    incremental_pairs: set[tuple[str, str]] = set()
    replay_periods: list[str] = []

    for period in report.periods:
        in_period = [e for e in entries if e["period"] == period]
        rewrite = period not in pending  # nothing new: a replay of the whole period
        units = sorted({e["reporting_unit"] for e in in_period})
        for unit in units:
            candidates = [
                e for e in in_period if e["reporting_unit"] == unit and e["status"] in (PENDING, LOADED)
            ]
            if not rewrite and not any(e["status"] == PENDING for e in candidates):
                continue  # unchanged unit in an incremental load
            winner = _first_readable(tables, source, candidates[::-1], now, updates, report)
            for entry in candidates:
                if winner is None or entry["batch_id"] in (winner["batch_id"], *report.failed):
                    continue
                updates.append(
                    entry
                    | {
                        "status": SUPERSEDED,
                        "superseded_by": winner["batch_id"],
                        "processed_at": entry["processed_at"] or now,
                        "message": "replaced by a later delivery",
                    }
                )
                report.superseded.append(entry["batch_id"])
            if winner is None:
                continue
            parsed, entry = winner["_parsed"], winner
            ingested_at = entry["processed_at"] or now
            batches.add(entry, parsed, ingested_at)
            updates.append(_loaded(entry, parsed, ingested_at))
            report.loaded.append(entry["batch_id"])
            report.unmapped_fields |= parsed.unmapped_fields
            report.rows_read += parsed.rows_read
            report.rows_bronze += len(parsed.records)
            report.rows_quarantined += len(parsed.rejects)
            report.rows_skipped += parsed.skipped
            if not rewrite:
                incremental_pairs.add((unit, period))
        if rewrite:
            replay_periods.append(period)
    report.replayed = replay_periods

    scope = " OR ".join(
        p
        for p in (
            unit_period_predicate(incremental_pairs) if incremental_pairs else "",
            in_predicate("period", replay_periods) if replay_periods else "",
        )
        if p
    )
    try:
        if scope:
            tables.replace_where(source.bronze_contract, batches.staging.frame(source.bronze_contract), scope)
            tables.replace_where(
                source.quarantine_contract, batches.staging.frame(source.quarantine_contract), scope
            )
    finally:
        batches.staging.cleanup()
    ledger.update(updates)
    log.info("%s: %s", source_name, report.as_metadata())
    return report


def _first_readable(
    tables: LakeTables,
    source: Source,
    candidates: list[dict[str, Any]],
    now,
    updates: list[dict[str, Any]],
    report: LoadReport,
) -> dict[str, Any] | None:
    """The newest candidate delivery that parses (newest first); unreadable ones are rejected."""
    for entry in candidates:
        try:
            parsed = source.parse(tables.lake.read_bytes(entry["landing_path"]), entry["landing_path"])
        except SourceFileError as exc:
            rejected = reject_file(tables, entry, str(exc))
            updates.append(
                entry | {"status": FAILED, "processed_at": now, "message": str(exc), "landing_path": rejected}
            )
            report.failed[entry["batch_id"]] = str(exc)
            log.error("batch %s rejected: %s", entry["batch_id"], exc)
            continue
        return entry | {"_parsed": parsed}
    return None


def reject_file(tables: LakeTables, entry: dict[str, Any], reason: str) -> str:
    """Move an unreadable landed file to landing/_rejected/<source>/<period>/ with a reason file."""
    lake = tables.lake
    name = posixpath.basename(entry["landing_path"])
    target = lake.uri("landing", "_rejected", entry["source"], entry["period"], name)
    lake.write_bytes(target, lake.read_bytes(entry["landing_path"]))
    lake.write_bytes(f"{target}.reason.txt", f"{reason}\n".encode())
    lake.delete(entry["landing_path"])
    return target


def _loaded(entry: dict[str, Any], parsed: ParsedFile, ingested_at) -> dict[str, Any]:
    drift = sorted(parsed.unmapped_fields)
    return {k: v for k, v in entry.items() if k != "_parsed"} | {
        "status": LOADED,
        "processed_at": ingested_at,
        "superseded_by": None,
        "rows_read": parsed.rows_read,
        "rows_bronze": len(parsed.records),
        "rows_quarantined": len(parsed.rejects),
        "rows_skipped": parsed.skipped,
        "message": f"schema drift: fields not in the contract kept in _unmapped: {', '.join(drift)}"
        if drift
        else None,
    }
