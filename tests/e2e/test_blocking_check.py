"""A blocking quality check stops bad data from flowing on (gold is not built)."""

import pytest

from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.conftest import lake_env
from tests.support.cli import run_cli

pytestmark = pytest.mark.e2e


def test_too_many_invalid_uscc_blocks_downstream(tmp_path) -> None:
    env = lake_env(tmp_path)
    run_cli(
        [
            "simulate",
            "--scale",
            "0.03",
            "--months",
            "2024-01:2024-02",
            "--source",
            "gov_stats_monthly",
            "--defect",
            "invalid_uscc=0.3",
            "--defect",
            "corrupt_file=0",
            "--land",
        ],
        env,
    )
    proc = run_cli(["run"], env, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED [ERROR] silver/enterprise_month_stats :: uscc_check_digit" in proc.stdout
    lake = Lake(Settings.from_env(env))
    assert lake.is_delta_table(lake.table_uri("silver", "enterprise_month_stats"))
    assert not lake.is_delta_table(lake.table_uri("gold", "fct_enterprise_month"))
    assert not lake.exists(lake.uri("exchange", "chain_output_month", "chain_output_month.csv"))
