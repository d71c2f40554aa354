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

# Columns whose values are the time or identity of a run, not data: the same inputs give other
# values in another run. Matched by exact name in every table.
VOLATILE_COLUMNS: frozenset[str] = frozenset(
    {
        "_ingested_at",  # when bronze was written
        "quarantined_at",  # when a row was quarantined
        "arrived_at",  # when a file was landed (ingest ledger)
        "processed_at",  # when a batch was loaded (ingest ledger)
        "pulled_at",  # registry API pull log
        "updated_since",  # registry API pull log: derived from the previous pull's time
        "run_id",  # Dagster run of a quality evaluation
        "evaluated_at",  # quality evaluation time
        "first_seen_at",  # quality issue opened
        "last_seen_at",
        "closed_at",
        "first_seen_run_id",
        "last_seen_run_id",
        "computed_at",
        "reviewed_at",
        "decided_at",
    }
)

# Tables whose rows are a log of runs rather than data (one row per pull or evaluation): only
# their presence is compared, not their rows (a demo run twice has twice the rows).
RUN_LOG_TABLES: frozenset[str] = frozenset({"audit.api_pull_log", "quality.dq_result"})

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


def _text(df: DataFrame, field: T.StructField):
    col = F.col(f"`{field.name}`")
    if isinstance(field.dataType, T.DoubleType | T.FloatType):
        col = F.round(col.cast("double"), _DOUBLE_DIGITS)
    elif isinstance(field.dataType, T.StructType | T.ArrayType | T.MapType):
        col = F.to_json(col)
    return F.coalesce(col.cast("string"), F.lit(_NULL))


def table_fingerprint(df: DataFrame, name: str) -> TableFingerprint:
    """Row count and multiset hash of ``df`` without the volatile columns."""
    fields = sorted((f for f in df.schema.fields if f.name not in VOLATILE_COLUMNS), key=lambda f: f.name)
    if name in RUN_LOG_TABLES:
        return TableFingerprint(name, -1, "run-log", tuple(f.name for f in fields))
    row_hash = F.sha2(F.concat_ws(_SEP, *[_text(df, f) for f in fields]), 256)
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
        out[name] = table_fingerprint(delta.read(spark, ref), name)
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
