"""What is in the lake: every Delta table with its layer, rows and version, and the delivery packages."""

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


def package_files(lake: Lake) -> list[str]:
    """The delivery packages' files: ``exchange/<recipient>/…`` (the exchange layer's other folders
    are the export models' Delta tables)."""
    files: list[str] = []
    for name in lake.list_dirs(lake.uri("exchange")):
        uri = lake.uri("exchange", name)
        if not name.startswith(("_", ".")) and not lake.is_delta_table(uri):
            files += lake.list_files(uri)
    return sorted(files)


def format_tables(rows: list[TableSummary]) -> str:
    width = max([len(f"{r.layer}.{r.table}") for r in rows] + [5])
    lines = [f"{'table':<{width}}  {'layer':<10} {'rows':>9}  version"]
    for r in rows:
        lines.append(f"{r.layer + '.' + r.table:<{width}}  {r.layer:<10} {r.rows:>9,}  {r.version:>7}")
    return "\n".join(lines)
