"""Generate the dbt properties files (sources, model docs, tests) from the contracts.

One properties file per model, next to its SQL (``models/<layer>/<table>.yml``), one per seed next
to its CSV (``seeds/<table>.yml``) and ``models/_sources.yml`` for the silver tables dbt reads. They
are generated, never edited by hand: run ``ibrain catalog dbt-yaml`` after changing a contract
(``--check`` and a test fail naming each stale, missing or extra file). Models are the contracts
``produced_by: dbt``, except those whose table is a CSV in ``transforms/dbt/seeds/``: those are
seeds (their file lists them under ``seeds:``).
Column docs carry ``config.meta.name_zh`` and the classification. Tests come from the contract:
the primary key (unique / unique_combination), non-nullable columns (not_null), column
``accepted_values``, ``references`` (relationships) and ``range`` (value_between), and the
table's ``data_tests`` (business rules, each with its Chinese description). Every test carries
``config.meta.dimension`` (GB/T 36344, see :data:`TEST_DIMENSIONS`), ``config.meta.rule_id`` (stable
and unique per model: ``<test>:<column>`` for column tests, ``unique_combination:primary_key``,
``<test>:<n>`` for the n-th table test of that name) and ``config.meta.description_zh``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog.contracts import LEVEL_TAGS, Column, Contract, load_catalog
from ibrain.settings import REPO_ROOT

DBT_DIR = REPO_ROOT / "transforms" / "dbt"
MODELS_DIR = DBT_DIR / "models"
SEEDS_DIR = DBT_DIR / "seeds"
SOURCES_FILE = "_sources.yml"  # in MODELS_DIR
HEADER = "# GENERATED from catalog/contracts by `ibrain catalog dbt-yaml`; do not edit.\n"

# GB/T 36344 dimension of each generic test (expression_is_true: unless its data_tests entry says).
# Uniqueness (duplicate records) counts under 准确性 in GB/T 36344.
TEST_DIMENSIONS = {
    "not_null": "完整性",
    "unique": "准确性",
    "unique_combination": "准确性",
    "accepted_values": "规范性",
    "relationships": "一致性",
    "value_between": "准确性",
    "expression_is_true": "准确性",
    "sum_matches": "一致性",
}


@dataclass(frozen=True)
class DbtTest:
    """One dbt test derived from a contract: ``column`` is None for a table-level test."""

    test: str
    rule_id: str
    dimension: str
    description_zh: str
    column: str | None = None
    arguments: dict[str, Any] | None = None
    where: str | None = None

    def render(self) -> dict[str, Any]:
        meta = {"dimension": self.dimension, "rule_id": self.rule_id, "description_zh": self.description_zh}
        config: dict[str, Any] = {"meta": meta}
        if self.where:
            config["where"] = self.where
        body: dict[str, Any] = {"arguments": self.arguments} if self.arguments is not None else {}
        return {self.test: {**body, "config": config}}


def _column(col: Column, tests: list[DbtTest]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": col.name,
        "description": col.description or col.name_zh,
        "data_type": col.type,
        "config": {
            "meta": {
                "name_zh": col.name_zh,
                "classification": col.classification,
                "masking": col.masking,
                "pii": col.pii,
            }
        },
    }
    if tests:
        entry["data_tests"] = [t.render() for t in tests]
    return entry


def _relation(layer: str, table: str) -> str:
    """How dbt names a table: a model by ref, a silver table by source."""
    contract = load_catalog().get(f"{layer}.{table}")
    if contract is not None and contract.produced_by == "dbt":
        return f"ref('{table}')"
    if layer == "silver":
        return f"source('silver', '{table}')"
    raise ValueError(f"references {layer}.{table}: not a dbt model or silver source")


def _column_tests(col: Column, primary_key: tuple[str, ...]) -> list[DbtTest]:
    def test(name: str, description_zh: str, arguments: dict[str, Any] | None = None) -> DbtTest:
        return DbtTest(name, f"{name}:{col.name}", TEST_DIMENSIONS[name], description_zh, col.name, arguments)

    label = f"{col.name_zh}（{col.name}）"
    tests: list[DbtTest] = []
    if not col.nullable:
        tests.append(test("not_null", f"{label}不为空"))
    if col.accepted_values:
        values = list(col.accepted_values)
        shown = "、".join(str(v) for v in values)
        tests.append(test("accepted_values", f"{label}取值为 {shown} 之一", {"values": values}))
    if col.references:
        layer, table, field = col.references.split(".")
        tests.append(
            test(
                "relationships",
                f"{label}在 {col.references} 中存在",
                {"to": _relation(layer, table), "field": field},
            )
        )
    if col.range:
        bounds = f"[{col.range.get('min', '-∞')}, {col.range.get('max', '+∞')}]"
        tests.append(test("value_between", f"{label}在 {bounds} 之间", dict(col.range)))
    if primary_key == (col.name,):
        tests.append(test("unique", f"{label}唯一（主键）"))
    return tests


def _table_tests(contract: Contract) -> list[DbtTest]:
    tests: list[DbtTest] = []
    if len(contract.primary_key) > 1:
        keys = list(contract.primary_key)
        tests.append(
            DbtTest(
                "unique_combination",
                "unique_combination:primary_key",
                TEST_DIMENSIONS["unique_combination"],
                f"主键（{', '.join(keys)}）唯一",
                arguments={"columns": keys},
            )
        )
    seen: dict[str, int] = {}
    for entry in contract.data_tests:
        name = entry["test"]
        seen[name] = seen.get(name, 0) + 1
        dimension = entry.get("dimension") or TEST_DIMENSIONS.get(name)
        if dimension is None:
            where = contract.path or contract.name
            raise ValueError(f"{where}: data test {name} has no default dimension: give it `dimension`")
        tests.append(
            DbtTest(
                name,
                f"{name}:{seen[name]}",
                dimension,
                entry["description_zh"],
                arguments=entry.get("arguments", {}),
                where=entry.get("where"),
            )
        )
    return tests


def contract_tests(contract: Contract) -> list[DbtTest]:
    """Every dbt test the contract generates (column tests in column order, then table tests)."""
    column_tests = [t for c in contract.columns for t in _column_tests(c, contract.primary_key)]
    tests = column_tests + _table_tests(contract)
    ids = [t.rule_id for t in tests]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{contract.name}: duplicate dbt test rule ids {duplicates}")
    return tests


def is_seed(contract: Contract) -> bool:
    """A dbt contract whose table is loaded from ``transforms/dbt/seeds/<table>.csv``."""
    return contract.produced_by == "dbt" and (SEEDS_DIR / f"{contract.table}.csv").is_file()


def _table_meta(contract: Contract) -> dict[str, Any]:
    return {
        "name_zh": contract.name_zh,
        "name_en": contract.name_en,
        "classification": contract.classification,
        "classification_tag": LEVEL_TAGS[contract.classification],
        "grain": contract.grain,
        "owner": contract.owner,
        "update_frequency": contract.update_frequency,
        **({"sla": contract.sla} if contract.sla else {}),
    }


def _model(contract: Contract) -> dict[str, Any]:
    tests = contract_tests(contract)
    model: dict[str, Any] = {
        "name": contract.table,
        "description": contract.description,
        "config": {"meta": _table_meta(contract)},
        "columns": [_column(c, [t for t in tests if t.column == c.name]) for c in contract.columns],
    }
    table_tests = [t.render() for t in tests if t.column is None]
    if table_tests:
        model["data_tests"] = table_tests
    return model


def _source_table(contract: Contract) -> dict[str, Any]:
    return {
        "name": contract.table,
        "description": contract.description,
        "config": {"meta": _table_meta(contract)},
        "columns": [_column(c, []) for c in contract.columns],
    }


def properties_path(contract: Contract) -> Path:
    """Where a dbt contract's properties file goes: beside its seed CSV, else beside its model SQL
    (models/<layer>/, the folder dbt_project.yml maps to the layer's schema)."""
    if is_seed(contract):
        return SEEDS_DIR / f"{contract.table}.yml"
    return MODELS_DIR / contract.layer / f"{contract.table}.yml"


def documents() -> dict[Path, dict[str, Any]]:
    """Every generated properties file and its YAML document, by path."""
    catalog = load_catalog()
    silver = sorted((c for c in catalog.values() if c.layer == "silver"), key=lambda c: c.table)
    docs: dict[Path, dict[str, Any]] = {
        MODELS_DIR / SOURCES_FILE: {
            "version": 2,
            "sources": [
                {
                    "name": "silver",
                    "schema": "silver",
                    "description": "Silver tables written by the PySpark assets (registered per session).",
                    "tables": [_source_table(c) for c in silver],
                }
            ],
        }
    }
    dbt_nodes = sorted(
        (c for c in catalog.values() if c.produced_by == "dbt"), key=lambda c: (c.layer, c.table)
    )
    for contract in dbt_nodes:
        path = properties_path(contract)
        if path in docs:
            raise ValueError(f"{contract.name}: {path} is also generated for another contract")
        docs[path] = {"version": 2, "seeds" if is_seed(contract) else "models": [_model(contract)]}
    return docs


def render() -> dict[Path, str]:
    """Every generated properties file and its text, by path."""
    return {
        path: HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
        for path, doc in documents().items()
    }


def generated_files() -> list[Path]:
    """The properties files on disk that were generated (they start with HEADER)."""
    found = [*MODELS_DIR.rglob("*.yml"), *SEEDS_DIR.rglob("*.yml")]
    return sorted(p for p in found if p.read_text(encoding="utf-8").startswith(HEADER))


def problems() -> list[str]:
    """What differs between the files on disk and the contracts: one line per stale, missing or
    extra (generated, but no longer by any contract) file; empty when everything is current."""
    expected = render()
    found: list[str] = []
    for path, text in expected.items():
        if not path.exists():
            found.append(f"missing: {_shown(path)}")
        elif path.read_text(encoding="utf-8") != text:
            found.append(f"stale: {_shown(path)}")
    found += [f"extra: {_shown(path)}" for path in generated_files() if path not in expected]
    return found


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def write() -> list[Path]:
    """Write the files that are missing or stale and remove the extra generated ones; returns the
    paths written or removed."""
    expected = render()
    changed = []
    for path in generated_files():
        if path not in expected:
            path.unlink()
            changed.append(path)
    for path, text in expected.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def is_current() -> bool:
    return not problems()
