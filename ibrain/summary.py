"""What is in the lake: every Delta table with its layer, rows and version, and export files."""

from __future__ import annotations

from dataclasses import dataclass

from ibrain import delta
from ibrain.lake import Lake
from ibrain.spark import spark_session


@dataclass(frozen=True)
class TableSummary:
    layer: str
    table: str
    rows: int
    version: int


def table_summaries(lake: Lake) -> list[TableSummary]:
    spark = spark_session(lake.settings)
    out = []
    for ref in lake.delta_tables():
        rows = delta.read(spark, ref).count()
        out.append(TableSummary(ref.layer, ref.table, rows, delta.version(lake, ref)))
    return out


def export_files(lake: Lake) -> list[str]:
    return lake.list_files(lake.uri("exchange"))


def format_tables(rows: list[TableSummary]) -> str:
    width = max([len(f"{r.layer}.{r.table}") for r in rows] + [5])
    lines = [f"{'table':<{width}}  {'layer':<10} {'rows':>9}  version"]
    for r in rows:
        lines.append(f"{r.layer + '.' + r.table:<{width}}  {r.layer:<10} {r.rows:>9,}  {r.version:>7}")
    return "\n".join(lines)
