"""`ibrain ingest` as an operator uses it: one file now, a correction, a corrupt file."""

from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain.lake import Lake
from ibrain.settings import Settings
from simulators import simulate
from simulators.defects import Defects
from tests.conftest import lake_env
from tests.support.cli import run_cli
from tests.support.identity import engineer_env

pytestmark = [pytest.mark.e2e, pytest.mark.scenario]


def test_ingest_one_file_then_a_correction_then_a_corrupt_file(tmp_path: Path) -> None:
    env = engineer_env(lake_env(tmp_path))
    sim = simulate(
        tmp_path / "sim", 0.03, 5, "2024-03:2024-03", Defects(corrupt_file=0), sources=("gov_stats_monthly",)
    )
    first, second = sim.files["gov_stats_monthly"][:2]
    out = run_cli(["ingest", "gov_stats_monthly", "--path", str(first)], env).stdout
    assert "landed 1;" in out and "ingest_monthly run" in out and "SUCCESS" in out
    tables = LakeTables(lake=Lake(Settings.from_env(env)))
    unit = first.name.split("_")[3]
    rows = tables.read("bronze", "gov_stats_monthly").filter(f"reporting_unit = '{unit}'").count()
    assert rows > 0

    # the same file again: a no-op, nothing pending
    again = run_cli(["ingest", "gov_stats_monthly", "--path", str(first)], env).stdout
    assert "landed 0; 1 unchanged" in again and "nothing pending" in again

    # a correction for the same city and month replaces only that city-month
    run_cli(["ingest", "gov_stats_monthly", "--path", str(second)], env)
    other_unit = second.name.split("_")[3]
    before_other = (
        tables.read("bronze", "gov_stats_monthly").filter(f"reporting_unit = '{other_unit}'").count()
    )
    corrected = tmp_path / "corrected" / first.name
    corrected.parent.mkdir()
    lines = first.read_bytes().splitlines(keepends=True)
    corrected.write_bytes(b"".join(lines[:4] + lines[5:]))  # one enterprise line withdrawn
    run_cli(["ingest", "gov_stats_monthly", "--path", str(corrected)], env)
    bronze = tables.read("bronze", "gov_stats_monthly")
    assert bronze.filter(f"reporting_unit = '{unit}'").count() == rows - 1
    assert bronze.filter(f"reporting_unit = '{other_unit}'").count() == before_other

    # an unreadable file: moved to landing/_rejected with a reason, the run fails naming it
    broken = tmp_path / "broken" / f"gov_stats_monthly_{unit}_202404.csv"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xfe\xff garbage")
    proc = run_cli(["ingest", "gov_stats_monthly", "--path", str(broken)], env, check=False)
    assert proc.returncode == 1
    assert broken.name in proc.stdout and "not UTF-8 or GBK" in proc.stdout
    lake = tables.lake
    rejected = lake.list_files(lake.uri("landing", "_rejected", "gov_stats_monthly"))
    assert any(p.endswith(broken.name) for p in rejected)
    assert any(p.endswith(".reason.txt") for p in rejected)
    assert not lake.list_files(lake.uri("landing", "gov_stats_monthly", "2024-04"))
