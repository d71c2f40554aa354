"""The lake → packages builder: for each recipient × period, one disclosure control over all of that
period's packages, then one package per dataset (``build_package``: unchanged content builds
nothing, changed content becomes the next revision).

The exports are declared in the exchange layer's contracts (``exports:`` of
``catalog/contracts/exchange/*.yaml``): recipient, dataset, period column, the 重要 columns that
leave as 一般 through a declared downgrade, the disclosure cell (its dimensions, the enterprise
count, the largest enterprise's share), growth columns (or growth indicators) and how many
months they compare back, code lists and units. Only 一般 columns and declared downgrades leave; a
核心 column never does (``payload_columns`` refuses it).

Disclosure control (serving/disclosure.py) works on *atoms*, the finest cells the enterprises'
amounts are summed over: city × GB/T 4754 division × chain, read from
``theme.economic_operation_month``. A cell's atoms are those its key matches (``region_code``
210000 = every city, ``chain_code`` 'all' = every chain). Cells of two packages with the same
atoms (an indicator's city × chain and the economic city × chain cell) are one cell, so they share
one fate. Growth rates (a column, or a growth indicator's value) leave only when the cell and the
cell they compare with (the same package and key, ``months`` earlier) are both published.

"Due" = every period with data: a period whose content is unchanged since its latest revision
builds nothing (docs/architecture.md, "Deliveries").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from catalog import Contract, load_catalog
from catalog.contracts import CATALOG_DIR, EXPORTABLE_LEVEL
from catalog.tables import LakeTables
from ibrain import delta
from security.actor import Actor
from security.keys import Keyring
from serving.deliveries.packages import Column, PackageContent, build_package
from serving.disclosure import DOMINANCE, MIN_CONTRIBUTORS, Cell, Protection, protect

EXCHANGE_LAYER = "exchange"
PROVINCE = "210000"
ALL_CHAINS = "all"
ATOM_TABLE = ("theme", "economic_operation_month")
ATOM_DIMENSIONS = {"city_code": 0, "region_code": 0, "division_code": 1, "chain_code": 2}
WILDCARDS = {"region_code": PROVINCE, "chain_code": ALL_CHAINS}
RECIPIENTS = {
    "zhgl_platform": "辽宁省工业和信息化综合管理平台",
    "gyhlw_platform": "辽宁省工业互联网公共服务平台",
}

REFERENCE_FILE = re.compile(r"catalog/reference/[A-Za-z0-9_.-]+")

Atom = tuple[str, str, str]  # city, division, chain


class ExportDeclarationError(ValueError):
    """An export declares a column that may not leave (核心, or 重要 without a downgrade)."""


@dataclass(frozen=True, eq=False)
class Export:
    """One declared export: a contract of the exchange layer and its ``exports`` entry (equal and
    hashed by table and dataset)."""

    contract: Contract
    spec: Mapping[str, Any]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Export) and self._id == other._id

    def __hash__(self) -> int:
        return hash(self._id)

    @property
    def _id(self) -> tuple[str, str]:
        return (self.contract.name, str(self.spec["name"]))

    @property
    def dataset(self) -> str:
        return str(self.spec["name"])

    @property
    def recipient(self) -> str:
        return str(self.spec["recipient"])

    @property
    def period_column(self) -> str:
        return str(self.spec["period_column"])

    @property
    def downgraded(self) -> tuple[str, ...]:
        return tuple((self.spec.get("downgrade") or {}).get("columns", ()))

    @property
    def disclosure(self) -> Mapping[str, Any] | None:
        return self.spec.get("disclosure")

    @property
    def growth(self) -> Mapping[str, int]:
        return self.spec.get("growth") or {}


def exports(recipient: str | None = None) -> list[Export]:
    """Every export declared in the exchange layer's contracts (of one recipient), by dataset."""
    found = [
        Export(c, spec)
        for c in load_catalog().values()
        if c.layer == EXCHANGE_LAYER
        for spec in c.exports
        if recipient is None or spec["recipient"] == recipient
    ]
    return sorted(found, key=lambda e: (e.recipient, e.dataset))


def payload_columns(export: Export) -> tuple[Column, ...]:
    """The columns that leave: 一般 ones and declared downgrades (never the disclosure inputs'
    重要 share); each with its Chinese name, unit and code list (the data dictionary)."""
    contract = export.contract
    units, codes = export.spec.get("units") or {}, export.spec.get("codes") or {}
    hidden = {export.disclosure["largest_share"]} if export.disclosure else set()
    out = []
    for col in contract.columns:
        if col.name in export.downgraded:
            if col.classification == "核心":
                raise ExportDeclarationError(f"{contract.name}.{col.name} is 核心 and never leaves")
        elif col.classification != EXPORTABLE_LEVEL or col.name in hidden:
            continue
        code_list = codes.get(col.name)
        out.append(
            Column(col.name, col.name_zh, col.type, units.get(col.name), code_list and versioned(code_list))
        )
    missing = set(export.downgraded) - {c.name for c in contract.columns}
    if missing:
        raise ExportDeclarationError(f"{contract.name}: downgrade names unknown columns {sorted(missing)}")
    return tuple(out)


def versioned(code_list: str) -> str:
    """A code list naming a reference file of the catalog (``catalog/reference/chains.yaml``) gets
    that file's version (SHA-256, 12 hex digits): a changed list changes the columns, so the
    content hash, so the package is revised with the new dictionary."""

    def stamp(match: re.Match[str]) -> str:
        path = CATALOG_DIR / match.group(0).removeprefix("catalog/")
        return f"{match.group(0)} 版本 {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"

    return REFERENCE_FILE.sub(stamp, code_list)


def contract_version(contract: Contract) -> str:
    """The contract file's SHA-256 (first 16 hex digits): any change to the declaration shows."""
    text = contract.path.read_bytes() if contract.path else repr(contract).encode("utf-8")
    return hashlib.sha256(text).hexdigest()[:16]


def month(value: Any) -> str:
    return value.strftime("%Y-%m") if isinstance(value, dt.date) else str(value)[:7]


def shift(period: str, months: int) -> str:
    year, mon = int(period[:4]), int(period[5:7])
    index = year * 12 + mon - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# -- disclosure ---------------------------------------------------------------------------------


def atoms_of(key: Mapping[str, Any], atoms: Iterable[Atom]) -> frozenset[Atom]:
    """The atoms a cell's key matches (a wildcard key value matches every atom)."""
    wanted = [
        (ATOM_DIMENSIONS[name], value)
        for name, value in key.items()
        if name in ATOM_DIMENSIONS and value != WILDCARDS.get(name)
    ]
    return frozenset(a for a in atoms if all(a[i] == v for i, v in wanted))


@dataclass
class PeriodControl:
    """One period's disclosure control: which atom sets are suppressed, and each row cell's atoms."""

    period: str
    protection: Protection
    cell_atoms: dict[tuple[str, tuple[Any, ...]], frozenset[Atom]] = field(default_factory=dict)
    by_atoms: dict[frozenset[Atom], tuple[str, tuple[Any, ...]]] = field(default_factory=dict)

    def suppressed(self, package: str, key: tuple[Any, ...]) -> bool:
        atoms = self.cell_atoms.get((package, key))
        if not atoms:  # no enterprise amounts under the cell: nothing to publish
            return True
        return self.protection.is_suppressed(*self.by_atoms[atoms])

    def has(self, package: str, key: tuple[Any, ...]) -> bool:
        return (package, key) in self.cell_atoms


def control(
    period: str, rows_by_export: Mapping[Export, Sequence[Mapping[str, Any]]], atoms: set[Atom]
) -> PeriodControl:
    """protect() over every disclosure cell of the period's packages (cells with the same atoms merged:
    the fewest contributors and the largest share of any of them count)."""
    merged: dict[frozenset[Atom], Cell] = {}
    result = PeriodControl(period, Protection())
    for export, rows in rows_by_export.items():
        spec = export.disclosure
        if spec is None:
            continue
        for row in rows:
            key = tuple(row[c] for c in spec["cell"])
            cell_atoms = atoms_of(dict(zip(spec["cell"], key, strict=True)), atoms)
            result.cell_atoms[(export.dataset, key)] = cell_atoms
            if not cell_atoms:
                continue
            contributors = int(row[spec["contributors"]] or 0)
            share = row[spec["largest_share"]]
            value = float(row.get("gross_output") or row.get("value") or 0.0)
            seen = merged.get(cell_atoms)
            if seen is None:
                merged[cell_atoms] = Cell(export.dataset, key, cell_atoms, contributors, share, value)
                result.by_atoms[cell_atoms] = (export.dataset, key)
            else:
                shares = [s for s in (seen.largest_share, share) if s is not None]
                merged[cell_atoms] = Cell(
                    seen.package,
                    seen.key,
                    cell_atoms,
                    min(seen.contributors, contributors),
                    max(shares) if shares else None,
                    seen.value,
                )
    result.protection = protect(merged.values())
    return result


def disclose(
    export: Export, rows: Sequence[Mapping[str, Any]], controls: Mapping[str, PeriodControl], period: str
) -> tuple[list[dict[str, Any]], int]:
    """The rows as they leave: suppressed cells' downgraded values null, growth only between two
    published cells. Returns the rows and the number of suppressed cells."""
    spec = export.disclosure
    if spec is None:
        return [dict(r) for r in rows], 0
    here = controls[period]
    out, hidden = [], 0
    for row in rows:
        row = dict(row)
        key = tuple(row[c] for c in spec["cell"])
        if here.suppressed(export.dataset, key):
            hidden += 1
            for name in export.downgraded:
                row[name] = None
            out.append(row)
            continue
        for name, months in export.growth.items():
            earlier = controls.get(shift(period, months))
            published = (
                earlier is not None
                and earlier.has(export.dataset, key)
                and not earlier.suppressed(export.dataset, key)
            )
            if published:
                continue
            if name in row:  # a growth column
                row[name] = None
            elif row.get("indicator_code") == name:  # a growth indicator
                for column in export.downgraded:
                    row[column] = None
        out.append(row)
    return out, hidden


# -- building -----------------------------------------------------------------------------------


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)  # package ids created
    unchanged: list[str] = field(default_factory=list)  # recipient.dataset.period with nothing new
    suppressed: dict[str, int] = field(default_factory=dict)  # package id → cells suppressed


def _read(tables: LakeTables, export: Export) -> dict[str, list[dict[str, Any]]]:
    contract = export.contract
    if not tables.lake.is_delta_table(tables.lake.table_uri(contract.layer, contract.table)):
        return {}
    rows = [r.asDict() for r in tables.read(contract.layer, contract.table).collect()]
    by_period: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_period[month(row[export.period_column])].append(row)
    for period_rows in by_period.values():
        period_rows.sort(key=lambda r: tuple("" if r[k] is None else str(r[k]) for k in contract.primary_key))
    return dict(by_period)


def _atoms(tables: LakeTables) -> dict[str, set[Atom]]:
    layer, table = ATOM_TABLE
    if not tables.lake.is_delta_table(tables.lake.table_uri(layer, table)):
        return {}
    found: dict[str, set[Atom]] = defaultdict(set)
    for r in tables.read(layer, table).select("city_code", "division_code", "chain_code", "period").collect():
        found[month(r["period"])].add((r["city_code"], r["division_code"], r["chain_code"]))
    return dict(found)


def dictionary(export: Export) -> dict[str, Any]:
    """The data dictionary riding in every manifest (columns are in the manifest beside it)."""
    contract = export.contract
    rule = None
    if export.disclosure:
        rule = {
            "min_contributors": MIN_CONTRIBUTORS,
            "dominance": DOMINANCE,
            "downgraded_columns": list(export.downgraded),
            "reason": (export.spec.get("downgrade") or {}).get("reason"),
            "growth_compares_months": dict(export.growth),
        }
    return {
        "dataset_name_zh": contract.name_zh,
        "dataset_name_en": contract.name_en,
        "recipient_name_zh": RECIPIENTS.get(export.recipient, export.recipient),
        "grain": contract.grain,
        "primary_key": list(contract.primary_key),
        "period_column": export.period_column,
        "snapshot": bool(export.spec.get("snapshot")),
        "disclosure_control": rule,
    }


def build_due(
    engine: Engine,
    tables: LakeTables,
    keyrings: Mapping[str, Keyring],
    actor: Actor,
    now: dt.datetime,
    *,
    recipients: Iterable[str] | None = None,
    periods: Iterable[str] | None = None,
) -> BuildReport:
    """Build every due package of ``recipients`` (default: those with a keyring) for ``periods``
    (YYYY-MM; default every period with data)."""
    report = BuildReport()
    wanted = set(periods) if periods is not None else None
    atoms = _atoms(tables)
    for recipient in sorted(recipients if recipients is not None else keyrings):
        chosen = exports(recipient)
        if not chosen:
            continue
        data = {e: _read(tables, e) for e in chosen}
        versions = {
            e: delta.version(tables.lake, tables.lake.ref(e.contract.layer, e.contract.table))
            for e in chosen
            if data[e]
        }
        all_periods = sorted({p for by_period in data.values() for p in by_period})
        controls = {
            p: control(p, {e: data[e].get(p, []) for e in chosen}, atoms.get(p, set())) for p in all_periods
        }
        for period in all_periods:
            if wanted is not None and period not in wanted:
                continue
            for export in chosen:
                rows = data[export].get(period)
                if not rows:
                    continue
                shown, hidden = disclose(export, rows, controls, period)
                content = PackageContent(
                    recipient=recipient,
                    dataset=export.dataset,
                    period=period,
                    columns=payload_columns(export),
                    rows=shown,
                    contract_version=contract_version(export.contract),
                    delta_version=versions.get(export),
                    source=export.contract.name,
                    suppressed=hidden,
                    extra={"dictionary": dictionary(export)},
                )
                built = build_package(engine, tables.lake, content, keyrings[recipient], actor, now)
                if built.created and built.package_id:
                    report.built.append(built.package_id)
                    report.suppressed[built.package_id] = hidden
                else:
                    report.unchanged.append(f"{recipient}.{export.dataset}.{period}")
    return report
