"""Grading over lineage (GB/T 43697, 就高从严): a derived column is at least as high as the highest
of its inputs, unless its contract declares a downgrade from that level with a reason (e.g. a
published aggregate whose cells of fewer than 5 enterprises are suppressed).

Columns of dbt models take their inputs from column lineage (their compiled SQL); columns of
tables written by Python assets (bronze, silver, quarantine) from the same-named columns of the
tables upstream of them in the asset graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.contracts import LEVELS, Contract, highest_level
from catalog.lineage import ColumnRef, Lineage


@dataclass(frozen=True)
class GradingFinding:
    table: str
    column: str | None
    declared: str
    required: str
    inputs: tuple[str, ...]
    problem: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return (
            f"{where}: {self.problem} (declared {self.declared}, inputs require {self.required}: "
            f"{', '.join(self.inputs) or '-'})"
        )


def _below(level: str, other: str) -> bool:
    return LEVELS.index(level) < LEVELS.index(other)


def _column_level(catalog: dict[str, Contract], ref: ColumnRef) -> str | None:
    contract = catalog.get(ref.table)
    if contract is None:
        return None
    try:
        return contract.column(ref.column).classification
    except KeyError:
        return None


def check_columns(contract: Contract, sources: dict[str, set[ColumnRef]], catalog: dict[str, Contract]):
    for col in contract.columns:
        inputs = sorted(sources.get(col.name, set()))
        levels = [lvl for ref in inputs if (lvl := _column_level(catalog, ref))]
        required = highest_level(levels)
        names = tuple(f"{ref} ({_column_level(catalog, ref) or '?'})" for ref in inputs)
        if col.downgrade:
            if col.downgrade["from"] != required:
                yield GradingFinding(
                    contract.name, col.name, col.classification, required, names,
                    f"declares a downgrade from {col.downgrade['from']}, but its inputs are {required}",
                )  # fmt: skip
        elif _below(col.classification, required):
            yield GradingFinding(
                contract.name, col.name, col.classification, required, names,
                "lower than its inputs and no downgrade declared",
            )  # fmt: skip


def same_name_sources(contract: Contract, upstream: set[str], catalog: dict[str, Contract]):
    """Column sources of a table written by Python code: an input column of the same name.

    The Python assets keep the contract names of the columns they carry (bronze already maps
    source headers to them), so a column named like an input column comes from it.
    """
    out: dict[str, set[ColumnRef]] = {}
    for col in contract.columns:
        out[col.name] = {
            ColumnRef(t, col.name)
            for t in upstream
            if t in catalog and any(c.name == col.name for c in catalog[t].columns)
        }
    return out


def check_grading(catalog: dict[str, Contract], lineage: Lineage) -> list[GradingFinding]:
    """Every grading problem of the catalog over the lineage (empty = consistent)."""
    findings: list[GradingFinding] = []
    for name, contract in sorted(catalog.items()):
        if name in lineage.columns:
            findings += check_columns(contract, lineage.columns[name], catalog)
        elif lineage.upstream(name):
            sources = same_name_sources(contract, lineage.upstream(name), catalog)
            findings += check_columns(contract, sources, catalog)
    return findings
