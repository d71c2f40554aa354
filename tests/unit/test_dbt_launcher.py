"""The environment dbt is given (transforms/dbt_launcher.py): computed, not taken from import."""

import os
from pathlib import Path

import pytest

from transforms.dbt_launcher import DBT_PROJECT_DIR, dbt_environment, environment_for_dbt


def test_a_relative_lake_root_is_resolved_and_defaults_fill_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = dbt_environment({"IBRAIN_LAKE_ROOT": "var/lake", "DO_NOT_TRACK": "0", "PATH": "/bin"})
    # dbt runs in the project folder: a relative root would point elsewhere there
    assert env["IBRAIN_LAKE_ROOT"] == str(tmp_path / "var" / "lake")
    assert env["IBRAIN_DBT_TARGET"] == "embedded"
    assert env["DBT_PROJECT_DIR"] == env["DBT_PROFILES_DIR"] == str(DBT_PROJECT_DIR)
    assert env["DBT_INDIRECT_SELECTION"] == "buildable"
    assert (env["DO_NOT_TRACK"], env["PATH"]) == ("0", "/bin")  # what the environment says is kept


def test_the_environment_is_set_for_the_call_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBRAIN_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "eager")
    monkeypatch.delenv("IBRAIN_DBT_TARGET", raising=False)
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    before = dict(os.environ)
    with environment_for_dbt():
        assert os.environ["IBRAIN_DBT_TARGET"] == "embedded" and os.environ["DO_NOT_TRACK"] == "1"
        assert os.environ["DBT_INDIRECT_SELECTION"] == "eager"
    assert dict(os.environ) == before
    with pytest.raises(RuntimeError), environment_for_dbt():
        raise RuntimeError("dbt failed to start")
    assert dict(os.environ) == before
