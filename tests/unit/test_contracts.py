from pathlib import Path

import pytest
import yaml

from catalog import ContractError, load_catalog
from catalog.contracts import CONTRACTS_DIR, load_contract_file, parse_contract
from catalog.dbt_yaml import problems

LINEAGE = {"_batch_id", "_source_file", "_row_number", "_record_hash", "_ingested_at"}
QUARANTINE = LINEAGE | {"rule_id", "reason", "raw", "quarantined_at"}


def minimal(**overrides) -> dict:
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
        "columns": [{"name": "a", "type": "string", "name_zh": "甲", "classification": "一般"}],
    }
    data.update(overrides)
    return data


def test_every_contract_loads_and_matches_its_path() -> None:
    catalog = load_catalog()
    assert len(catalog) == len(list(CONTRACTS_DIR.glob("*/*.yaml")))
    for name, contract in catalog.items():
        assert name == f"{contract.path.parent.name}.{contract.path.stem}"


def test_bronze_silver_quarantine_carry_lineage_and_quarantine_schema() -> None:
    catalog = load_catalog()
    for contract in catalog.values():
        cols = set(contract.column_names)
        # row-level tables: bronze, and silver tables built row by row from bronze (they have a
        # quarantine); derived silver tables (master, intervals, reviews, references) do not
        if contract.layer == "bronze" or f"quarantine.silver_{contract.table}" in catalog:
            assert cols >= LINEAGE, contract.name
        if contract.layer == "quarantine":
            assert cols >= QUARANTINE, contract.name


def test_bronze_columns_map_every_source_header() -> None:
    contract = load_catalog()["bronze.gov_stats_monthly"]
    assert contract.source_headers["工业总产值(万元)"] == "gross_output"
    assert all(c.type == "string" for c in contract.columns if c.source_header)


def test_table_level_is_highest_column_level() -> None:
    contract = parse_contract(
        minimal(
            columns=[
                {"name": "a", "type": "string", "name_zh": "甲", "classification": "一般"},
                {"name": "b", "type": "int", "name_zh": "乙", "classification": "重要"},
            ]
        )
    )
    assert contract.classification == "重要"
    assert parse_contract(minimal(classification="核心")).classification == "核心"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"owner": "someone"}, "owner"),
        (
            {"columns": [{"name": "A b", "type": "string", "name_zh": "甲", "classification": "一般"}]},
            "columns/0/name",
        ),
        (
            {"columns": [{"name": "a", "type": "varchar", "name_zh": "甲", "classification": "一般"}]},
            "columns/0/type",
        ),
        (
            {"columns": [{"name": "a", "type": "string", "name_zh": "甲", "classification": "秘密"}]},
            "columns/0/classification",
        ),
        ({"primary_key": ["missing"]}, "primary_key names unknown columns"),
        (
            {"columns": [{"name": "a", "type": "string", "name_zh": "甲", "classification": "一般"}] * 2},
            "duplicate columns",
        ),
    ],
)
def test_invalid_contracts_name_the_field(overrides: dict, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        parse_contract(minimal(**overrides), Path("contracts/gold/t.yaml"))


def test_downgrade_must_lower_the_level() -> None:
    col = {
        "name": "a",
        "type": "string",
        "name_zh": "甲",
        "classification": "重要",
        "downgrade": {"from": "一般", "reason": "x"},
    }
    with pytest.raises(ContractError, match="downgrade must lower"):
        parse_contract(minimal(columns=[col]))


def test_file_path_must_match_declared_table(tmp_path: Path) -> None:
    path = tmp_path / "silver" / "other.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(minimal(), allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContractError, match=r"declares gold\.t but its path says silver\.other"):
        load_contract_file(path)


def test_generated_dbt_yaml_is_current() -> None:
    found = problems()
    assert not found, "\n".join([*found, "run `ibrain catalog dbt-yaml`"])


def test_exports_only_from_contracts_with_general_columns() -> None:
    for contract in load_catalog().values():
        if contract.exports:
            assert any(c.exportable for c in contract.columns), contract.name
