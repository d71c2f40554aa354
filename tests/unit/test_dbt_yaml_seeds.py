"""The generated dbt properties file lists a contract as a seed when its table is a CSV seed."""

from pathlib import Path

import pytest
import yaml

from catalog import dbt_yaml, load_catalog


def test_contracts_with_a_seed_csv_are_seeds_not_models() -> None:
    doc = yaml.safe_load(dbt_yaml.render())
    seeds = {s["name"] for s in doc.get("seeds", [])}
    models = {m["name"] for m in doc["models"]}
    assert "indicator_definition" in seeds
    for contract in load_catalog().values():
        if contract.produced_by != "dbt":
            continue
        if (dbt_yaml.SEEDS_DIR / f"{contract.table}.csv").is_file():
            assert contract.table in seeds and contract.table not in models, contract.name
        else:
            assert contract.table in models and contract.table not in seeds, contract.name


def test_seed_entries_carry_docs_and_tests_like_models() -> None:
    doc = yaml.safe_load(dbt_yaml.render())
    seed = next(s for s in doc["seeds"] if s["name"] == "indicator_definition")
    assert seed["config"]["meta"]["name_zh"]
    assert all(c["config"]["meta"]["name_zh"] for c in seed["columns"])
    assert seed["data_tests"], "the contract's business rules become seed tests"


def test_no_seed_section_without_seed_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dbt_yaml, "SEEDS_DIR", tmp_path)
    doc = yaml.safe_load(dbt_yaml.render())
    assert "seeds" not in doc
    assert "indicator_definition" in {m["name"] for m in doc["models"]}
