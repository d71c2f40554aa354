"""dbt on the real engine, on a fresh temporary lake: the adapter reads a Delta table's columns
(Sail's DESCRIBE returns none; macros/columns.sql), the project's dbt unit tests pass, and a
`table` model commits a new version only when its rows change (macros/table_unchanged.sql).

The lake gets the silver tables (empty, from their contracts) and every model built empty
(``ibrain-dbt run --empty``): dbt types a unit test's fixture rows by its input relations' columns.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import load_catalog
from catalog.spark_schema import struct_type
from catalog.tables import LakeTables
from ibrain import delta
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.conftest import lake_env
from tests.support.cli import clean_env
from transforms.dbt_launcher import DBT_PROJECT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # dbt on a fresh lake: ~30 s

LAUNCHER = Path(sys.executable).with_name("ibrain-dbt")
UNIT_TESTS_DIR = DBT_PROJECT_DIR / "tests" / "unit"


@dataclass(frozen=True)
class DbtLake:
    env: dict[str, str]
    target: Path

    def dbt(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``ibrain-dbt`` on this lake, writing its target/ and logs beside it (not the project's)."""
        paths = ["--target-path", str(self.target), "--log-path", str(self.target.parent / "logs")]
        return subprocess.run(
            [str(LAUNCHER), *args, *paths],
            env=clean_env(self.env),
            cwd=DBT_PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def run_results(self) -> list[dict[str, Any]]:
        return json.loads((self.target / "run_results.json").read_text(encoding="utf-8"))["results"]


@pytest.fixture(scope="module")
def dbt_lake(tmp_path_factory: pytest.TempPathFactory) -> DbtLake:
    base = tmp_path_factory.mktemp("dbt_lake")
    env = lake_env(base)
    tables = LakeTables(lake=Lake(Settings.from_env(env)))
    for contract in load_catalog().values():
        if contract.layer == "silver":
            tables.ensure(contract)
    lake = DbtLake(env=env, target=base / "target")
    seeded = lake.dbt("seed")  # reference data the models join (the exchange indicators read a seed)
    assert seeded.returncode == 0, seeded.stdout[-5000:]
    built = lake.dbt("run", "--empty")
    assert built.returncode == 0, built.stdout[-5000:]
    return lake


def test_get_columns_in_relation_reads_a_delta_tables_columns(dbt_lake: DbtLake) -> None:
    """Names and Spark types of a model built by dbt and of a silver table, as their contracts
    declare them; a missing relation has none (as dbt-spark answers for DESCRIBE)."""
    listed = (
        "{% for c in adapter.get_columns_in_relation(RELATION) %}{{ c.name }} {{ c.data_type }};{% endfor %}"
    )
    missing = "api.Relation.create(schema='gold', identifier='no_such_table')"
    inline = ", ".join(
        f"'{listed.replace('RELATION', relation)}' as {alias}"
        for alias, relation in [
            ("fact", "ref('fct_enterprise_month')"),
            ("offers", "source('silver', 'capacity_offer')"),
            ("missing", missing),
        ]
    )
    shown = dbt_lake.dbt("--quiet", "show", "--inline", f"select {inline}", "--output", "json")
    assert shown.returncode == 0, shown.stdout[-5000:]
    [row] = json.loads(shown.stdout)["show"]
    catalog = load_catalog()
    for alias, name in [("fact", "gold.fct_enterprise_month"), ("offers", "silver.capacity_offer")]:
        columns = dict(c.split(" ") for c in row[alias].split(";") if c)
        assert columns == {c.name: c.type.replace(" ", "") for c in catalog[name].columns}, alias
    assert "decimal(18,2)" in row["offers"] and "date" in row["offers"]
    assert row["missing"] == ""


def test_dbt_unit_tests_pass_on_a_fresh_lake(dbt_lake: DbtLake) -> None:
    declared = {
        case["name"]
        for path in UNIT_TESTS_DIR.glob("*.yml")
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["unit_tests"]
    }
    assert len(declared) >= 7
    ran = dbt_lake.dbt("test", "--select", "test_type:unit")
    results = {r["unique_id"].split(".")[-1]: r["status"] for r in dbt_lake.run_results()}
    assert ran.returncode == 0, ran.stdout[-8000:]
    assert results == dict.fromkeys(declared, "pass")


def test_a_table_model_is_rewritten_only_when_its_rows_change(dbt_lake: DbtLake) -> None:
    """macros/table_unchanged.sql: a `table` model whose query returns the rows its table holds
    commits nothing; when an input changes its rows, it is rebuilt (one new Delta version)."""
    tables = LakeTables(lake=Lake(Settings.from_env(dbt_lake.env)))
    lake = tables.lake

    def build() -> dict[str, tuple[str, int]]:
        """dbt's message and the table's Delta version, per model."""
        ran = dbt_lake.dbt("run", "--select", "dim_industry", "dim_region")
        assert ran.returncode == 0, ran.stdout[-5000:]
        messages = {r["unique_id"].split(".")[-1]: r["message"] for r in dbt_lake.run_results()}
        return {m: (messages[m], delta.version(lake, lake.ref("gold", m))) for m in messages}

    # both built empty by the fixture; one row added to dim_industry's input
    industry, region = (delta.version(lake, lake.ref("gold", m)) for m in ("dim_industry", "dim_region"))
    ref_industry = load_catalog()["silver.ref_industry"]
    section = {"code": "C", "name": "制造业", "level": "section", "parent_code": None, "section_code": "C",
               "division_code": None}  # fmt: skip
    tables.append(ref_industry, tables.spark.createDataFrame([section], struct_type(ref_industry)))
    built = build()
    assert built["dim_industry"][1] == industry + 1 and built["dim_industry"][0] != "UNCHANGED"
    assert built["dim_region"] == ("UNCHANGED", region)  # its input is still empty, as is the table
    rows = tables.spark.table("gold.dim_industry").collect()
    assert [(r.industry_code, r.section_name, r.division_name) for r in rows] == [("C", "制造业", None)]

    # and again with nothing new: the table's one row (with nulls) equals the query's
    assert build() == {"dim_industry": ("UNCHANGED", industry + 1), "dim_region": ("UNCHANGED", region)}
