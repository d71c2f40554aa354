"""The quality loop end to end (issue 6): a statistics file with 30 % invalid USCC fails the blocking
check, nothing downstream is built in that run, a dq_issue opens; the corrected file for the same
city and month makes the rule pass and closes the issue."""

import shutil
from pathlib import Path

import pytest

from catalog.tables import LakeTables
from ibrain import delta
from ibrain.lake import Lake
from ibrain.settings import Settings
from tests.conftest import lake_env
from tests.support.cli import run_cli

pytestmark = pytest.mark.e2e

SIMULATION = ["--scale", "0.1", "--months", "2024-01:2024-02", "--source", "gov_stats_monthly",
              "--defect", "corrupt_file=0", "--defect", "invalid_uscc=0"]  # fmt: skip
FILE = "gov_stats_monthly_210100_202402.csv"  # Shenyang, February: about 60 enterprises
ISSUE = "silver.enterprise_month_stats:uscc_check_digit"


def issue(tables: LakeTables):
    rows = tables.read("quality", "dq_issue").filter(f"issue_id = '{ISSUE}'").collect()
    return rows[0] if rows else None


def test_a_bad_file_blocks_opens_an_issue_and_its_correction_closes_it(tmp_path: Path) -> None:
    env = lake_env(tmp_path / "lake")
    run_cli(["simulate", *SIMULATION, "--out", str(tmp_path / "good"), "--land"], env)
    first = run_cli(["run"], env)
    assert "ibrain_pipeline run" in first.stdout and "FAILED [ERROR]" not in first.stdout

    settings = Settings.from_env({**env})
    tables = LakeTables(lake=Lake(settings))
    fact = tables.lake.ref("gold", "fct_enterprise_month")
    version_before = delta.version(tables.lake, fact)
    assert issue(tables) is None

    # The city re-delivers February with 30 % of its USCCs broken (same rows otherwise).
    run_cli(["simulate", *SIMULATION[:-1], "invalid_uscc=0.3", "--out", str(tmp_path / "bad")], env)
    bad = tmp_path / "deliveries" / "bad" / FILE
    bad.parent.mkdir(parents=True)
    shutil.copy(tmp_path / "bad" / "gov_stats_monthly" / FILE, bad)
    run_cli(["ingest", "gov_stats_monthly", "--path", str(bad)], env)
    blocked = run_cli(["run"], env, check=False)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "FAILED [ERROR] silver/enterprise_month_stats :: uscc_check_digit" in blocked.stdout
    assert delta.version(tables.lake, fact) == version_before  # gold was not built in that run

    opened = issue(tables)
    assert opened is not None and opened.status == "open"
    assert opened.severity == "ERROR" and opened.dimension == "准确性"
    assert opened.failing_periods == "2024-02" and opened.affected_rows >= 10
    assert "uscc" in (opened.sample_rows or "").lower() and opened.owner.startswith("team:")
    failing = tables.read("quality", "dq_result").filter(
        "dataset = 'silver.enterprise_month_stats' and rule_id = 'uscc_check_digit' and not passed"
    )
    rows = failing.collect()
    assert len(rows) == 1, [(r.batch_id, r.period, r.a_passed, r.b_checked, r.x_ratio) for r in rows]
    [row] = rows
    assert row.batch_id in opened.failing_batches and row.x_ratio < row.threshold
    assert row.x_ratio == pytest.approx(row.a_passed / row.b_checked, abs=1e-6)

    # The corrected file for the same city and month: the rule passes again and the issue closes.
    good = tmp_path / "deliveries" / "good" / FILE
    good.parent.mkdir(parents=True)
    shutil.copy(tmp_path / "good" / "gov_stats_monthly" / FILE, good)
    run_cli(["ingest", "gov_stats_monthly", "--path", str(good)], env)
    healed = run_cli(["run"], env)
    assert "FAILED [ERROR]" not in healed.stdout
    closed = issue(tables)
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.first_seen == opened.first_seen
    assert delta.version(tables.lake, fact) > version_before  # gold follows again
