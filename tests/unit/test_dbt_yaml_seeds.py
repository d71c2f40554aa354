"""The generated dbt properties files: one per model beside its SQL, one per seed beside its CSV
(listed under ``seeds:``), the silver sources in models/_sources.yml; ``problems`` names each
stale, missing or extra file."""

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import dbt_yaml, load_catalog


def entries(key: str) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The generated ``models`` or ``seeds`` entries by name, with the file each is in."""
    return {e["name"]: (path, e) for path, doc in dbt_yaml.documents().items() for e in doc.get(key, [])}


def test_contracts_with_a_seed_csv_are_seeds_not_models() -> None:
    seeds, models = entries("seeds"), entries("models")
    assert "indicator_definition" in seeds
    for contract in load_catalog().values():
        if contract.produced_by != "dbt":
            continue
        if (dbt_yaml.SEEDS_DIR / f"{contract.table}.csv").is_file():
            assert contract.table in seeds and contract.table not in models, contract.name
            assert seeds[contract.table][0] == dbt_yaml.SEEDS_DIR / f"{contract.table}.yml"
        else:
            assert contract.table in models and contract.table not in seeds, contract.name


def test_each_model_has_its_own_file_beside_its_sql() -> None:
    for name, (path, _) in entries("models").items():
        assert path.name == f"{name}.yml"
        assert path.with_suffix(".sql").is_file(), f"{path}: no {name}.sql beside it"
    [sources] = [doc for doc in dbt_yaml.documents().values() if "sources" in doc]
    assert [s["name"] for s in sources["sources"]] == ["silver"]


def test_seed_entries_carry_docs_and_tests_like_models() -> None:
    _, seed = entries("seeds")["indicator_definition"]
    assert seed["config"]["meta"]["name_zh"]
    assert all(c["config"]["meta"]["name_zh"] for c in seed["columns"])
    assert seed["data_tests"], "the contract's business rules become seed tests"


def test_no_seed_section_without_seed_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dbt_yaml, "SEEDS_DIR", tmp_path)
    assert entries("seeds") == {}
    path, _ = entries("models")["indicator_definition"]
    assert path == dbt_yaml.MODELS_DIR / "indicator" / "indicator_definition.yml"


def test_check_names_stale_missing_and_extra_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    models, seeds = tmp_path / "models", tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(dbt_yaml.SEEDS_DIR / "indicator_definition.csv", seeds)
    monkeypatch.setattr(dbt_yaml, "MODELS_DIR", models)
    monkeypatch.setattr(dbt_yaml, "SEEDS_DIR", seeds)
    assert len(dbt_yaml.problems()) == len(dbt_yaml.render())  # nothing written yet: all missing
    dbt_yaml.write()
    assert dbt_yaml.problems() == [] and dbt_yaml.is_current()

    stale = models / "topic" / "chain_output_month.yml"
    stale.write_text(stale.read_text(encoding="utf-8").replace("产业链", "产业"), encoding="utf-8")
    missing = models / "gold" / "dim_date.yml"
    missing.unlink()
    extra = models / "_catalog.yml"  # e.g. the old single file, or a model whose contract is gone
    extra.write_text(dbt_yaml.HEADER + "version: 2\n", encoding="utf-8")
    (models / "hand_written.yml").write_text("version: 2\n", encoding="utf-8")  # not generated: kept

    assert sorted(dbt_yaml.problems()) == [f"extra: {extra}", f"missing: {missing}", f"stale: {stale}"]
    assert sorted(dbt_yaml.write()) == sorted([extra, missing, stale])
    assert dbt_yaml.problems() == [] and not extra.exists()
    assert (models / "hand_written.yml").exists()
    assert yaml.safe_load(stale.read_text(encoding="utf-8"))["models"][0]["name"] == "chain_output_month"
