from pathlib import Path

import pytest

from ibrain.settings import REPO_ROOT, Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.lake_root == str(REPO_ROOT / "var" / "lake")
    assert s.dagster_home == REPO_ROOT / "var" / "dagster"
    assert s.spark_remote is None
    assert s.dbt_target == "embedded"
    assert not s.is_s3


def test_blank_spark_remote_is_unset() -> None:
    assert Settings.from_env({"SPARK_REMOTE": "  "}).spark_remote is None
    assert Settings.from_env({"SPARK_REMOTE": "sc://h:15002"}).spark_remote == "sc://h:15002"


def test_relative_lake_root_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({"IBRAIN_LAKE_ROOT": "lake/"}).lake_root == str(tmp_path / "lake")


def test_dagster_home_must_be_absolute() -> None:
    with pytest.raises(SettingsError, match="DAGSTER_HOME"):
        Settings.from_env({"DAGSTER_HOME": "var/dagster"})


def test_s3_root_needs_credentials() -> None:
    with pytest.raises(SettingsError, match="AWS_ACCESS_KEY_ID"):
        Settings.from_env({"IBRAIN_LAKE_ROOT": "s3://lake/x"})
    s = Settings.from_env(
        {
            "IBRAIN_LAKE_ROOT": "s3://lake/x/",
            "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ALLOW_HTTP": "true",
        }
    )
    assert s.lake_root == "s3://lake/x"
    options = s.s3.storage_options()
    assert options["AWS_ALLOW_HTTP"] == "true"
    assert options["conditional_put"] == "etag"


@pytest.mark.parametrize("root", ["s3a://lake/x", "gs://lake/x"])
def test_unsupported_schemes(root: str) -> None:
    with pytest.raises(SettingsError, match="IBRAIN_LAKE_ROOT"):
        Settings.from_env({"IBRAIN_LAKE_ROOT": root})


def test_unknown_dbt_target() -> None:
    with pytest.raises(SettingsError, match="IBRAIN_DBT_TARGET"):
        Settings.from_env({"IBRAIN_DBT_TARGET": "prod"})
