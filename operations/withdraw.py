"""Withdraw a bad delivery batch (质量提升: `ibrain batch withdraw <batch_id> --reason …`).

The batch's rows are removed with Delta DELETE (so every older table version still has them) from
its source's bronze table and bronze quarantine, and from the silver table and silver quarantine
of every entity built from that source; then its ledger row becomes ``withdrawn`` with who, when
and why. The ledger keeps it out from then on (ingest/ledger.py): bronze loads and replays only
pending/loaded deliveries, and the same content delivered again is not landed; a corrected
delivery for the same unit and period loads as usual.

Silver de-duplication keeps one row per key and quarantines the others as ``duplicate``; when the
kept row belonged to the withdrawn batch, its period of that entity is rebuilt from bronze here,
so a duplicate from another batch takes its place. What depends on silver (enterprise master,
gold, themes, topics, indicators, quality tables) follows in the pipeline run the CLI starts next.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import functions as F

from catalog import Contract
from catalog.tables import LakeTables
from ibrain.delta import sql_literal
from ibrain.retry import with_commit_retry
from ingest.ledger import WITHDRAWN, IngestLedger, utc_now
from ingest.sources import get_source
from transforms.silver import facts, registry
from transforms.silver.framework import Entity, build

log = logging.getLogger(__name__)


class WithdrawError(ValueError):
    """The batch cannot be withdrawn (unknown id, already withdrawn, no reason)."""


@dataclass
class WithdrawResult:
    batch_id: str
    source: str
    reporting_unit: str | None
    period: str
    status_before: str
    withdrawn_by: str
    withdrawn_at: dt.datetime
    reason: str
    removed: dict[str, int] = field(default_factory=dict)  # layer.table → rows deleted
    rebuilt: dict[str, list[str]] = field(default_factory=dict)  # silver table → periods rebuilt

    @property
    def rows_removed(self) -> int:
        return sum(self.removed.values())


def entities_of(source_name: str) -> list[Entity]:
    """The silver entities built from a source's bronze table (ent_orders feeds two)."""
    bronze = get_source(source_name).bronze_contract.name
    return [e for e in (registry(), *facts()) if e.bronze.name == bronze]


def find_batch(ledger: IngestLedger, batch_id: str) -> dict[str, Any]:
    rows = [e for e in ledger.entries() if e["batch_id"] == batch_id]
    if not rows:
        raise WithdrawError(
            f"no batch {batch_id!r} in audit.ingest_ledger (batch ids look like b0123456789abcdef; "
            "see the _batch_id column of bronze, silver and quarantine rows)"
        )
    if len(rows) > 1:
        raise WithdrawError(f"batch {batch_id!r} has {len(rows)} rows in audit.ingest_ledger; expected one")
    return rows[0]


def withdraw(
    tables: LakeTables, batch_id: str, reason: str, by: str, now: dt.datetime | None = None
) -> WithdrawResult:
    """Delete the batch's rows from bronze and silver (and their quarantine), rebuild silver
    periods whose kept duplicate was among them, and mark the batch withdrawn in the ledger.

    The rows are deleted first and the ledger written last, so a failure part-way leaves the batch
    ``loaded`` and the withdrawal can simply be run again."""
    reason, by = reason.strip(), by.strip()
    if not reason:
        raise WithdrawError("a reason is required (--reason)")
    if not by:
        raise WithdrawError("who withdraws the batch is required (--by)")
    ledger = IngestLedger(tables)
    entry = find_batch(ledger, batch_id)
    if entry["status"] == WITHDRAWN:
        raise WithdrawError(
            f"batch {batch_id} was already withdrawn on {entry.get('withdrawn_at')} by "
            f"{entry.get('withdrawn_by')}: {entry.get('withdrawn_reason')}"
        )
    source = get_source(entry["source"])
    result = WithdrawResult(
        batch_id=batch_id,
        source=source.name,
        reporting_unit=entry["reporting_unit"],
        period=entry["period"],
        status_before=entry["status"],
        withdrawn_by=by,
        withdrawn_at=now or utc_now(),
        reason=reason,
    )
    bronze_scope = f"period = {sql_literal(entry['period'])}"
    for contract in (source.bronze_contract, source.quarantine_contract):
        result.removed[contract.name] = _delete(tables, contract, batch_id, bronze_scope)
    for entity in entities_of(source.name):
        silver_period = _silver_period(entry["period"], entity.grain)
        result.removed[entity.silver.name] = _delete(
            tables, entity.silver, batch_id, f"period = {sql_literal(silver_period)}"
        )
        result.removed[entity.quarantine.name] = _delete(tables, entity.quarantine, batch_id, bronze_scope)
        if result.removed[entity.silver.name] and _orphaned_duplicates(tables, entity, entry):
            build(tables, entity, [entry["period"]])
            result.rebuilt[entity.silver.name] = [entry["period"]]
    ledger.update(
        [
            entry
            | {
                "status": WITHDRAWN,
                "withdrawn_by": by,
                "withdrawn_at": result.withdrawn_at,
                "withdrawn_reason": reason,
            }
        ]
    )
    log.info("batch %s withdrawn by %s: %s; removed %s", batch_id, by, reason, result.removed)
    return result


def _silver_period(period: str, grain: str) -> dt.date:
    return dt.date.fromisoformat(f"{period}-01" if grain == "month" else period)


def _delete(tables: LakeTables, contract: Contract, batch_id: str, scope: str) -> int:
    """DELETE the batch's rows from one table (a new Delta version; older ones keep the rows).
    Returns how many rows it held (Sail's DELETE does not return the count)."""
    if not tables.exists(contract):
        return 0
    predicate = f"{scope} AND _batch_id = {sql_literal(batch_id)}"
    rows = tables.read(contract.layer, contract.table).filter(predicate).count()
    if rows:
        statement = f"DELETE FROM {contract.layer}.{contract.table} WHERE {predicate}"
        with_commit_retry(lambda: tables.spark.sql(statement).collect(), what=f"delete from {contract.name}")
        left = tables.read(contract.layer, contract.table).filter(predicate).count()
        if left:
            raise RuntimeError(f"{contract.name}: {left} rows of batch {batch_id} still there after DELETE")
    return rows


def _orphaned_duplicates(tables: LakeTables, entity: Entity, entry: dict[str, Any]) -> bool:
    """Whether rows of other batches in the period were quarantined as duplicates of a row the
    withdrawn batch held (their reason names the kept row's file: the batch's landing path)."""
    quarantine = tables.read(entity.quarantine.layer, entity.quarantine.table)
    kept_here = F.col("reason").contains(f"kept {entry['landing_path']} line ")
    found = quarantine.filter(
        (F.col("period") == entry["period"]) & (F.col("rule_id") == "duplicate") & kept_here
    )
    return found.limit(1).count() > 0
