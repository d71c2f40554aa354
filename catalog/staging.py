"""Stage parsed rows as Parquet in the lake, so large loads never sit in Python memory at once.

The bronze loader adds one file's rows at a time; the engine then reads the staged files as one
DataFrame for a single Delta commit. Staging lives under ``<root>/_staging/<id>/`` (not a layer,
so never registered as a table) and is removed afterwards. Being in the lake, it is readable by
the engine whether that is embedded or a remote Spark Connect cluster.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from catalog import Contract
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables

_ARROW = {"string": pa.string(), "int": pa.int32(), "bigint": pa.int64(),
          "timestamp": pa.timestamp("us", tz="UTC")}  # fmt: skip


class Staging:
    def __init__(self, tables: LakeTables) -> None:
        self.tables = tables
        self.uri = tables.lake.uri("_staging", uuid.uuid4().hex)
        self._parts: dict[str, int] = {}

    def add(self, contract: Contract, columns: dict[str, list[Any]]) -> None:
        """Write ``columns`` (column name -> values, contract order) as one Parquet part."""
        rows = len(next(iter(columns.values()), []))
        if rows == 0:
            return
        schema = pa.schema([(c.name, _ARROW[c.type]) for c in contract.columns])
        table = pa.table(
            {name: pa.array(columns[name], type=schema.field(name).type) for name in schema.names},
            schema=schema,
        )
        part = self._parts.get(contract.name, 0)
        self._parts[contract.name] = part + 1
        with self.tables.lake.open_output(f"{self.uri}/{contract.name}/part-{part:05d}.parquet") as out:
            pq.write_table(table, out, compression="zstd")

    def frame(self, contract: Contract) -> DataFrame:
        schema = struct_type(contract)
        if not self._parts.get(contract.name):
            return self.tables.spark.createDataFrame([], schema)
        return self.tables.spark.read.schema(schema).parquet(f"{self.uri}/{contract.name}")

    def cleanup(self) -> None:
        self.tables.lake.delete_dir(self.uri)


class SparkStaging:
    """Materialise intermediate DataFrames in the lake (Persist is a no-op on Sail, and a plan that
    is used several times — or joined with itself — is otherwise recomputed each time)."""

    def __init__(self, tables: LakeTables) -> None:
        self.tables = tables
        self.uri = tables.lake.uri("_staging", uuid.uuid4().hex)
        self._count = 0

    def persist(self, df: DataFrame) -> DataFrame:
        self._count += 1
        path = f"{self.uri}/step-{self._count:02d}"
        df.write.mode("overwrite").parquet(path)
        return self.tables.spark.read.parquet(path)

    def cleanup(self) -> None:
        self.tables.lake.delete_dir(self.uri)
