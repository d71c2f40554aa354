"""The rule catalogue covers the six GB/T 36344 dimensions of every silver, gold, theme, topic and
indicator dataset, or the contract records why a dimension does not apply (issue 6)."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from catalog import ContractError, dbt_yaml, load_catalog
from catalog.contracts import DIMENSIONS, generic_rules, parse_contract
from quality.coverage import (
    COVERED_LAYERS,
    coverage_problems,
    dimension_coverage,
    gx_expectation_specs,
    singular_tests,
)


def minimal(**overrides: Any) -> dict[str, Any]:
    data = {
        "table": "t",
        "layer": "gold",
        "name_zh": "表",
        "name_en": "T",
        "description": "d",
        "owner": "team:x",
        "grain": "row",
        "primary_key": ["a"],
        "update_frequency": "monthly",
        "produced_by": "dbt",
        "columns": [
            {"name": "a", "type": "string", "name_zh": "甲", "classification": "一般", "nullable": False}
        ],
    }
    data.update(overrides)
    return data


def test_every_dataset_covers_all_six_dimensions_or_says_why_not() -> None:
    catalog = load_catalog()
    covered = [c for c in catalog.values() if c.layer in COVERED_LAYERS]
    assert {c.layer for c in covered} == set(COVERED_LAYERS)
    problems = [p for c in covered for p in coverage_problems(c)]
    assert not problems, "\n".join(problems)
    for contract in covered:
        for dimension, reason in contract.quality_exemptions.items():
            assert dimension in DIMENSIONS and reason.strip(), contract.name


def test_a_contract_missing_a_dimension_fails_the_check() -> None:
    contract = load_catalog()["topic.magnesite_price_output_month"]
    assert dimension_coverage(contract)["规范性"], "the fixture needs a 规范性 rule to remove"
    stripped = dataclasses.replace(
        contract,
        columns=tuple(dataclasses.replace(c, accepted_values=()) for c in contract.columns),
        data_tests=tuple(t for t in contract.data_tests if t.get("dimension") != "规范性"),
    )
    assert dimension_coverage(stripped)["规范性"] == []
    assert coverage_problems(stripped) == [
        "topic.magnesite_price_output_month: no 规范性 rule and no quality_exemptions reason"
    ]
    exempted = dataclasses.replace(stripped, quality_exemptions={"规范性": "汇总表没有编码字段"})
    assert coverage_problems(exempted) == []
    blank = dataclasses.replace(stripped, quality_exemptions={"规范性": "  "})
    assert coverage_problems(blank) == coverage_problems(stripped)


def test_an_exemption_of_a_covered_dimension_is_reported_as_stale() -> None:
    contract = load_catalog()["gold.fct_order"]
    stale = dataclasses.replace(contract, quality_exemptions={"完整性": "不适用的理由"})
    [problem] = coverage_problems(stale)
    assert "完整性 is exempted but covered by" in problem and "not_null:" in problem


@pytest.mark.parametrize(
    ("exemptions", "message"),
    [
        ({"一致性": ""}, "quality_exemptions/一致性"),
        ({"一致性": "n/a"}, "quality_exemptions/一致性"),  # a reason, in Chinese
        ({"consistency": "没有第二来源"}, "quality_exemptions"),
        ({"一致": "没有第二来源"}, "quality_exemptions"),
        ({}, "quality_exemptions"),
    ],
)
def test_the_schema_rejects_exemptions_without_reason_or_with_unknown_dimension(
    exemptions: dict[str, str], message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        parse_contract(minimal(quality_exemptions=exemptions), Path("contracts/gold/t.yaml"))


def test_exemptions_and_test_dimensions_are_loaded() -> None:
    contract = parse_contract(
        minimal(
            quality_exemptions={"一致性": "单一来源，没有可比对的第二来源"},
            data_tests=[
                {
                    "test": "expression_is_true",
                    "arguments": {"expression": "a <> ''"},
                    "description_zh": "非空串",
                },
                {
                    "test": "expression_is_true",
                    "arguments": {"expression": "a rlike '^x'"},
                    "description_zh": "格式",
                    "dimension": "规范性",
                },
            ],
        )
    )
    assert contract.quality_exemptions == {"一致性": "单一来源，没有可比对的第二来源"}
    tests = {t.rule_id: t.dimension for t in dbt_yaml.contract_tests(contract)}
    assert tests == {
        "not_null:a": "完整性",
        "unique:a": "准确性",
        "expression_is_true:1": "准确性",
        "expression_is_true:2": "规范性",
    }
    with pytest.raises(ContractError, match="data_tests/0/dimension"):
        parse_contract(
            minimal(data_tests=[{"test": "sum_matches", "description_zh": "合计", "dimension": "及时性"}])
        )


def test_each_kind_of_dbt_test_has_its_dimension() -> None:
    catalog = load_catalog()
    by_kind: dict[str, set[str]] = {}
    for contract in catalog.values():
        if contract.produced_by != "dbt":
            continue
        tests = dbt_yaml.contract_tests(contract)
        ids = [t.rule_id for t in tests]
        assert len(ids) == len(set(ids)), contract.name
        for t in tests:
            by_kind.setdefault(t.test, set()).add(t.dimension)
            assert t.description_zh, (contract.name, t.rule_id)
    assert by_kind["not_null"] == {"完整性"}
    assert by_kind["unique"] == by_kind["unique_combination"] == {"准确性"}
    assert by_kind["accepted_values"] == {"规范性"}
    assert by_kind["relationships"] == {"一致性"}
    assert by_kind["value_between"] == {"准确性"}
    assert by_kind["sum_matches"] == {"一致性"}
    assert by_kind["expression_is_true"] == {"准确性", "一致性", "规范性"}  # 准确性 unless declared


def test_generated_dbt_tests_carry_dimension_and_rule_id() -> None:
    docs = dbt_yaml.documents().values()
    nodes = [n for doc in docs for n in doc.get("models", []) + doc.get("seeds", [])]
    entries = [t for n in nodes for t in n.get("data_tests", [])]
    entries += [t for n in nodes for c in n["columns"] for t in c.get("data_tests", [])]
    assert len(entries) > 100
    for entry in entries:
        assert isinstance(entry, dict), entry
        [(name, body)] = entry.items()
        meta = body["config"]["meta"]
        assert meta["dimension"] in DIMENSIONS and meta["rule_id"].startswith(name + ":"), entry


def test_singular_tests_declare_dimension_rule_and_dataset() -> None:
    found = {t.rule_id: t for t in singular_tests()}
    assert found["indicator_value_covers_definitions"].dimension == "完整性"
    assert found["indicator_value_province_equals_cities"].dimension == "一致性"
    catalog = load_catalog()
    assert all(t.dataset in catalog for t in found.values())
    coverage = dimension_coverage(catalog["indicator.indicator_value"])
    assert "indicator_value_province_equals_cities" in coverage["一致性"]


def test_generic_rules_apply_to_every_dataset_of_their_layers() -> None:
    catalog = load_catalog()
    for contract in catalog.values():
        rules = {r.id: r for r in generic_rules(contract)}
        if contract.layer not in COVERED_LAYERS:
            assert rules == {}, contract.name
            continue
        assert {r.dimension for r in rules.values()} == {"时效性", "可访问性"}, contract.name
        for rule in rules.values():
            assert rule.severity == "WARN" and rule.threshold == 1.0 and rule.measure and rule.description_zh
        coverage = dimension_coverage(contract)
        assert coverage["时效性"] == ["timeliness"] and coverage["可访问性"] == ["accessibility"]


def test_silver_tables_built_row_by_row_count_their_reconciliation() -> None:
    catalog = load_catalog()
    assert "reconciliation" in dimension_coverage(catalog["silver.enterprise_month_stats"])["完整性"]
    assert "reconciliation" not in dimension_coverage(catalog["silver.enterprise"])["完整性"]


def test_gx_expectation_specs_follow_the_columns() -> None:
    import great_expectations as gx

    catalog = load_catalog()
    stats = {s["rule_id"]: s for s in gx_expectation_specs(catalog["silver.enterprise_month_stats"])}
    assert stats["not_null:enterprise_id"]["threshold"] == 1.0  # a key
    assert stats["not_null:uscc"]["threshold"] == 0.99
    assert stats["not_null:uscc"]["expectation_type"] == "ExpectColumnValuesToNotBeNull"
    review = {s["rule_id"]: s for s in gx_expectation_specs(catalog["silver.enterprise_match_review"])}
    in_set = review["accepted_values:status"]
    assert in_set["dimension"] == "规范性" and in_set["expectation_type"] == "ExpectColumnValuesToBeInSet"
    assert in_set["kwargs"]["value_set"] == ["pending", "confirmed", "rejected"]
    between = review["value_between:confidence"]
    assert between["dimension"] == "准确性"
    assert (between["kwargs"]["min_value"], between["kwargs"]["max_value"]) == (0, 1)
    assert gx_expectation_specs(catalog["gold.fct_order"]) == []
    for contract in catalog.values():
        specs = gx_expectation_specs(contract)
        assert len({s["rule_id"] for s in specs}) == len(specs), contract.name
        for spec in specs:
            assert spec["severity"] == "WARN" and spec["dimension"] in DIMENSIONS
            getattr(gx.expectations, spec["expectation_type"])(**spec["kwargs"])  # valid GX 1.x kwargs


@pytest.fixture(scope="module")
def parsed_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The dbt project parsed as it is now (so the check does not depend on a stale target/)."""
    out = tmp_path_factory.mktemp("dbt")
    launcher = Path(sys.executable).with_name("ibrain-dbt")
    subprocess.run(
        [
            str(launcher),
            "parse",
            "--quiet",
            "--target-path",
            str(out / "target"),
            "--log-path",
            str(out / "logs"),
        ],
        check=True,
        cwd=dbt_yaml.DBT_DIR,
    )
    return json.loads((out / "target" / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow  # parses the dbt project
def test_dbt_sees_the_dimensions_the_catalog_declares(parsed_manifest: dict[str, Any]) -> None:
    tests = [n for n in parsed_manifest["nodes"].values() if n["resource_type"] == "test"]
    assert tests
    seen: set[tuple[str, str]] = set()
    for node in tests:
        meta = node["config"]["meta"]
        assert meta.get("dimension") in DIMENSIONS, f"{node['name']}: no config.meta.dimension"
        key = (node.get("attached_node") or meta.get("dataset"), meta.get("rule_id"))
        assert key[0] and key[1] and key not in seen, f"{node['name']}: rule id missing or not unique"
        seen.add(key)
    for contract in load_catalog().values():
        if contract.produced_by == "dbt":
            assert dimension_coverage(contract, parsed_manifest) == dimension_coverage(contract), (
                contract.name
            )
