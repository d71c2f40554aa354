"""What the terminal shows (ibrain_cli/console.py): the log file takes file descriptors 1 and 2 —
Python, native code, child processes — while the CLI's own lines and failures reach the terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ibrain.settings import REPO_ROOT
from ibrain_cli.common import RunsOnStage
from ibrain_cli.console import Stage, stage
from orchestration.run import RunProgress

SCRIPT = """
import logging, os, subprocess, sys
from pathlib import Path
from ibrain_cli.console import echo, fail, log_to_file

logging.basicConfig(level=logging.WARNING)
path, case = Path(sys.argv[1]), sys.argv[2]
with log_to_file(path, announce=True):
    echo("mine")
    if case != "silent":
        print("a library's print")
        os.write(2, b"native stderr\\n")
        subprocess.run(["sh", "-c", "echo child out; echo child err >&2"], check=True)
        logging.getLogger("dagster").info("an INFO record")
    if case == "raise":
        raise RuntimeError("boom")
    if case == "fail":
        fail("bad input")
echo("after")
"""


def run_script(tmp_path: Path, case: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    log = tmp_path / "logs" / "ibrain.log"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(log), case],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    return proc, log


LOGGED = ["a library's print", "native stderr", "child out", "child err", "INFO:dagster:an INFO record"]


def test_everything_but_the_cli_lines_goes_to_the_log_file(tmp_path: Path) -> None:
    proc, log = run_script(tmp_path, "ok")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"mine\nlog: {log}\nafter\n"
    assert proc.stderr == ""
    text = log.read_text()
    for line in LOGGED:
        assert line in text, line
    assert "mine" not in text


def test_an_exception_shows_the_log_path_and_the_traceback(tmp_path: Path) -> None:
    proc, log = run_script(tmp_path, "raise")
    assert proc.returncode == 1
    assert proc.stdout == "mine\n"
    assert proc.stderr.startswith(f"engine and library logs: {log}\n"), proc.stderr
    assert proc.stderr.rstrip().endswith("RuntimeError: boom")
    assert "RuntimeError: boom" in log.read_text()  # the traceback is kept with the logs


def test_a_failure_prints_the_error_and_the_log_path(tmp_path: Path) -> None:
    proc, log = run_script(tmp_path, "fail")
    assert proc.returncode == 1
    assert proc.stdout == "mine\n"
    assert proc.stderr == f"error: bad input\nengine and library logs: {log}\n"


def test_an_empty_log_is_removed_and_not_announced(tmp_path: Path) -> None:
    proc, log = run_script(tmp_path, "silent")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "mine\nafter\n"
    assert not log.exists()


def test_stages_print_one_plain_line_each_when_not_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with stage("ingest", unit="steps") as shown:
        shown.update(2, 3, "1 run, 2 materialisations")
    with stage("data map") as shown:
        shown.check(False)
    with pytest.raises(RuntimeError), stage("land"):
        raise RuntimeError("x")
    assert capsys.readouterr().out.splitlines() == [
        "✓ ingest       0:00:00  2/3 steps  1 run, 2 materialisations",
        "✗ data map     0:00:00",
        "✗ land         0:00:00",
    ]


def test_a_stage_adds_up_the_steps_of_its_runs() -> None:
    shown = Stage("pipeline", "steps")
    feed = RunsOnStage(shown)
    feed(RunProgress("ingest_monthly", "r1", 2, 1, 3, running=("bronze_a",)))
    assert (shown.done, shown.total, shown.detail) == (1, 2, "ingest_monthly: bronze_a; 3 materialisations")
    feed(RunProgress("ingest_monthly", "r1", 2, 2, 4, finished=True))
    feed(RunProgress("ingest_daily", "r2", 3, 0, 0, running=("a", "b")))
    assert (shown.done, shown.total, shown.detail) == (2, 5, "ingest_daily: a (+1); 4 materialisations")
    feed(RunProgress("ingest_daily", "r2", 3, 3, 5, finished=True))
    assert (shown.done, shown.total, shown.detail) == (5, 5, "2 runs, 9 materialisations")


def test_an_ingest_stage_counts_runs() -> None:
    shown = Stage("ingest", "runs")
    feed = RunsOnStage(shown)
    feed(RunProgress("ingest_monthly", "r1", 1, 0, 0, running=("bronze_a",), run_number=1, runs=3))
    assert (shown.done, shown.total) == (0, 3)
    feed(RunProgress("ingest_monthly", "r1", 1, 1, 2, finished=True, run_number=1, runs=3))
    feed(RunProgress("ingest_daily", "r2", 1, 1, 4, finished=True, run_number=2, runs=3))
    assert (shown.done, shown.total, shown.detail) == (2, 3, "2 runs, 6 materialisations")
    assert shown.line().endswith("2/3 runs  2 runs, 6 materialisations")
