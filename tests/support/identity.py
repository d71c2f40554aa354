"""An identified data engineer for CLI tests: operator commands refuse anyone else (issue 13)."""

from __future__ import annotations

from ibrain.settings import Settings
from security.db import database_url, make_engine, migrate, transaction
from security.identity import accounts
from security.identity.config import IdentityPolicy
from security.keys import init_key, load_keyring

ENGINEER = "user:tester"
PASSWORD = "Pipeline-Ops-Pass-1"


def engineer_env(env: dict[str, str], login: str = "tester") -> dict[str, str]:
    """``env`` plus ``IBRAIN_TOKEN`` of a data engineer in that lake's state database (created,
    with the token key, on first use); ``env`` must be a demo-mode lake (``tests.conftest.lake_env``)."""
    settings = Settings.from_env(env)
    init_key("token", settings=settings)
    keyring = load_keyring("token", settings=settings)
    engine = make_engine(database_url(settings))
    migrate(engine)
    now = accounts.utcnow()
    with transaction(engine) as session:
        if not session.scalar(accounts.select(accounts.User).where(accounts.User.login == login)):
            if not session.scalar(accounts.select(accounts.Organisation)):
                accounts.create_org(session, "platform", "测试平台", "platform", "210000")
            org = session.scalar(accounts.select(accounts.Organisation.code))
            accounts.create_user(session, login, "测试工程师", org, PASSWORD)
            accounts.assign_role(session, f"user:{login}", "data_engineer", granted_by="system:test")
        outcome = accounts.open_session(session, f"user:{login}", IdentityPolicy.from_env({}), keyring, now)
    engine.dispose()
    # a pipeline command under load may leave the session unused for longer than the default 30 min
    return {**env, "IBRAIN_TOKEN": outcome.token_or_raise(), "IBRAIN_SESSION_IDLE_MINUTES": "240"}
