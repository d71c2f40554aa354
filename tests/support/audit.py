"""Helpers for the audit trail tests: a state database with a checkpoint key, tampering as an
attacker with database access would (triggers out of the way), and a writer process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from security.actor import Actor
from security.db import make_engine, migrate, transaction

ACTOR = Actor("user:alice", "org:330100-bureau", "data_engineer")


def audit_env(monkeypatch: pytest.MonkeyPatch, base: Path, url: str) -> None:
    """Lake, state database and checkpoint key of a test; the export goes to ``base/audit-checkpoints``."""
    from security.keys import init_key

    monkeypatch.setenv("IBRAIN_LAKE_ROOT", str(base / "lake"))
    monkeypatch.setenv("IBRAIN_DB_URL", url)
    monkeypatch.setenv("IBRAIN_CHECKPOINT_KEY_FILE", str(base / "keys" / "checkpoint.json"))
    monkeypatch.delenv("IBRAIN_AUDIT_CHECKPOINT_DIR", raising=False)
    monkeypatch.delenv("IBRAIN_ENV", raising=False)
    init_key("checkpoint")


def ready_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


def without_triggers(engine: Engine, *statements: str, params: dict | None = None) -> None:
    """Run ``statements`` with the append-only triggers out of the way (raw SQL, as an attacker)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_record DISABLE TRIGGER USER")
            connection.exec_driver_sql("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
        else:
            for trigger in (
                "record_no_update",
                "record_no_delete",
                "checkpoint_no_update",
                "checkpoint_no_delete",
            ):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_{trigger}")
        for statement in statements:
            connection.execute(text(statement), params or {})


def write_actions(url: str, worker: int, count: int) -> None:
    """A writer process: ``count`` audited actions, each in a transaction of its own."""
    from security.audit.trail import record

    engine = make_engine(url)
    try:
        for number in range(count):
            with transaction(engine) as session:
                record(
                    session,
                    actor=Actor(f"app:worker-{worker}"),
                    event_type="data.read",
                    object=f"gold.fact_{worker}",
                    result="success",
                    params={"n": number},
                )
    finally:
        engine.dispose()


def log_in(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    base: Path,
    login: str,
    role: str,
    minutes_ago: int = 0,
) -> str:
    """Create ``login`` with ``role`` (and the platform organisation, the token key if missing)
    and put a token of a login ``minutes_ago`` old in ``IBRAIN_TOKEN``, as `ibrain login` would."""
    import datetime as dt

    from security.identity import accounts
    from security.identity.config import IdentityPolicy
    from security.keys import init_key, load_keyring

    monkeypatch.setenv("IBRAIN_TOKEN_KEY_FILE", str(base / "keys" / "token.json"))
    monkeypatch.setenv("IBRAIN_TOKEN_FILE", str(base / "no-token-file"))
    init_key("token")
    with transaction(engine) as session:
        if not session.execute(text("SELECT 1 FROM identity_org WHERE code = 'platform'")).first():
            accounts.create_org(session, "platform", "平台", "platform", "210000")
        accounts.create_user(session, login, login.title(), "platform", "Tamper-Proof-Pass-2025")
        accounts.assign_role(session, f"user:{login}", role, granted_by="system:test")
        when = accounts.utcnow() - dt.timedelta(minutes=minutes_ago)
        outcome = accounts.open_session(
            session, f"user:{login}", IdentityPolicy.from_env(), load_keyring("token"), when
        )
    token = outcome.token_or_raise()
    monkeypatch.setenv("IBRAIN_TOKEN", token)
    return token
