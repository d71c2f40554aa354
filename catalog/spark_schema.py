"""Spark schemas derived from contracts, and conforming a DataFrame to its contract."""

from __future__ import annotations

import re

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from catalog.contracts import Contract

_SIMPLE = {
    "string": T.StringType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "boolean": T.BooleanType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


def spark_type(type_name: str) -> T.DataType:
    if type_name in _SIMPLE:
        return _SIMPLE[type_name]
    match = _DECIMAL.match(type_name)
    if match:
        return T.DecimalType(int(match.group(1)), int(match.group(2)))
    raise ValueError(f"unsupported contract type {type_name!r}")


def contract_type_of(data_type: T.DataType) -> str:
    """The contract spelling of a Spark type (inverse of :func:`spark_type`)."""
    if isinstance(data_type, T.DecimalType):
        return f"decimal({data_type.precision},{data_type.scale})"
    for name, candidate in _SIMPLE.items():
        if data_type == candidate:
            return name
    return data_type.simpleString()


def struct_type(contract: Contract) -> T.StructType:
    # Delta cannot enforce NOT NULL through every engine path, so nullability is checked by
    # quality rules, and the physical schema stays nullable.
    return T.StructType([T.StructField(c.name, spark_type(c.type), True) for c in contract.columns])


class SchemaMismatch(ValueError):
    pass


def conform(df: DataFrame, contract: Contract) -> DataFrame:
    """Select exactly the contract's columns, in its order, cast to its types.

    A missing column or an extra one is an error naming the table, so code and contract cannot
    drift apart silently.
    """
    have = set(df.columns)
    want = contract.column_names
    missing = [c for c in want if c not in have]
    extra = sorted(have - set(want))
    if missing or extra:
        raise SchemaMismatch(
            f"{contract.name}: DataFrame does not match its contract "
            f"(missing {missing}, not in contract {extra})"
        )
    return df.select([F.col(c.name).cast(spark_type(c.type)).alias(c.name) for c in contract.columns])
