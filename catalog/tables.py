"""Contract-aware table access: every write is conformed to the table's contract first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from catalog import Contract, get_contract
from catalog.spark_schema import conform, struct_type
from ibrain import delta
from ibrain.lake import Lake, TableRef
from ibrain.spark import spark_session


class LakeTables:
    """The lake's Delta tables, seen through their contracts."""

    def __init__(self, spark: SparkSession | None = None, lake: Lake | None = None) -> None:
        self.lake = lake or Lake()
        self.spark = spark or spark_session(self.lake.settings)

    def ref(self, contract: Contract) -> TableRef:
        return self.lake.ref(contract.layer, contract.table)

    def exists(self, contract: Contract) -> bool:
        return delta.table_exists(self.lake, self.ref(contract))

    def read(self, layer: str, table: str) -> DataFrame:
        """The table, or an empty frame with the contract's schema if it was never written."""
        contract = get_contract(layer, table)
        if not self.exists(contract):
            return self.spark.createDataFrame([], struct_type(contract))
        return delta.read(self.spark, self.ref(contract))

    def ensure(self, contract: Contract) -> None:
        """Create the table, empty, if it does not exist yet (for tables people look into)."""
        if not self.exists(contract):
            self.append(contract, self.spark.createDataFrame([], struct_type(contract)))

    def append(self, contract: Contract, df: DataFrame) -> None:
        delta.append(self.spark, conform(df, contract), self.ref(contract), contract.partition_by)

    def replace_where(self, contract: Contract, df: DataFrame, predicate: str) -> None:
        delta.replace_where(
            self.spark, self.lake, conform(df, contract), self.ref(contract), predicate, contract.partition_by
        )

    def merge(
        self,
        contract: Contract,
        df: DataFrame,
        *,
        keys: Iterable[str] | None = None,
        replace_column: str | None = None,
        replace_values: Iterable[Any] | None = None,
        replace_all: bool = False,
        insert_only: bool = False,
    ) -> None:
        delta.merge(
            self.spark,
            self.lake,
            conform(df, contract),
            self.ref(contract),
            list(keys or contract.primary_key),
            replace_column=replace_column,
            replace_values=None if replace_values is None else list(replace_values),
            replace_all=replace_all,
            insert_only=insert_only,
            partition_by=contract.partition_by,
        )

    def overwrite_if_changed(self, contract: Contract, df: DataFrame) -> bool:
        """Replace the whole table only when its content differs (so a re-run adds no version)."""
        new = conform(df, contract)
        if self.exists(contract):
            old = delta.read(self.spark, self.ref(contract)).select(contract.column_names)
            if old.exceptAll(new).limit(1).count() == 0 and new.exceptAll(old).limit(1).count() == 0:
                return False
        delta.overwrite(self.spark, new, self.ref(contract), contract.partition_by)
        return True
