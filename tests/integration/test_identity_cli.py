"""Accounts, logins and separated duties through the real `ibrain` command (no engine): a deployment
(IBRAIN_ENV unset) starts with nothing; the first admin creates people and an app; refusals are
audited as refused; failed logins lock the account; an exposed key file stops the command; and no
planted secret (passwords, AppSecret, tokens, key bytes) appears in any output, log or table."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.support.cli import BIN, clean_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ~30 CLI processes, ~2 minutes on 2 busy cores

ROOT_PASSWORD = "Canary-Root-Pw-7141"
ENGINEER_PASSWORD = "Canary-Ops-Pw-5523"
AUDITOR_PASSWORD = "Canary-Sec-Pw-9087"
# columns that hold argon2 hashes of secrets (the only place anything derived from a secret may be)
HASH_COLUMNS = {("identity_user", "password_hash"), ("identity_app", "secret_hash")}


class Cli:
    """Runs `ibrain` with one environment and keeps every output for the canary search."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.outputs: list[str] = []

    def __call__(
        self, *args: str, stdin: str = "", token: str | None = None, ok: bool = True, keep: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = clean_env(self.env | ({"IBRAIN_TOKEN": token} if token else {}))
        proc = subprocess.run(
            [str(BIN / "ibrain"), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
        )
        if keep:
            self.outputs += [proc.stdout, proc.stderr]
        if ok is not None and (proc.returncode == 0) != ok:
            raise AssertionError(
                f"ibrain {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc


def deployment_env(tmp_path: Path) -> dict[str, str]:
    """A deployment (no IBRAIN_ENV): keys and the token file named explicitly, outside the lake."""
    return {
        "IBRAIN_LAKE_ROOT": str(tmp_path / "lake"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "IBRAIN_TOKEN_KEY_FILE": str(tmp_path / "keys" / "token.json"),
        "IBRAIN_TOKEN_FILE": str(tmp_path / "config" / "token"),
        "IBRAIN_LOGIN_MAX_FAILURES": "3",
    }


def audit_rows(db: Path) -> list[tuple[str, str, str, str]]:
    with create_engine(f"sqlite:///{db}").connect() as connection:
        query = "SELECT principal, event_type, object, result FROM audit_record ORDER BY seq"
        return [tuple(r) for r in connection.execute(text(query))]


def test_without_demo_mode_nothing_exists(tmp_path: Path) -> None:
    env = {"IBRAIN_LAKE_ROOT": str(tmp_path / "lake"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    cli = Cli(env)
    assert "no accounts exist" in cli("run", ok=False).stderr
    assert "IBRAIN_TOKEN_KEY_FILE is not set (no default key outside IBRAIN_ENV=demo)" in cli(
        "login", "admin", stdin="x\n", ok=False
    ).stderr.replace("\n", " ")
    assert "runs only with IBRAIN_ENV=demo" in cli("demo", ok=False).stderr
    assert "IBRAIN_TOKEN_KEY_FILE is not set" in cli("keys", "init", "token", ok=False).stderr
    with create_engine(f"sqlite:///{tmp_path / 'ibrain-state.db'}").connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM identity_user")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM identity_app")).scalar() == 0
    assert not (tmp_path / "keys").exists()


def test_accounts_duties_lockout_exposed_key_and_canaries(tmp_path: Path) -> None:
    env = deployment_env(tmp_path)
    cli = Cli(env)
    db = tmp_path / "ibrain-state.db"
    cli("keys", "init", "token")
    cli("account", "bootstrap-admin", "--login", "chief", "--name", "Root", "--org-name", "平台",
        "--region", "210000", "--secret-stdin", stdin=f"{ROOT_PASSWORD}\n")  # fmt: skip
    again = cli("account", "bootstrap-admin", "--login", "chief2", "--name", "R", "--org-name", "平台",
                "--region", "210000", "--secret-stdin", stdin=f"{ROOT_PASSWORD}\n", ok=False)  # fmt: skip
    assert "only on an empty database" in again.stderr

    assert "token in" in cli("login", "chief", "--secret-stdin", stdin=f"{ROOT_PASSWORD}\n").stdout
    token_file = Path(env["IBRAIN_TOKEN_FILE"])
    assert token_file.stat().st_mode & 0o777 == 0o600
    root_token = token_file.read_text()
    cli(
        "account",
        "create-org",
        "dl-stats",
        "--name",
        "大连市统计局",
        "--type",
        "gov_bureau",
        "--region",
        "210200",
    )
    bad_uscc = cli("account", "create-org", "acme", "--name", "某公司", "--type", "enterprise",
                   "--region", "210102", "--uscc", "91210100MA0QC3L401", ok=False)  # fmt: skip
    assert "check digit 1, expected K" in bad_uscc.stderr
    cli("account", "create-user", "eng", "--name", "工程师", "--org", "dl-stats", "--secret-stdin",
        stdin=f"{ENGINEER_PASSWORD}\n")  # fmt: skip
    cli("account", "create-user", "aud", "--name", "审计员", "--org", "platform", "--secret-stdin",
        stdin=f"{AUDITOR_PASSWORD}\n")  # fmt: skip
    cli("account", "assign-role", "eng", "data_engineer")
    cli("account", "assign-role", "aud", "security_auditor")
    conflict = cli("account", "assign-role", "chief", "security_auditor", ok=False)
    assert "separated duties" in conflict.stderr
    created = cli("account", "create-app", "省平台", "--org", "platform", keep=False).stdout
    app_key = created.split("AppKey:", 1)[1].split()[0]
    app_secret = created.split("AppSecret:", 1)[1].split()[0]
    listed = cli("account", "list").stdout
    assert "user:eng" in listed and "data_engineer" in listed and "4 accounts" in listed

    # the auditor and the engineer are refused what is not theirs, before anything runs
    aud_token = cli("login", "aud", "--secret-stdin", "--print-token", stdin=f"{AUDITOR_PASSWORD}\n",
                    keep=False).stdout.strip()  # fmt: skip
    eng_token = cli("login", "eng", "--secret-stdin", "--print-token", stdin=f"{ENGINEER_PASSWORD}\n",
                    keep=False).stdout.strip()  # fmt: skip
    write = cli("account", "create-user", "x1", "--name", "X", "--org", "platform", "--secret-stdin",
                stdin="Another-Pass-123\n", token=aud_token, ok=False)  # fmt: skip
    assert (
        "refused: user:aud may not account.manage: the security auditor cannot change anything"
        in write.stderr
    )
    withdraw = cli("batch", "withdraw", "b0000000000000000", "--reason", "x", token=aud_token, ok=False)
    assert "the security auditor cannot change anything" in withdraw.stderr
    admin_op = cli("maintain", token=root_token, ok=False)
    assert "refused: user:chief may not ops.maintain: needs the role data_engineer" in admin_op.stderr
    eng_admin = cli("account", "disable", "aud", token=eng_token, ok=False)
    assert "needs the role system_admin (holds data_engineer)" in eng_admin.stderr
    assert "roles: data_engineer" in cli("whoami", token=eng_token).stdout

    # the app exchanges its secret for a short-lived token
    app_token = cli("login", "--app", app_key, "--secret-stdin", "--print-token", stdin=f"{app_secret}\n",
                    keep=False).stdout.strip()  # fmt: skip
    assert f"app:{app_key}" in cli("whoami", token=app_token).stdout

    # three failed logins lock the account: then even the right password is refused
    for _ in range(3):
        cli("login", "eng", "--secret-stdin", stdin="Wrong-Password-0\n", ok=False)
    locked = cli("login", "eng", "--secret-stdin", stdin=f"{ENGINEER_PASSWORD}\n", ok=False)
    assert "account locked until" in locked.stderr

    # keys: made by the CLI itself before any account exists, by the admin after; never by others
    key_by_engineer = cli("keys", "rotate", "token", token=eng_token, ok=False)
    assert "refused: user:eng may not key.manage: needs the role system_admin" in key_by_engineer.stderr
    old_key = json.loads(Path(env["IBRAIN_TOKEN_KEY_FILE"]).read_text())["keys"][0]["private"]
    assert "rotated:" in cli("keys", "rotate", "token", token=root_token).stdout
    assert "roles: data_engineer" in cli("whoami", token=eng_token).stdout  # the retired key still verifies

    # a token key readable by others stops whatever needs it
    key_file = Path(env["IBRAIN_TOKEN_KEY_FILE"])
    key_file.chmod(0o644)
    exposed = cli("whoami", token=eng_token, ok=False)
    assert f"{key_file}: key file is accessible by group or others" in exposed.stderr
    key_file.chmod(0o600)

    rows = audit_rows(db)
    assert ("user:aud", "account.create", "user:x1", "refused") in rows
    assert ("user:aud", "ops.withdraw", "batch:b0000000000000000", "refused") in rows
    assert ("user:chief", "ops.maintain", "lake", "refused") in rows
    assert ("user:eng", "account.disable", "user:aud", "refused") in rows
    assert ("user:chief", "role.assign", "user:chief", "failure") in rows
    assert rows.count(("user:eng", "auth.login", "user:eng", "failure")) == 4  # 3 wrong + 1 locked
    assert ("system:bootstrap", "account.create", "user:chief", "success") in rows
    assert (f"app:{app_key}", "auth.token", f"app:{app_key}", "success") in rows
    assert ("system:ibrain-cli", "key.init", "key:token", "success") in rows
    assert ("user:eng", "key.rotate", "key:token", "refused") in rows
    assert ("user:chief", "key.rotate", "key:token", "success") in rows

    # canaries: no secret in any output, log file or table (but the hashes of secrets)
    key_bytes = [old_key, *(k["private"] for k in json.loads(key_file.read_text())["keys"] if "private" in k)]
    canaries = [ROOT_PASSWORD, ENGINEER_PASSWORD, AUDITOR_PASSWORD, app_secret, root_token, aud_token,
                eng_token, app_token, *key_bytes]  # fmt: skip
    texts = list(cli.outputs)
    for folder, _, files in os.walk(tmp_path / "dagster"):
        texts += [Path(folder, f).read_text(errors="replace") for f in files]
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            columns = [
                c["name"]
                for c in inspect(engine).get_columns(table)
                if (table, c["name"]) not in HASH_COLUMNS
            ]
            for row in connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}")):
                texts.append(" ".join(str(v) for v in row))
    assert len(texts) > 40
    for canary in canaries:
        assert len(canary) > 12
        leaks = [t[:200] for t in texts if canary in t]
        assert not leaks, f"secret {canary[:4]}… found in {leaks}"
