"""Which rules cover which GB/T 36344 dimension of a dataset, and the Great Expectations rules.

A dataset's rules come from several places, all derived from the catalog (nothing kept twice):

- its contract's ``quality_rules`` (bronze/silver: enforced by quarantining or flagging rows);
- the generic rules of ``catalog/quality_rules.yaml`` for its layer (timeliness, accessibility);
- for dbt datasets, the dbt tests generated from the contract (``catalog.dbt_yaml``) and the
  singular tests in ``transforms/dbt/tests/`` whose ``config(meta=...)`` names the dataset;
- for bronze and silver tables built row by row (they have a quarantine table), the
  ``reconciliation`` check (upstream rows = rows kept + rows quarantined, per batch);
- for bronze and silver, the Great Expectations expectations derived from the contract's columns
  (:func:`gx_expectation_specs`).

Every silver, gold, theme, topic and indicator dataset must cover all six dimensions or record in
its contract's ``quality_exemptions`` why a dimension does not apply (:func:`coverage_problems`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from catalog.contracts import DIMENSIONS, Column, Contract, generic_rules, load_catalog
from catalog.dbt_yaml import DBT_DIR, contract_tests

# Layers whose datasets must cover every dimension (or exempt it with a reason).
COVERED_LAYERS = ("silver", "gold", "theme", "topic", "indicator")
GX_LAYERS = ("bronze", "silver")
RECONCILIATION_RULE = "reconciliation"  # orchestration.checks.RECONCILIATION_CHECK, declared [完整性]
RECONCILIATION_DIMENSION = "完整性"
SINGULAR_TESTS_DIR = DBT_DIR / "tests"
KEY_NOT_NULL_THRESHOLD = 1.0
GX_THRESHOLD = 0.99


def gx_expectation_specs(contract: Contract) -> list[dict[str, Any]]:
    """The Great Expectations (1.x) expectations of a bronze or silver table, from its columns:
    ``required`` or non-nullable → not null (完整性; threshold 1.0 for primary-key columns, 0.99
    otherwise), ``accepted_values`` → in set (规范性), ``range`` → between (准确性). Each spec has
    rule_id, dimension, severity, threshold, expectation_type (the GX class name in
    ``great_expectations.expectations``), kwargs (``mostly`` = threshold), column, description_zh.
    Other layers have none (their rules are dbt tests)."""
    if contract.layer not in GX_LAYERS:
        return []
    specs: list[dict[str, Any]] = []
    for col in contract.columns:
        label = f"{col.name_zh}（{col.name}）"
        if col.required or not col.nullable:
            threshold = KEY_NOT_NULL_THRESHOLD if col.name in contract.primary_key else GX_THRESHOLD
            specs.append(
                _spec(
                    col,
                    "not_null",
                    "完整性",
                    threshold,
                    "ExpectColumnValuesToNotBeNull",
                    {},
                    f"{label}不为空",
                )
            )
        if col.accepted_values:
            values = list(col.accepted_values)
            shown = "、".join(str(v) for v in values)
            specs.append(
                _spec(
                    col,
                    "accepted_values",
                    "规范性",
                    GX_THRESHOLD,
                    "ExpectColumnValuesToBeInSet",
                    {"value_set": values},
                    f"{label}取值为 {shown} 之一",
                )
            )
        if col.range:
            bounds = {"min_value": col.range.get("min"), "max_value": col.range.get("max")}
            shown = f"[{col.range.get('min', '-∞')}, {col.range.get('max', '+∞')}]"
            specs.append(
                _spec(
                    col,
                    "value_between",
                    "准确性",
                    GX_THRESHOLD,
                    "ExpectColumnValuesToBeBetween",
                    bounds,
                    f"{label}在 {shown} 之间",
                )
            )
    return specs


def _spec(
    col: Column,
    kind: str,
    dimension: str,
    threshold: float,
    expectation_type: str,
    kwargs: dict[str, Any],
    description_zh: str,
) -> dict[str, Any]:
    return {
        "rule_id": f"{kind}:{col.name}",
        "dimension": dimension,
        "severity": "WARN",
        "threshold": threshold,
        "expectation_type": expectation_type,
        "kwargs": {"column": col.name, **kwargs, "mostly": threshold},
        "column": col.name,
        "description_zh": description_zh,
    }


@dataclass(frozen=True)
class SingularTest:
    """A dbt singular test (transforms/dbt/tests/**/*.sql outside generic/) and what it checks."""

    path: Path
    dataset: str  # layer.table
    rule_id: str
    dimension: str
    description_zh: str


_CONFIG = re.compile(r"config\((?P<args>.*?)\)\s*}}", re.DOTALL)
_META = re.compile(r"meta\s*=\s*(?P<meta>\{.*?\})", re.DOTALL)
_REF = re.compile(r"ref\(\s*'(?P<table>[a-z0-9_]+)'\s*\)")


def parse_singular_test(path: Path) -> SingularTest:
    """The dimension, rule id and dataset a singular test declares in ``config(meta={...})``
    (``dataset`` defaults to the first model it refs)."""
    sql = path.read_text(encoding="utf-8")
    config = _CONFIG.search(sql)
    meta_match = _META.search(config.group("args")) if config else None
    if meta_match is None:
        raise ValueError(f"{path}: no config(meta={{'dimension': ..., 'rule_id': ...}}) in the test")
    meta = ast.literal_eval(meta_match.group("meta"))
    missing = sorted({"dimension", "rule_id", "description_zh"} - set(meta))
    if missing:
        raise ValueError(f"{path}: config meta lacks {missing}")
    if meta["dimension"] not in DIMENSIONS:
        raise ValueError(f"{path}: unknown dimension {meta['dimension']!r}")
    dataset = meta.get("dataset")
    if dataset is None:
        ref = _REF.search(sql)
        if ref is None:
            raise ValueError(f"{path}: no `dataset` in its meta and no ref() to attach it to")
        models = [c for c in load_catalog().values() if c.produced_by == "dbt" and c.table == ref["table"]]
        if len(models) != 1:
            raise ValueError(f"{path}: ref('{ref['table']}') is not exactly one dbt contract")
        dataset = models[0].name
    if dataset not in load_catalog():
        raise ValueError(f"{path}: dataset {dataset} has no contract")
    return SingularTest(path, dataset, meta["rule_id"], meta["dimension"], meta["description_zh"])


@cache
def singular_tests(tests_dir: Path = SINGULAR_TESTS_DIR) -> tuple[SingularTest, ...]:
    paths = sorted(p for p in tests_dir.rglob("*.sql") if "generic" not in p.relative_to(tests_dir).parts)
    return tuple(parse_singular_test(p) for p in paths)


def _manifest_tests(contract: Contract, manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(rule_id, dimension) of the manifest's tests on the dataset that declare a dimension."""
    found = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "test":
            continue
        meta = (node.get("config") or {}).get("meta") or {}
        if "dimension" not in meta:
            continue
        attached = node.get("attached_node") or ""
        on_model = attached.split(".")[0] in ("model", "seed") and attached.split(".")[-1] == contract.table
        if on_model or meta.get("dataset") == contract.name:
            found.append((meta.get("rule_id") or node["name"], meta["dimension"]))
    return found


def dimension_coverage(
    contract: Contract, dbt_manifest: Mapping[str, Any] | None = None
) -> dict[str, list[str]]:
    """Per GB/T 36344 dimension (all six keys, in order), the ids of the rules covering it.

    dbt tests are computed from the contract the way ``catalog.dbt_yaml`` generates them, plus the
    singular tests; with ``dbt_manifest`` (a parsed manifest.json) the tests it holds for the model
    with a ``meta.dimension`` count too."""
    found: list[tuple[str, str]] = [(r.id, r.dimension) for r in contract.quality_rules]
    found += [(r.id, r.dimension) for r in generic_rules(contract)]
    if contract.produced_by == "dbt":
        found += [(t.rule_id, t.dimension) for t in contract_tests(contract)]
        found += [(t.rule_id, t.dimension) for t in singular_tests() if t.dataset == contract.name]
        if dbt_manifest is not None:
            found += _manifest_tests(contract, dbt_manifest)
    if contract.layer in GX_LAYERS and f"quarantine.{contract.layer}_{contract.table}" in load_catalog():
        found.append((RECONCILIATION_RULE, RECONCILIATION_DIMENSION))
    found += [(s["rule_id"], s["dimension"]) for s in gx_expectation_specs(contract)]
    coverage: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for rule_id, dimension in found:
        if rule_id not in coverage[dimension]:
            coverage[dimension].append(rule_id)
    return coverage


def coverage_problems(contract: Contract, dbt_manifest: Mapping[str, Any] | None = None) -> list[str]:
    """Why ``contract`` does not meet the rule: every dimension has a rule, or an exemption with a
    reason — and not both (an exemption for a covered dimension is stale)."""
    coverage = dimension_coverage(contract, dbt_manifest)
    problems = []
    for dimension, rules in coverage.items():
        reason = contract.quality_exemptions.get(dimension)
        if not rules and not (reason and reason.strip()):
            problems.append(f"{contract.name}: no {dimension} rule and no quality_exemptions reason")
        if rules and dimension in contract.quality_exemptions:
            problems.append(f"{contract.name}: {dimension} is exempted but covered by {rules}")
    return problems
