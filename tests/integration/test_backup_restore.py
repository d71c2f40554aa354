"""Backup and restore as docs/operations.md describes it, on a small local site: two Delta tables,
an audit trail with a signed checkpoint, the SQLite state database and the key files. After the
restore into another folder, ``ibrain audit verify`` passes and the lake fingerprint matches."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ibrain import delta
from ibrain.fingerprint import differences, lake_fingerprint, load
from ibrain.lake import Lake
from ibrain.settings import Settings
from ibrain.spark import spark_session
from security.audit.checkpoints import create_checkpoint
from security.audit.trail import record
from security.db import transaction
from security.keys import init_key
from tests.conftest import dagster_home
from tests.support.audit import ACTOR, log_in, ready_engine
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

AT = dt.datetime(2024, 5, 1, 8, 0)


def site_env(base: Path) -> dict[str, str]:
    """A production-like site (no IBRAIN_ENV=demo): lake, state database and key files named."""
    return {
        "IBRAIN_LAKE_ROOT": str(base / "lake"),
        "IBRAIN_INBOX": str(base / "inbox"),
        "DAGSTER_HOME": str(dagster_home(base)),
        "IBRAIN_DB_URL": f"sqlite:///{base / 'ibrain-state.db'}",
        "IBRAIN_AUDIT_CHECKPOINT_DIR": str(base / "audit-checkpoints"),
        "IBRAIN_TOKEN_KEY_FILE": str(base / "keys" / "token.json"),
        "IBRAIN_CHECKPOINT_KEY_FILE": str(base / "keys" / "checkpoint.json"),
        "IBRAIN_MASKING_KEY_FILE": str(base / "keys" / "masking.json"),
    }


def backup(site: Path, to: Path) -> None:
    """The commands of docs/operations.md ("Backup") for a local lake and a SQLite state database."""
    to.mkdir()
    subprocess.run(["cp", "-a", str(site / "lake"), str(to / "lake")], check=True)  # with _delta_log
    subprocess.run(
        ["sqlite3", str(site / "ibrain-state.db"), f".backup '{to / 'ibrain-state.db'}'"], check=True
    )
    subprocess.run(["cp", "-a", str(site / "keys"), str(site / "audit-checkpoints"), str(to)], check=True)


def test_a_restored_site_verifies_and_has_the_same_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, saved, restored = tmp_path / "site", tmp_path / "backup", tmp_path / "restored"
    env = site_env(site)
    monkeypatch.delenv("IBRAIN_ENV", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for purpose in ("token", "checkpoint", "masking"):
        init_key(purpose)
    assert oct((site / "keys" / "checkpoint.json").stat().st_mode & 0o777) == "0o600"

    spark = spark_session(Settings.from_env(env), attach=False)
    lake = Lake(Settings.from_env(env))
    schema = "id int, name string, x double"
    delta.append(
        spark, spark.createDataFrame([(1, "鞍山", 10.5), (2, "大连", None)], schema), lake.ref("bronze", "t1")
    )
    # a second Delta version of bronze.t1
    delta.append(spark, spark.createDataFrame([(3, "沈阳", 7.25)], schema), lake.ref("bronze", "t1"))
    t2 = spark.createDataFrame([("210100", AT.date())], "region string, period date")
    delta.append(spark, t2, lake.ref("gold", "t2"))
    engine = ready_engine(env["IBRAIN_DB_URL"])
    for name in ("bronze.t1", "gold.t2", "gold.t2"):
        with transaction(engine) as session:
            record(session, actor=ACTOR, event_type="data.read", object=name, result="success")
    # the security auditor who verifies after the restore (an account of the backed-up database)
    auditor_token = log_in(monkeypatch, engine, site, "aud", "security_auditor")
    create_checkpoint(engine)  # as the daily audit_trail job signs it
    engine.dispose()
    fingerprint = tmp_path / "fingerprint.json"
    run_cli(["lake", "fingerprint", "--out", str(fingerprint)], env)

    backup(site, saved)
    shutil.rmtree(site)  # the site is lost
    shutil.copytree(saved, restored, symlinks=True)  # restore: the backup's tree into a new place
    assert oct((restored / "keys" / "checkpoint.json").stat().st_mode & 0o777) == "0o600"
    new_env = {**site_env(restored), "IBRAIN_TOKEN": auditor_token}

    verified = run_cli(["audit", "verify", "--strict"], new_env).stdout
    assert "audit trail: 3 records" in verified and "checkpoints: 1 valid" in verified, verified
    assert "0 unanchored records" in verified and verified.rstrip().endswith("verified"), verified
    compared = run_cli(["lake", "fingerprint", "--compare", str(fingerprint)], new_env)
    assert f"same data as {fingerprint} (2 tables)" in compared.stdout

    # a copy without a table's _delta_log is not a restore: the fingerprint says so
    shutil.rmtree(restored / "lake" / "bronze" / "t1" / "_delta_log")
    restored_lake = Lake(Settings.from_env(new_env))
    assert differences(load(fingerprint), lake_fingerprint(spark, restored_lake)) == [
        "bronze.t1: missing (expected 3 rows)"
    ]
    # a restore with another checkpoint key fails the audit verification
    os.remove(restored / "keys" / "checkpoint.json")
    monkeypatch.setenv("IBRAIN_CHECKPOINT_KEY_FILE", new_env["IBRAIN_CHECKPOINT_KEY_FILE"])
    init_key("checkpoint")
    assert run_cli(["audit", "verify"], new_env, check=False).returncode == 1
