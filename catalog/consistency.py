"""The lake against the catalog: every Delta table has a contract, with the same columns and types.

The contracts are the one source of truth for schemas; this is how a model that grew a column, or
a table nobody declared, is caught (tests and `ibrain catalog build` run it).
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from catalog.contracts import Contract
from catalog.spark_schema import contract_type_of
from ibrain import delta
from ibrain.lake import Lake


def table_problems(contract: Contract | None, name: str, actual: dict[str, str]) -> list[str]:
    """What differs between a table's real columns (name → contract type) and its contract."""
    if contract is None:
        return [f"{name}: Delta table without a contract (catalog/contracts/{name.replace('.', '/')}.yaml)"]
    expected = {c.name: c.type for c in contract.columns}
    problems = [f"{name}.{col}: column not in the contract" for col in sorted(set(actual) - set(expected))]
    problems += [
        f"{name}.{col}: contract column missing from the table" for col in sorted(set(expected) - set(actual))
    ]
    problems += [
        f"{name}.{col}: type {actual[col]} but the contract says {expected[col]}"
        for col in sorted(set(actual) & set(expected))
        if actual[col] != expected[col]
    ]
    return problems


def lake_problems(lake: Lake, spark: SparkSession, catalog: dict[str, Contract]) -> list[str]:
    """Every mismatch between the lake's Delta tables and the catalog (empty = consistent)."""
    problems: list[str] = []
    for ref in lake.delta_tables():
        schema = delta.read(spark, ref).schema
        actual = {f.name: contract_type_of(f.dataType) for f in schema.fields}
        problems += table_problems(catalog.get(ref.name), ref.name, actual)
    return problems
