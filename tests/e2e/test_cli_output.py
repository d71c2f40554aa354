"""A quiet CLI: at default verbosity ``ibrain ingest`` prints its own lines only (a stage line, the
run's report, the log's path) and the engine's and libraries' logs go to the log file; ``-v``
shows them live. Progress comes from the run's events while it runs (orchestration/run.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ibrain.settings import Settings
from orchestration.run import RunProgress, run_ingest
from simulators import simulate
from simulators.defects import Defects
from tests.conftest import lake_env
from tests.support.cli import run_cli
from tests.support.identity import engineer_env

pytestmark = pytest.mark.e2e

SAIL_LOG = re.compile(r"^\[\S+Z (WARN|INFO|ERROR) sail_", re.MULTILINE)  # the engine's Rust logging
DAGSTER_EVENT = " - RUN_SUCCESS - "  # Dagster's console logger


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    sim = simulate(
        tmp_path_factory.mktemp("sim"),
        0.03,
        5,
        "2024-03:2024-03",
        Defects(corrupt_file=0),
        sources=("gov_stats_monthly",),
    )
    return sim.files["gov_stats_monthly"][:3]


def test_default_verbosity_prints_no_log_lines_and_the_log_file_has_them(files, tmp_path: Path) -> None:
    env = engineer_env(lake_env(tmp_path))
    proc = run_cli(["ingest", "gov_stats_monthly", "--path", str(files[0])], env)
    lines = proc.stdout.splitlines()
    assert lines[0] == "landed 1; 0 unchanged (no-op)"
    assert re.fullmatch(r"✓ ingest {7}\d:\d\d:\d\d  1/1 runs  1 run, 2 materialisations", lines[1]), lines[1]
    assert lines[2].startswith("ingest_monthly run ") and ": SUCCESS; 2 assets materialised" in lines[2]
    assert lines[3].startswith("log: ") and len(lines) == 4, lines
    assert proc.stderr == ""

    log = Path(lines[3].removeprefix("log: "))
    assert log.parent == tmp_path / "dagster" / "logs" and log.name.startswith("ibrain-")
    text = log.read_text(encoding="utf-8")
    assert SAIL_LOG.search(text), text[-3000:]
    assert DAGSTER_EVENT in text
    assert "INFO ingest.bronze: gov_stats_monthly:" in text  # the project's own logging

    verbose = run_cli(["-v", "ingest", "gov_stats_monthly", "--path", str(files[1])], env)
    shown = verbose.stdout + verbose.stderr
    assert SAIL_LOG.search(verbose.stderr), verbose.stderr[-3000:]
    assert DAGSTER_EVENT in shown and "INFO ingest.bronze: gov_stats_monthly:" in shown
    assert "log: " not in verbose.stdout
    assert "✓ ingest " in verbose.stdout


def test_run_progress_is_followed_while_the_run_goes_on(
    files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.tables import LakeTables
    from ibrain.lake import Lake
    from ingest.ledger import land_files

    for key, value in lake_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    land_files(LakeTables(lake=Lake(Settings.from_env())), {"gov_stats_monthly": [files[2]]})
    seen: list[RunProgress] = []
    [outcome] = run_ingest(["gov_stats_monthly"], verbose=True, on_progress=seen.append)
    assert outcome.success
    *during, last = seen
    assert last == RunProgress("ingest_monthly", outcome.run_id, 1, 1, 2, finished=True)
    assert during, "no progress while the run went on"
    assert {p.run_id for p in during} == {outcome.run_id}
    assert all(p.steps_total == 1 and not p.finished for p in during)
    assert ("bronze_gov_stats_monthly",) in {p.running for p in during}
