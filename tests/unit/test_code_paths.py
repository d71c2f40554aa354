"""Every table's writing code is found from its name: catalog/code_paths.py points at a file that
exists and writes that table, and `ibrain catalog show` prints it."""

import inspect
import re
from pathlib import Path

import pytest

from catalog import Contract, load_catalog
from catalog.code_paths import NoCodePathError, code_path
from catalog.contracts import parse_contract
from catalog.datamap import datasets
from catalog.lineage import Lineage
from ibrain.settings import REPO_ROOT
from ingest.reference import load_reference
from ingest.sources import sources
from tests.support.cli import run_cli
from transforms.silver import facts, registry

CONTRACTS = load_catalog()
ENTITIES = {e.silver.name: e for e in (registry(), *facts())}
# LakeTables' writes (catalog/tables.py).
WRITES = r"\.(?:append|replace_where|merge|overwrite_if_changed|ensure)\("


def _entity_of(contract: Contract):
    """The silver entity that writes ``contract`` (its silver table or its silver quarantine)."""
    if contract.layer == "quarantine" and contract.table.startswith("silver_"):
        return ENTITIES.get(f"silver.{contract.table.removeprefix('silver_')}")
    return ENTITIES.get(contract.name)


def test_every_data_map_entry_names_code_that_exists() -> None:
    entries = datasets(CONTRACTS, Lineage(tables={}), chains=[])
    assert len(entries) == len(CONTRACTS) + len(sources())  # every contract, plus each source's landing
    for name, ds in entries.items():
        assert ds.code_path is not None, name
        assert (REPO_ROOT / ds.code_path).is_file(), f"{name}: {ds.code_path} does not exist"
        if name in CONTRACTS:
            assert ds.code_path == code_path(CONTRACTS[name]), name
        else:  # landing: the files its source definition describes
            assert ds.code_path == f"catalog/contracts/bronze/{ds.table}.yaml", name


def test_silver_entities_are_the_tables_with_a_silver_quarantine() -> None:
    """The rule code_paths applies to tell an entity (entities/<table>.py) from other silver code."""
    quarantined = {n.replace("quarantine.silver_", "silver.") for n in CONTRACTS if ".silver_" in n}
    assert quarantined == set(ENTITIES)
    assert len(ENTITIES) == 9


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_the_code_path_writes_its_table(name: str) -> None:
    contract = CONTRACTS[name]
    path = Path(code_path(contract))
    layer, table = contract.layer, contract.table
    if path.suffix == ".sql":  # a dbt model is named after its table, in its layer's folder
        assert path.parts[:3] == ("transforms", "dbt", "models") and path.parent.name == layer
        assert path.stem == table
    elif path.suffix == ".csv":  # a dbt seed
        assert path.parent.as_posix() == "transforms/dbt/seeds" and path.stem == table
    elif path.suffix == ".yaml":  # a source definition: the Source the bronze loader builds from it
        source = sources()[table.removeprefix("bronze_")]
        assert source.contract.path == REPO_ROOT / path
        assert name in (source.bronze_contract.name, source.quarantine_contract.name)
    elif (entity := _entity_of(contract)) is not None:  # the silver framework writes what it defines
        assert Path(inspect.getsourcefile(entity.prepare)) == REPO_ROOT / path
        assert name in (entity.silver.name, entity.quarantine.name)
        assert path.stem == entity.silver.table
    else:  # a module that reads the table's contract and writes it through LakeTables
        text = (REPO_ROOT / path).read_text(encoding="utf-8")
        if contract.produced_by == "reference":  # load_reference overwrites each listed table
            assert re.search(rf'^\s+"{table}": ', text, re.MULTILINE), f"{path} does not list {name}"
            assert "overwrite_if_changed(contract" in inspect.getsource(load_reference)
        else:
            assert f'get_contract("{layer}", "{table}")' in text, f"{path} lacks the contract of {name}"
            assert re.search(WRITES, text), f"{path} writes no table"


def test_silver_code_is_named_after_the_table() -> None:
    for name, contract in CONTRACTS.items():
        if contract.layer == "silver" and contract.produced_by == "pyspark":
            assert Path(code_path(contract)).stem == contract.table, name
    assert code_path(CONTRACTS["silver.purchase_order"]) == "transforms/silver/entities/purchase_order.py"
    assert code_path(CONTRACTS["silver.capacity_offer"]) == "transforms/silver/entities/capacity_offer.py"
    assert code_path(CONTRACTS["quarantine.silver_capacity_offer"]) == (
        "transforms/silver/entities/capacity_offer.py"
    )


def test_a_table_no_rule_covers_is_an_error() -> None:
    contract = parse_contract(
        {
            "table": "new_log",
            "layer": "audit",
            "name_zh": "新日志",
            "name_en": "New log",
            "description": "d",
            "owner": "team:x",
            "grain": "row",
            "primary_key": ["a"],
            "update_frequency": "daily",
            "produced_by": "ingest",
            "columns": [{"name": "a", "type": "string", "name_zh": "甲", "classification": "一般"}],
        }
    )
    with pytest.raises(NoCodePathError, match=r"audit\.new_log .*OVERRIDES"):
        code_path(contract, CONTRACTS)


def test_catalog_show_prints_the_code_path(tmp_path: Path) -> None:
    (tmp_path / "dagster").mkdir()
    env = {"IBRAIN_LAKE_ROOT": str(tmp_path / "lake"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    out = run_cli(["catalog", "show", "silver.purchase_order"], env).stdout
    [line] = [line for line in out.splitlines() if "code:" in line]
    assert line.split()[-1] == "transforms/silver/entities/purchase_order.py"
