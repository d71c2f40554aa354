"""A lake fingerprint: per Delta table, its row count and an order-independent hash of its rows.

Refactors, performance work and other engine modes must not change data; comparing the
fingerprint of a fresh lake with a committed one proves it (``ibrain lake fingerprint``,
docs/architecture.md "Proving that data did not change").

Each row is hashed (SHA-256 over its values cast to text, a marker for null, columns sorted by
name) and the table's hash is the sum of the rows' hashes as two 60-bit numbers — a multiset
hash, so row order, file layout and partitioning do not matter, while a duplicated, missing or
changed row does. Columns that legitimately differ between two runs on the same inputs (wall-clock
times, run ids) are left out; they are listed here, in one place.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ibrain import delta
from ibrain.lake import Lake

# Columns whose values are the time or identity of a run or a delivery, not data: the same inputs
# give other values in another run. Matched by exact name in every table.
VOLATILE_COLUMNS: frozenset[str] = frozenset(
    {
        "_ingested_at",  # when bronze was written
        "quarantined_at",  # when a row was quarantined
        "processed_at",  # when a batch was loaded (ingest ledger)
        "_batch_id",  # batch ids hash the delivered bytes; an API page's bytes carry its pull time
        "batch_id",
        "superseded_by",
        "failing_batches",
        "run_id",  # Dagster run of a quality evaluation
        "last_run_id",
        "evaluated_at",
        "computed_at",
        "first_seen",  # quality issue opened / last seen: run times
        "last_seen",
        "closed_at",
        # Which failing rows a quality issue shows as samples is not deterministic (the first few
        # the engine returns); the counts, periods and rule are compared.
        "sample_rows",
    }
)

# Per table: columns that are a registry API pull's date and time (the pull's period is the day it
# ran, its reporting unit the time of day), so they differ between runs on the same data.
_PULL_STAMPED = frozenset({"period", "reporting_unit", "_source_file"})
VOLATILE_BY_TABLE: dict[str, frozenset[str]] = {
    "bronze.gov_registry": _PULL_STAMPED,
    "quarantine.bronze_gov_registry": _PULL_STAMPED,
    "silver.registry_record": _PULL_STAMPED,
    "quarantine.silver_registry_record": _PULL_STAMPED | {"reason", "raw"},
}
# Per table: rows whose delivery columns are pull-stamped (SQL condition) → those columns hashed as null.
PULL_STAMPED_ROWS: dict[str, tuple[str, frozenset[str]]] = {
    "audit.ingest_ledger": (
        "source = 'gov_registry'",
        frozenset({"period", "reporting_unit", "file_name", "landing_path", "content_sha256", "arrived_at"}),
    ),
}

# Tables whose rows are a log of runs rather than data (one row per pull or evaluation): only
# their presence and columns are compared, not their rows (a demo run twice has twice the rows).
# audit.security_trail is the security audit trail's copy: who ran what, when (the demo copies it).
RUN_LOG_TABLES: frozenset[str] = frozenset(
    {"audit.api_pull_log", "audit.security_trail", "quality.dq_result"}
)

# Paths inside the lake are written relative to its root (``<lake>/landing/…``), so two lakes in
# different folders holding the same data have the same fingerprint.
LAKE_ROOT_TOKEN = "<lake>"

_SEP = "\u001f"
_NULL = "\u0000"
# Doubles are rounded before hashing: sums over partitions may differ in the last bits between
# runs that read the same rows in another order.
_DOUBLE_DIGITS = 6


@dataclass(frozen=True)
class TableFingerprint:
    table: str
    rows: int
    hash: str
    columns: tuple[str, ...]


def _text(field: T.StructField, name: str, lake_root: str | None):
    col = F.col(f"`{field.name}`")
    if isinstance(field.dataType, T.DoubleType | T.FloatType):
        col = F.round(col.cast("double"), _DOUBLE_DIGITS)
    elif isinstance(field.dataType, T.StructType | T.ArrayType | T.MapType):
        col = F.to_json(col)
    text = col.cast("string")
    if lake_root and isinstance(field.dataType, T.StringType):
        text = F.replace(text, F.lit(lake_root), F.lit(LAKE_ROOT_TOKEN))
    stamped = PULL_STAMPED_ROWS.get(name)
    if stamped and field.name in stamped[1]:
        text = F.when(F.expr(stamped[0]), F.lit(None)).otherwise(text)
    return F.coalesce(text, F.lit(_NULL))


def table_fingerprint(df: DataFrame, name: str, lake_root: str | None = None) -> TableFingerprint:
    """Row count and multiset hash of ``df`` without the volatile columns; ``lake_root`` inside
    text values is replaced by a token."""
    volatile = VOLATILE_COLUMNS | VOLATILE_BY_TABLE.get(name, frozenset())
    fields = sorted((f for f in df.schema.fields if f.name not in volatile), key=lambda f: f.name)
    if name in RUN_LOG_TABLES:
        return TableFingerprint(name, -1, "run-log", tuple(f.name for f in fields))
    row_hash = F.sha2(F.concat_ws(_SEP, *[_text(f, name, lake_root) for f in fields]), 256)
    hashed = df.select(row_hash.alias("h"))
    part = [F.conv(F.substring("h", start, 15), 16, 10).cast(T.DecimalType(38, 0)) for start in (1, 16)]
    agg = hashed.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(part[0]).alias("a"),
        F.sum(part[1]).alias("b"),
    ).collect()[0]
    rows = int(agg["n"])
    digest = f"{int(agg['a'] or 0):x}-{int(agg['b'] or 0):x}" if rows else "empty"
    return TableFingerprint(name, rows, digest, tuple(f.name for f in fields))


def lake_fingerprint(spark: SparkSession, lake: Lake) -> dict[str, TableFingerprint]:
    out: dict[str, TableFingerprint] = {}
    for ref in lake.delta_tables():
        name = f"{ref.layer}.{ref.table}"
        out[name] = table_fingerprint(delta.read(spark, ref), name, lake.root)
    return dict(sorted(out.items()))


def to_json(prints: dict[str, TableFingerprint]) -> str:
    body = {name: {k: v for k, v in asdict(fp).items() if k != "table"} for name, fp in prints.items()}
    for entry in body.values():
        entry["columns"] = list(entry["columns"])
    return json.dumps(body, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def load(path: Path) -> dict[str, TableFingerprint]:
    body = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: TableFingerprint(name, e["rows"], e["hash"], tuple(e["columns"])) for name, e in body.items()
    }


def differences(expected: dict[str, TableFingerprint], actual: dict[str, TableFingerprint]) -> list[str]:
    """Human-readable differences; empty when the lakes hold the same data."""
    problems = []
    for name in sorted(expected.keys() | actual.keys()):
        old, new = expected.get(name), actual.get(name)
        if old is None:
            problems.append(f"{name}: new table ({new.rows} rows)")
        elif new is None:
            problems.append(f"{name}: missing (expected {old.rows} rows)")
        elif old.columns != new.columns:
            gone = sorted(set(old.columns) - set(new.columns))
            added = sorted(set(new.columns) - set(old.columns))
            problems.append(f"{name}: columns differ (missing {gone}, new {added})")
        elif old.rows != new.rows:
            problems.append(f"{name}: {new.rows} rows, expected {old.rows}")
        elif old.hash != new.hash:
            problems.append(f"{name}: same {new.rows} rows but different content")
    return problems
