"""Delta Lake write/read helpers used by every asset.

They exist because some plain writes are unsafe on this engine (docs/architecture.md: the engine):
- dynamic partition overwrite replaces the *whole* table, so partitions are replaced with
  ``replaceWhere`` only;
- Sail's ``replaceWhere`` does not reject rows outside the predicate (Delta on Apache Spark does),
  so :func:`replace_where` checks that itself before writing;
- positional inserts into partitioned tables silently shuffle columns, so nothing here inserts by
  position: DataFrame writes and ``MERGE … INSERT *`` go by name.
Concurrent writers can collide on a commit; every write here goes through
:func:`ibrain.retry.with_commit_retry`, which retries the recorded conflicts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from ibrain.lake import Lake, TableRef
from ibrain.retry import with_commit_retry
from ibrain.spark import register_table


class DeltaWriteError(RuntimeError):
    pass


def table_exists(lake: Lake, ref: TableRef) -> bool:
    return lake.is_delta_table(ref.uri)


def read(spark: SparkSession, ref: TableRef) -> DataFrame:
    return spark.read.format("delta").load(ref.uri)


def _save(
    spark: SparkSession,
    df: DataFrame,
    ref: TableRef,
    partition_by: Sequence[str] | None,
    mode: str,
    **options: str,
) -> None:
    """One DataFrame write (by column name), retried on commit conflicts, then registered."""

    def write() -> None:
        writer = df.write.format("delta").mode(mode).options(**options)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(ref.uri)

    with_commit_retry(write, what=f"{mode} {ref.name}")
    register_table(spark, ref)


def append(
    spark: SparkSession, df: DataFrame, ref: TableRef, partition_by: Sequence[str] | None = None
) -> None:
    """Append rows (creating the table on first write). Concurrent appends lose nothing."""
    _save(spark, df, ref, partition_by, "append")


def overwrite(
    spark: SparkSession, df: DataFrame, ref: TableRef, partition_by: Sequence[str] | None = None
) -> None:
    """Replace the whole table's content in one commit (older versions stay in history)."""
    _save(spark, df, ref, partition_by, "overwrite")


def replace_where(
    spark: SparkSession,
    lake: Lake,
    df: DataFrame,
    ref: TableRef,
    predicate: str,
    partition_by: Sequence[str] | None = None,
) -> None:
    """Atomically replace the rows matching ``predicate`` with ``df``.

    Every row of ``df`` must match the predicate (checked here, because Sail does not);
    an empty ``df`` deletes the matching rows.
    """
    outside = df.filter(f"NOT coalesce(({predicate}), false)").limit(1).count()
    if outside:
        raise DeltaWriteError(
            f"replace_where on {ref.name}: some rows do not match the predicate {predicate!r}"
        )
    if not table_exists(lake, ref):
        append(spark, df, ref, partition_by)
        return
    _save(spark, df, ref, partition_by, "overwrite", replaceWhere=predicate)


def sql_literal(value: Any) -> str:
    """A SQL literal for a key or period value (text, number or date)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def in_predicate(column: str, values: Iterable[Any]) -> str:
    items = sorted({sql_literal(v) for v in values})
    if not items:
        return "FALSE"
    return f"{column} IN ({', '.join(items)})"


def merge(
    spark: SparkSession,
    lake: Lake,
    df: DataFrame,
    ref: TableRef,
    keys: Sequence[str],
    *,
    replace_column: str | None = None,
    replace_values: Iterable[Any] | None = None,
    replace_all: bool = False,
    insert_only: bool = False,
    partition_by: Sequence[str] | None = None,
) -> None:
    """MERGE ``df`` into the table on ``keys``: update matches, insert new rows.

    With ``replace_column`` and ``replace_values`` (e.g. ``period`` and ``[date(2024, 3, 1)]``),
    target rows in those periods that the source no longer has are deleted — the verified way to
    replace a period atomically in one commit (docs/architecture.md: the engine). Sail allows no subquery in a
    MERGE condition, so the periods are spelled out as literals. ``replace_all`` deletes every
    target row the source lacks (the source is the whole table); ``insert_only`` never touches
    existing rows (decisions recorded in them are kept).
    """
    if not keys:
        raise ValueError("merge needs at least one key column")
    if (replace_column is None) != (replace_values is None):
        raise ValueError("replace_column and replace_values go together")
    if insert_only and (replace_all or replace_column is not None):
        raise ValueError("insert_only cannot delete rows")
    if not table_exists(lake, ref):
        append(spark, df, ref, partition_by)
        return
    register_table(spark, ref)
    view = f"_merge_src_{uuid.uuid4().hex[:12]}"
    df.createOrReplaceTempView(view)
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    delete_clause = ""
    if replace_column is not None:
        scope = in_predicate(f"t.`{replace_column}`", replace_values or [])
        delete_clause = f" WHEN NOT MATCHED BY SOURCE AND {scope} THEN DELETE"
    elif replace_all:
        delete_clause = " WHEN NOT MATCHED BY SOURCE THEN DELETE"
    # Update only rows whose values changed: a MERGE that changes nothing commits nothing, so
    # re-runs add no Delta versions.
    unchanged = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in df.columns if c not in keys)
    matched = f"WHEN MATCHED AND NOT ({unchanged}) THEN UPDATE SET *" if unchanged and not insert_only else ""
    statement = (
        f"MERGE INTO {ref.layer}.{ref.table} t USING {view} s ON {on} "
        f"{matched} WHEN NOT MATCHED THEN INSERT *" + delete_clause
    )
    try:
        with_commit_retry(lambda: spark.sql(statement).collect(), what=f"merge {ref.name}")
    finally:
        spark.catalog.dropTempView(view)


# -- delta-rs: history and upkeep --------------------------------------------------------------


def _delta_table(lake: Lake, ref: TableRef):
    from deltalake import DeltaTable

    return DeltaTable(ref.uri, storage_options=lake.storage_options())


def history(lake: Lake, ref: TableRef, limit: int | None = None) -> list[dict[str, Any]]:
    """Commit history, newest first (Sail has no ``DESCRIBE HISTORY``)."""
    return _delta_table(lake, ref).history(limit)


def version(lake: Lake, ref: TableRef) -> int:
    return _delta_table(lake, ref).version()


MIN_VACUUM_RETENTION_HOURS = 7 * 24


def maintain(lake: Lake, ref: TableRef, retention_hours: int = MIN_VACUUM_RETENTION_HOURS) -> dict[str, Any]:
    """Compact small files, write a checkpoint and vacuum files older than the retention.

    Retention below 7 days is refused: readers doing time travel, and writers still
    committing, may need the older files.
    """
    if retention_hours < MIN_VACUUM_RETENTION_HOURS:
        raise ValueError(f"vacuum retention must be >= {MIN_VACUUM_RETENTION_HOURS} hours")

    def run() -> dict[str, Any]:
        table = _delta_table(lake, ref)
        compacted = table.optimize.compact()
        table.create_checkpoint()
        removed = table.vacuum(
            retention_hours=retention_hours, dry_run=False, enforce_retention_duration=True
        )
        table.cleanup_metadata()
        return {
            "files_added": compacted.get("numFilesAdded", 0),
            "files_removed": compacted.get("numFilesRemoved", 0),
            "vacuumed": len(removed),
            "version": table.version(),
        }

    return with_commit_retry(run, what=f"maintain {ref.name}")
