"""The dbt project against the catalog and its own rules (reads the parsed manifest, no engine).

The manifest comes from ``make manifest`` (``ibrain-dbt parse``), which the test command runs first.
"""

import json
from functools import cache
from typing import Any

import pytest

from catalog import load_catalog
from orchestration.assets.dbt import MODEL_GROUPS
from transforms.dbt_launcher import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# A model may read models of its own group or an earlier one (Dagster runs the groups in order).
GROUP_ORDER = {group: i for i, group in enumerate(MODEL_GROUPS)}


@cache
def manifest() -> dict[str, Any]:
    if not MANIFEST.exists():
        pytest.fail(f"{MANIFEST} missing: run `make manifest` (ibrain-dbt parse) first")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def warehouse_nodes() -> list[dict[str, Any]]:
    return [
        n
        for n in manifest()["nodes"].values()
        if n["resource_type"] in {"model", "seed"} and n["package_name"] == "ibrain"
    ]


def group_of(node: dict[str, Any]) -> str:
    groups = [t for t in node["tags"] if t in GROUP_ORDER]
    assert len(groups) == 1, (
        f"{node['name']}: needs exactly one of the tags {MODEL_GROUPS}, has {node['tags']}"
    )
    return groups[0]


def test_every_model_has_a_contract_with_a_description_and_chinese_column_names() -> None:
    catalog = load_catalog()
    for node in warehouse_nodes():
        name = f"{node['schema']}.{node['name']}"
        contract = catalog.get(name)
        assert contract is not None, (
            f"dbt {node['resource_type']} {name} has no contract in catalog/contracts"
        )
        assert contract.produced_by == "dbt", name
        assert node["description"].strip(), f"{name}: no description"
        assert node["config"]["meta"]["name_zh"], name
        documented = set(node["columns"])
        assert documented == {c.name for c in contract.columns}, name
        for column in node["columns"].values():
            assert column["config"]["meta"]["name_zh"], f"{name}.{column['name']}: no name_zh"


def test_every_dbt_contract_has_its_model() -> None:
    built = {f"{n['schema']}.{n['name']}" for n in warehouse_nodes()}
    declared = {c.name for c in load_catalog().values() if c.produced_by == "dbt"}
    assert declared <= built, f"contracts without a dbt model: {sorted(declared - built)}"


def test_every_layer_of_the_warehouse_has_models() -> None:
    layers = {n["schema"] for n in warehouse_nodes()}
    assert {"gold", "theme", "topic", "indicator"} <= layers


def test_models_read_only_their_own_or_earlier_groups() -> None:
    nodes = manifest()["nodes"]
    for node in warehouse_nodes():
        mine = GROUP_ORDER[group_of(node)]
        for upstream_id in node["depends_on"].get("nodes", []):
            upstream = nodes.get(upstream_id)
            if upstream is None or upstream["resource_type"] not in {"model", "seed"}:
                continue
            assert GROUP_ORDER[group_of(upstream)] <= mine, (
                f"{node['name']} ({group_of(node)}) reads {upstream['name']} ({group_of(upstream)})"
            )


def test_monthly_models_replace_their_period_and_are_partitioned_by_it() -> None:
    catalog = load_catalog()
    for node in warehouse_nodes():
        config = node["config"]
        if group_of(node) == "monthly":
            assert config["materialized"] == "incremental", node["name"]
            assert config["incremental_strategy"] == "replace_period", node["name"]
            contract = catalog[f"{node['schema']}.{node['name']}"]
            assert contract.partition_by == (config.get("period_column") or "period",), node["name"]
            # partition_by is declared per model (dbt_project.yml applies it to no table model)
            assert config["partition_by"] == list(contract.partition_by), node["name"]
            assert config["unique_key"], node["name"]
        else:
            assert config["materialized"] in {"table", "seed"}, node["name"]
            assert config.get("partition_by") is None, node["name"]


def test_no_model_uses_a_banned_incremental_strategy() -> None:
    for node in warehouse_nodes():
        assert node["config"].get("incremental_strategy") not in {"insert_overwrite", "microbatch"}, node[
            "name"
        ]


def test_models_have_business_rule_tests_beyond_keys() -> None:
    """Each model has at least one test other than not_null / unique / key combination."""
    key_tests = {"not_null", "unique", "unique_combination"}
    tested: dict[str, set[str]] = {}
    for node in manifest()["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        for parent in node["depends_on"].get("nodes", []):
            tested.setdefault(parent, set()).add(node["test_metadata"]["name"])
    for node in warehouse_nodes():
        if node["resource_type"] != "model":
            continue
        assert tested.get(node["unique_id"], set()) - key_tests, f"{node['name']}: no business-rule test"
