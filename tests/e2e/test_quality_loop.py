"""The quality loop end to end (issue 6): a city's statistics file with 30 % invalid USCCs, dropped
into the inbox of a new lake, fails the blocking check — silver is written, nothing downstream is
built (no gold, no export model) — and a dq_issue opens; the corrected file for the same city and month
makes the rule pass, closes the issue, and gold and the export models follow.

Two `ibrain run`s on one source: the pipeline is run only as often as the story needs.
"""

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

SOURCE = "gov_stats_monthly"
FILE = "gov_stats_monthly_210100_202402.csv"  # Shenyang, February: about 60 enterprises (≥ 50: judged alone)
ISSUE = "silver.enterprise_month_stats:uscc_check_digit"
EXPORT = ("exchange", "zhgl_economic_city_chain_month")  # an export model (Delta table)


def issue(tables: LakeTables):
    rows = tables.read("quality", "dq_issue").filter(f"issue_id = '{ISSUE}'").collect()
    return rows[0] if rows else None


def delivered_file(out: Path, invalid_uscc: float) -> bytes:
    """Shenyang's February file; the two versions differ only in the USCCs broken."""
    defects = Defects(corrupt_file=0, invalid_uscc=invalid_uscc)
    sim = simulate(out, 0.1, 42, "2024-01:2024-02", defects, sources=(SOURCE,))
    [path] = [p for p in sim.files[SOURCE] if p.name == FILE]
    return path.read_bytes()


def test_a_bad_file_blocks_opens_an_issue_and_its_correction_closes_it(tmp_path: Path) -> None:
    env = engineer_env(lake_env(tmp_path / "lake"))
    lake = Lake(Settings.from_env(env))
    inbox = lake.uri("landing", "_inbox", SOURCE, FILE)
    bad, good = delivered_file(tmp_path / "bad", 0.3), delivered_file(tmp_path / "good", 0)
    assert bad != good

    lake.write_bytes(inbox, bad)
    blocked = run_cli(["run"], env, check=False)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "FAILED [ERROR] silver/enterprise_month_stats :: uscc_check_digit" in blocked.stdout
    assert lake.is_delta_table(lake.table_uri("silver", "enterprise_month_stats"))
    assert not lake.is_delta_table(lake.table_uri("gold", "fct_enterprise_month"))
    assert not lake.is_delta_table(lake.uri(*EXPORT))

    tables = LakeTables(lake=Lake(Settings.from_env(env)))
    [bad_batch] = [r.batch_id for r in tables.read("audit", "ingest_ledger").collect()]
    opened = issue(tables)
    assert opened is not None and opened.status == "open"
    assert opened.severity == "ERROR" and opened.dimension == "准确性"
    assert opened.failing_periods == "2024-02" and opened.failing_batches == bad_batch
    assert opened.affected_rows >= 10
    assert "uscc" in (opened.sample_rows or "").lower() and opened.owner.startswith("team:")
    failing = tables.read("quality", "dq_result").filter(
        "dataset = 'silver.enterprise_month_stats' and rule_id = 'uscc_check_digit' and not passed"
    )
    rows = failing.collect()
    assert len(rows) == 1, [(r.batch_id, r.period, r.a_passed, r.b_checked, r.x_ratio) for r in rows]
    [row] = rows
    assert row.batch_id == bad_batch and row.b_checked >= 50 and row.x_ratio < row.threshold
    assert row.b_checked - row.a_passed == opened.affected_rows

    # The corrected file for the same city and month: the rule passes, the issue closes, and the
    # pipeline goes on to gold and the export.
    lake.write_bytes(inbox, good)
    healed = run_cli(["run"], env)
    assert "FAILED [ERROR]" not in healed.stdout
    closed = issue(tables)
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.first_seen == opened.first_seen
    ledger = {r.batch_id: r.status for r in tables.read("audit", "ingest_ledger").collect()}
    assert ledger.pop(bad_batch) == "superseded" and list(ledger.values()) == ["loaded"]
    silver = tables.read("silver", "enterprise_month_stats")
    assert silver.filter(f"_batch_id = '{bad_batch}'").count() == 0
    assert tables.read("gold", "fct_enterprise_month").count() == silver.count() > 0
    assert lake.is_delta_table(lake.uri(*EXPORT))
