"""Who runs a command: the token (``IBRAIN_TOKEN``, else the one `ibrain login` stored), checked
against the state database and the token key, then the policy (security/authz.py).

The stored token is a file only its owner can read (0600) in the user's config folder:
``IBRAIN_TOKEN_FILE``, else ``$XDG_CONFIG_HOME/ibrain/token``, else ``~/.config/ibrain/token``.
A token is never printed, logged or put into an audit record (docs/architecture.md: security).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ibrain.settings import SettingsError
from ibrain_cli.console import fail
from security.actor import Actor
from security.authz import decide
from security.db import make_engine, migrate, transaction
from security.identity.accounts import AuthenticationError, Principal, account_count, resolve_token, utcnow
from security.identity.config import IdentityPolicy
from security.keys import KeyFileError, Keyring, load_keyring

TOKEN_VARIABLE = "IBRAIN_TOKEN"
TOKEN_FILE_VARIABLE = "IBRAIN_TOKEN_FILE"
CLIENT = f"cli@{socket.gethostname()}"


def token_file() -> Path:
    explicit = (os.environ.get(TOKEN_FILE_VARIABLE) or "").strip()
    if explicit:
        return Path(explicit).expanduser()
    config = (os.environ.get("XDG_CONFIG_HOME") or "").strip()
    base = Path(config).expanduser() if config else Path.home() / ".config"
    return base / "ibrain" / "token"


def store_token(token: str) -> Path:
    """Write the token atomically, created 0600 (never briefly readable by others)."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token)
    os.replace(tmp, path)
    return path


def stored_token() -> str | None:
    """The token from the environment, else from the token file (refused when others can read it)."""
    token = (os.environ.get(TOKEN_VARIABLE) or "").strip()
    if token:
        return token
    path = token_file()
    if not path.is_file():
        return None
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode_text = stat.filemode(mode)
        fail(f"{path}: token file accessible by group or others (mode {mode_text}); delete it, log in again")
    return path.read_text(encoding="utf-8").strip() or None


def state() -> Engine:
    """The state database, migrated to the newest schema; a clear error when it cannot be."""
    try:
        engine = make_engine()
        migrate(engine)
    except (SettingsError, SQLAlchemyError, OSError) as exc:
        fail(f"state database: {exc}")
    return engine


def token_keyring() -> Keyring:
    try:
        return load_keyring("token")
    except KeyFileError as exc:
        fail(str(exc))


def policy() -> IdentityPolicy:
    try:
        return IdentityPolicy.from_env()
    except SettingsError as exc:
        fail(str(exc))


def current_principal(engine: Engine) -> Principal:
    """Who runs this command; exits with the reason when nobody can be established."""
    now = utcnow()
    with transaction(engine) as session:
        if not account_count(session):
            fail(
                "no accounts exist: create the first admin with `ibrain account bootstrap-admin` "
                "(the demo creates its own: IBRAIN_ENV=demo ibrain demo)"
            )
    token = stored_token()
    if token is None:
        fail(f"not logged in: run `ibrain login` or set {TOKEN_VARIABLE}")
    keyring = token_keyring()
    try:
        with transaction(engine) as session:
            return resolve_token(session, keyring, token, policy(), now)
    except AuthenticationError as exc:
        fail(f"not authenticated: {exc}")


def record_event(
    session: Session,
    actor: Actor,
    event_type: str,
    object: str,
    result: str,
    params: Mapping[str, Any] | None = None,
    details: str | None = None,
) -> None:
    """One audit record in ``session``'s transaction (security/audit/trail.py); a command's records
    carry the local user's host as the client."""
    from security.audit.trail import record

    record(
        session,
        actor=actor,
        event_type=event_type,
        object=object,
        result=result,
        params=params,
        client=CLIENT,
        details=details,
    )


def audit_alone(
    engine: Engine,
    actor: Actor,
    event_type: str,
    object: str,
    result: str,
    params: Mapping[str, Any] | None = None,
    details: str | None = None,
) -> None:
    """An audit record in a transaction of its own (a refusal, a failure, a pipeline's outcome)."""
    with transaction(engine) as session:
        record_event(session, actor, event_type, object, result, params, details)


def refuse(
    engine: Engine, actor: Actor, event_type: str, object: str, params: Mapping[str, Any], reason: str
) -> NoReturn:
    """Record the refusal, then stop the command (exit 1) with the rule that refused it."""
    audit_alone(engine, actor, event_type, object, "refused", params, reason)
    fail(f"refused: {reason}")


@contextmanager
def operation(
    event_type: str, object: str, params: Mapping[str, Any], principal: Principal | None = None
) -> Iterator[Actor]:
    """Run an operator command (role data_engineer) as the identified user, and audit it: a record
    when it starts (details ``started``) and one with its outcome.

    ``principal``: who acts when it is known already (``ibrain demo`` acts as its engineer);
    otherwise the token's principal. The outcome is ``success`` when the block ends normally or
    exits 0, ``failure`` otherwise.
    """
    engine = state()
    principal = principal or current_principal(engine)
    decision = decide(principal, event_type, now=utcnow())
    if not decision.allowed:
        refuse(engine, decision.actor, event_type, object, params, decision.reason)
    # Recorded before the action: if the trail cannot be written, the action does not happen.
    audit_alone(engine, decision.actor, event_type, object, "success", params, "started")
    result, details = "failure", None
    try:
        yield decision.actor
        result = "success"
    except SystemExit as exc:
        result = "success" if exc.code in (0, None) else "failure"
        details = None if result == "success" else f"exit {exc.code}"
        raise
    except BaseException as exc:
        details = exc.__class__.__name__
        raise
    finally:
        audit_alone(engine, decision.actor, event_type, object, result, params, details)


def actor_tags(actor: Actor) -> dict[str, str]:
    """Tags of the Dagster runs a command launches: who launched them (a run without the tag was
    launched by the daemon: system:dagster)."""
    return {"ibrain/actor": actor.principal}


def when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S} UTC" if value else "—"
