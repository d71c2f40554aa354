"""Landing → bronze, driven by the ingest ledger, one Delta commit per table per call.

For each period (the bronze table's partition):
- deliveries that are pending are parsed; per reporting unit the latest one wins and replaces
  that unit-period in bronze (``replaceWhere``), older ones become ``superseded``;
- on a backfill (``replay``), a period with nothing pending is *replayed*: every current
  delivery is parsed again from landing and the whole period rewritten. ``_ingested_at`` is the
  batch's first processing time, so a replay gives exactly the rows of the original run.

One file, one fate (issue 12): any failure while reading or parsing one file — whatever the
exception — rejects that file alone: it is moved to ``landing/_rejected/<source>/<period>/`` with a
``.reason.txt``, its batch marked ``failed`` with the reason (the unit keeps its previous delivery,
if any), and the other files load. A pending delivery whose period is outside the partitions is
rejected the same way. The landed file is removed only after the ledger commit that records its
new place (a crash in between is repaired by ingest.ledger.sweep_landing).

Corrections must be credible (thresholds in the contract's ``ingest`` block): a new delivery for a
unit-period already loaded of which fewer than ``min_correction_share`` of the data rows are
accepted (none at all, say) is rejected and the loaded rows stay; one that would shrink the
unit-period by more than ``max_correction_shrink`` of its loaded rows stays ``pending`` with the
reason in the ledger's ``message`` (see :func:`held_corrections`) until loaded with
``accept_shrink`` (``ibrain ingest --accept-shrink``).
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
from ibrain.lake import Lake
from ingest.ledger import (
    FAILED,
    LOADED,
    PENDING,
    SUPERSEDED,
    IngestLedger,
    PeriodRange,
    display_name,
    read_ledger_columns,
    rejected_uri,
    sweep_landing,
    utc_now,
    write_rejection,
)
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
    held: dict[str, str] = field(default_factory=dict)  # batch id -> why the correction waits
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
            "batches_held": len(self.held),
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


_Columns = tuple[dict[str, list[Any]], dict[str, list[Any]]]


class _Batches:
    """Bronze and quarantine rows of one call, staged file by file (see catalog/staging.py)."""

    def __init__(self, tables: LakeTables, source: Source) -> None:
        self.source = source
        self.staging = Staging(tables)

    def columns(self, entry: dict[str, Any], parsed: ParsedFile, ingested_at) -> _Columns:
        """One file's bronze and quarantine rows as columns (built before anything is written, so
        a file whose values cannot be stored fails alone)."""
        data_columns = self.source.data_columns
        bronze: dict[str, list[Any]] = {c: [] for c in self.source.bronze_contract.column_names}
        for record in parsed.records:
            values = [record.values.get(c) for c in data_columns]
            for c, v in zip(data_columns, values, strict=True):
                bronze[c].append(v)
            bronze["_unmapped"].append(to_json(record.unmapped) if record.unmapped else None)
            self._common(bronze, entry, record.row_number, record_hash(values), ingested_at)
        quarantine: dict[str, list[Any]] = {c: [] for c in self.source.quarantine_contract.column_names}
        for reject in parsed.rejects:
            raw = reject.raw
            flat = raw if isinstance(raw, list) else list(raw.values()) if isinstance(raw, dict) else [raw]
            quarantine["rule_id"].append(reject.rule_id)
            quarantine["reason"].append(reject.reason)
            quarantine["raw"].append(to_json(raw))
            quarantine["quarantined_at"].append(ingested_at)
            self._common(
                quarantine, entry, reject.row_number, record_hash([str(v) for v in flat]), ingested_at
            )
        return bronze, quarantine

    def add(self, columns: _Columns) -> None:
        bronze, quarantine = columns
        self.staging.add(self.source.bronze_contract, bronze)
        self.staging.add(self.source.quarantine_contract, quarantine)

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
    tables: LakeTables,
    source_name: str,
    periods: list[str] | None = None,
    replay: bool = False,
    partitions: PeriodRange | None = None,
    accept_shrink: bool = False,
) -> LoadReport:
    """Bring bronze in line with the ledger for the pending deliveries among ``periods``
    (default: every period). With ``replay`` (a backfill), periods that have nothing pending are
    rewritten from landing as well. Pending deliveries outside ``partitions`` are rejected;
    ``accept_shrink`` loads corrections that shrink their unit-period beyond the contract's limit."""
    source = get_source(source_name)
    sweep_landing(tables.lake, source_name)
    ledger = IngestLedger(tables)
    entries = ledger.entries(source=source_name)
    now = utc_now()
    updates: list[dict[str, Any]] = []
    rejections = _Rejections(tables.lake, now)
    failed: dict[str, str] = {}
    if partitions is not None:
        for entry in entries:
            if entry["status"] == PENDING and entry["period"] not in partitions:
                reason = partitions.outside_reason(entry["file_name"], entry["period"])
                updates.append(rejections.reject(entry, reason))
                failed[entry["batch_id"]] = reason
        entries = [e for e in entries if e["batch_id"] not in failed]
    pending = {e["period"] for e in entries if e["status"] == PENDING}
    wanted = set(periods) if periods is not None else pending
    report = LoadReport(source_name, periods=sorted(wanted if replay else wanted & pending), failed=failed)
    batches = _Batches(tables, source)
    incremental_pairs: set[tuple[str, str]] = set()
    replay_periods: list[str] = []
    choose = _Chooser(tables, source, batches, now, updates, report, rejections, accept_shrink)

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
            in_bronze = next((e for e in reversed(candidates) if e["status"] == LOADED), None)
            winner = choose(candidates[::-1], in_bronze)
            for entry in candidates:
                if winner is None or entry["batch_id"] in (winner["batch_id"], *report.failed, *report.held):
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
            if winner is None or (
                not rewrite and in_bronze is not None and winner["batch_id"] == in_bronze["batch_id"]
            ):
                continue  # nothing readable, or the rows in bronze stay as they are
            parsed, entry, columns = winner["_parsed"], winner, winner["_columns"]
            ingested_at = entry["processed_at"] or now
            batches.add(columns)
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
    rejections.finish()  # only now: the ledger says where the rejected files went
    log.info("%s: %s", source_name, report.as_metadata())
    return report


class _Rejections:
    """Rejected landed files: copied to ``_rejected`` with a reason file at once, the landed
    originals deleted by :meth:`finish`, after the ledger commit that records the move."""

    def __init__(self, lake: Lake, now) -> None:
        self.lake, self.now = lake, now
        self.originals: list[str] = []

    def reject(self, entry: dict[str, Any], reason: str) -> dict[str, Any]:
        """Move ``entry``'s file aside (see the class docstring); its ledger row, ``failed``."""
        path = entry["landing_path"]
        target = rejected_uri(self.lake, entry["source"], entry["period"], posixpath.basename(path))
        if path != target:
            try:
                data = self.lake.read_bytes(path)
            except OSError:  # gone: rejected before a crash (the copy exists) or removed by hand
                data = None
            if data is not None or self.lake.exists(target):
                write_rejection(self.lake, target, data, reason)
                if data is not None:
                    self.originals.append(path)
            else:
                target = path  # nothing left to move; the reason says so
        log.error("batch %s rejected: %s", entry["batch_id"], reason)
        return entry | {"status": FAILED, "processed_at": self.now, "message": reason, "landing_path": target}

    def finish(self) -> None:
        for path in self.originals:
            self.lake.delete(path)


class _Chooser:
    """Which of a unit-period's deliveries goes to bronze: the newest one that can be read and,
    when it corrects the delivery in bronze, is credible (see the module docstring)."""

    def __init__(
        self,
        tables: LakeTables,
        source: Source,
        batches: _Batches,
        now,
        updates: list[dict[str, Any]],
        report: LoadReport,
        rejections: _Rejections,
        accept_shrink: bool,
    ) -> None:
        self.tables, self.source, self.batches, self.now = tables, source, batches, now
        self.updates, self.report, self.rejections = updates, report, rejections
        self.accept_shrink = accept_shrink

    def __call__(
        self, candidates: list[dict[str, Any]], in_bronze: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        for entry in candidates:  # newest first
            try:
                parsed = self.source.parse(
                    self.tables.lake.read_bytes(entry["landing_path"]), entry["landing_path"]
                )
                columns = self.batches.columns(entry, parsed, entry["processed_at"] or self.now)
            except Exception as exc:  # one file, one fate: any failure rejects this file alone
                self._reject(entry, _file_reason(entry, exc))
                continue
            if in_bronze is not None and entry["batch_id"] != in_bronze["batch_id"]:
                rejected, held = _correction_verdict(self.source, entry, parsed, in_bronze)
                if rejected:
                    self._reject(entry, rejected)
                    continue
                if held and not self.accept_shrink:
                    self._hold(entry, held)
                    continue
            return entry | {"_parsed": parsed, "_columns": columns}
        return None

    def _reject(self, entry: dict[str, Any], reason: str) -> None:
        self.updates.append(self.rejections.reject(entry, reason))
        self.report.failed[entry["batch_id"]] = reason

    def _hold(self, entry: dict[str, Any], reason: str) -> None:
        self.report.held[entry["batch_id"]] = reason
        if entry["message"] != reason:  # written once, not on every run
            self.updates.append(entry | {"message": reason})
        log.warning("batch %s held: %s", entry["batch_id"], reason)


def _file_reason(entry: dict[str, Any], exc: Exception) -> str:
    """The reason a file is rejected, naming it: parser errors already do (they start with the
    landed path), anything else gets the file name and the exception's type."""
    if isinstance(exc, SourceFileError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{display_name(entry['file_name'])}: the landed file is missing ({entry['landing_path']})"
    return f"{display_name(entry['file_name'])} ({entry['landing_path']}): {type(exc).__name__}: {exc}"


HELD_PREFIX = "held: "


def _correction_verdict(
    source: Source, entry: dict[str, Any], parsed: ParsedFile, in_bronze: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(why the correction is rejected, why it waits for --accept-shrink); (None, None) if fine."""
    spec = source.spec
    accepted, data_rows = len(parsed.records), len(parsed.records) + len(parsed.rejects)
    what = (
        f"{display_name(entry['file_name'])}: correction of {entry['reporting_unit']} {entry['period']} "
        f"(batch {entry['batch_id']})"
    )
    if data_rows and accepted / data_rows < spec.min_correction_share:
        return (
            f"{what} not credible: {accepted} of its {data_rows} rows accepted, below the contract's "
            f"{spec.min_correction_share:.0%}; batch {in_bronze['batch_id']} stays loaded",
            None,
        )
    before = in_bronze["rows_bronze"] or 0
    if before and (before - accepted) / before > spec.max_correction_shrink:
        return None, (
            f"{HELD_PREFIX}{what} would shrink it from {before} to {accepted} rows, more than the "
            f"contract's {spec.max_correction_shrink:.0%}; batch {in_bronze['batch_id']} stays loaded until "
            f"`ibrain ingest {source.name} --accept-shrink`"
        )
    return None, None


def held_corrections(lake: Lake) -> dict[str, str]:
    """Batch id → reason, for the corrections waiting for --accept-shrink (no Spark: for the CLI)."""
    rows = read_ledger_columns(lake, ["batch_id", "status", "message"])
    return {
        r["batch_id"]: r["message"]
        for r in rows
        if r["status"] == PENDING and (r["message"] or "").startswith(HELD_PREFIX)
    }


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
