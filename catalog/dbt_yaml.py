"""Generate the dbt properties file (sources, model docs, tests) from the contracts.

``transforms/dbt/models/_catalog.yml`` is generated, never edited by hand: run
``ibrain catalog dbt-yaml`` after changing a contract (a test fails when the file is stale).
Sources are the silver tables dbt reads; models are the contracts ``produced_by: dbt``, except
those whose table is a CSV in ``transforms/dbt/seeds/``: those are seeds (listed under ``seeds:``).
Column docs carry ``config.meta.name_zh`` and the classification. Tests come from the contract:
the primary key (unique / unique_combination), non-nullable columns (not_null), column
``accepted_values``, ``references`` (relationships) and ``range`` (value_between), and the
table's ``data_tests`` (business rules, each with its Chinese description).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from catalog.contracts import LEVEL_TAGS, Column, Contract, load_catalog
from ibrain.settings import REPO_ROOT

DBT_DIR = REPO_ROOT / "transforms" / "dbt"
GENERATED_PATH = DBT_DIR / "models" / "_catalog.yml"
SEEDS_DIR = DBT_DIR / "seeds"
HEADER = "# GENERATED from catalog/contracts by `ibrain catalog dbt-yaml`; do not edit.\n"


def _column(col: Column, with_tests: bool) -> dict[str, Any]:
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
    if with_tests:
        tests = _column_tests(col)
        if tests:
            entry["data_tests"] = tests
    return entry


def _relation(layer: str, table: str) -> str:
    """How dbt names a table: a model by ref, a silver table by source."""
    contract = load_catalog().get(f"{layer}.{table}")
    if contract is not None and contract.produced_by == "dbt":
        return f"ref('{table}')"
    if layer == "silver":
        return f"source('silver', '{table}')"
    raise ValueError(f"references {layer}.{table}: not a dbt model or silver source")


def _column_tests(col: Column) -> list[Any]:
    tests: list[Any] = []
    if not col.nullable:
        tests.append("not_null")
    if col.accepted_values:
        tests.append({"accepted_values": {"arguments": {"values": list(col.accepted_values)}}})
    if col.references:
        layer, table, field = col.references.split(".")
        tests.append({"relationships": {"arguments": {"to": _relation(layer, table), "field": field}}})
    if col.range:
        tests.append({"value_between": {"arguments": dict(col.range)}})
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


def _table_test(test: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {"meta": {"description_zh": test["description_zh"]}}
    if "where" in test:
        config["where"] = test["where"]
    return {test["test"]: {"arguments": test.get("arguments", {}), "config": config}}


def _model(contract: Contract) -> dict[str, Any]:
    model: dict[str, Any] = {
        "name": contract.table,
        "description": contract.description,
        "config": {"meta": _table_meta(contract)},
        "columns": [_column(c, with_tests=True) for c in contract.columns],
    }
    tests: list[Any] = [_table_test(t) for t in contract.data_tests]
    if len(contract.primary_key) > 1:
        tests.insert(0, {"unique_combination": {"arguments": {"columns": list(contract.primary_key)}}})
    if tests:
        model["data_tests"] = tests
    if len(contract.primary_key) == 1:
        key = contract.primary_key[0]
        for col in model["columns"]:
            if col["name"] == key:
                col.setdefault("data_tests", []).append("unique")
    return model


def _source_table(contract: Contract) -> dict[str, Any]:
    return {
        "name": contract.table,
        "description": contract.description,
        "config": {"meta": _table_meta(contract)},
        "columns": [_column(c, with_tests=False) for c in contract.columns],
    }


def render() -> str:
    catalog = load_catalog()
    silver = [c for c in catalog.values() if c.layer == "silver"]
    dbt_nodes = sorted(
        (c for c in catalog.values() if c.produced_by == "dbt"), key=lambda c: (c.layer, c.table)
    )
    seeds = [c for c in dbt_nodes if is_seed(c)]
    doc: dict[str, Any] = {
        "version": 2,
        "sources": [
            {
                "name": "silver",
                "schema": "silver",
                "description": "Silver tables written by the PySpark assets (registered per session).",
                "tables": [_source_table(c) for c in sorted(silver, key=lambda c: c.table)],
            }
        ],
        "models": [_model(c) for c in dbt_nodes if not is_seed(c)],
    }
    if seeds:
        doc["seeds"] = [_model(c) for c in seeds]
    return HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def write(path: Path = GENERATED_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


def is_current(path: Path = GENERATED_PATH) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == render()
