import subprocess
import sys
from pathlib import Path

import pytest

from ibrain.settings import REPO_ROOT
from tests.support.cli import clean_env

BIN = Path(sys.executable).parent
COMMANDS = [
    "demo",
    "simulate",
    "serve-registry",
    "ingest",
    "backfill",
    "run",
    "summary",
    "maintain",
    "dev",
    "catalog",
    "quality-report",
    "batch",
    "review",
    "lake",
]


def test_help_lists_every_command() -> None:
    out = subprocess.run([str(BIN / "ibrain"), "--help"], capture_output=True, text=True, check=True)
    for command in COMMANDS:
        assert f"  {command} " in out.stdout, command


def test_each_command_has_help() -> None:
    for command in COMMANDS:
        out = subprocess.run([str(BIN / "ibrain"), command, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "Usage:" in out.stdout, command


def test_bad_settings_are_reported_clearly(tmp_path: Path) -> None:
    env = clean_env({"IBRAIN_LAKE_ROOT": "gs://bucket/x"})
    out = subprocess.run([str(BIN / "ibrain"), "summary"], capture_output=True, text=True, env=env)
    assert out.returncode == 1
    assert "error: IBRAIN_LAKE_ROOT='gs://bucket/x'" in out.stderr


@pytest.mark.slow
@pytest.mark.parametrize("dev_mode", [False, True], ids=["deployed", "dagster-dev"])
def test_dagster_definitions_validate(tmp_path: Path, dev_mode: bool) -> None:
    """The code location loads as deployed and as under `dagster dev` (which re-parses dbt)."""
    env = clean_env(
        {
            "DAGSTER_HOME": str(tmp_path),
            "IBRAIN_LAKE_ROOT": str(tmp_path / "lake"),
            **({"DAGSTER_IS_DEV_CLI": "1"} if dev_mode else {}),
        }
    )
    env["PATH"] = "/usr/bin:/bin"  # nothing from the venv on PATH, as when run from the UI
    out = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validation successful" in out.stdout + out.stderr
