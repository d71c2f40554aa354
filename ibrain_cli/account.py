"""``ibrain account …``, ``ibrain login``, ``logout`` and ``whoami``: accounts and who is acting.

Account changes need the role system_admin and a login at most IBRAIN_REAUTH_MINUTES old; each
change commits with its audit record (security/identity/accounts.py, security/authz.py).
Passwords and AppSecrets are read from a hidden prompt or the first line of stdin, never from an
option (options show in the process list and the shell history).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from ibrain_cli.auth import (
    audit_alone,
    current_principal,
    policy,
    record_event,
    refuse,
    state,
    store_token,
    stored_token,
    token_file,
    token_keyring,
    when,
)
from ibrain_cli.console import echo, fail
from security.actor import Actor
from security.authz import decide
from security.db import transaction
from security.identity import accounts
from security.identity.accounts import AccountError, AuthenticationError, utcnow
from security.identity.models import ORG_TYPES, ROLES
from security.identity.passwords import PasswordPolicyError

BOOTSTRAP = Actor("system:bootstrap")


def read_secret(prompt: str, from_stdin: bool, confirm: bool = False) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail(f"{prompt}: nothing on stdin")
        return line
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


SECRET_STDIN = click.option(
    "--secret-stdin", is_flag=True, help="Read the password or AppSecret from the first line of stdin."
)


@contextmanager
def admin_action(event_type: str, object: str, params: Mapping[str, Any]) -> Iterator[tuple[Session, Actor]]:
    """An account change by a system admin: refused (and audited) unless allowed; the change and its
    audit record commit together; an invalid change is audited as a failure."""
    engine = state()
    principal = current_principal(engine)
    decision = decide(principal, "account.manage", now=utcnow(), reauth=policy().reauth)
    if not decision.allowed:
        refuse(engine, decision.actor, event_type, object, params, decision.reason)
    try:
        with transaction(engine) as session:
            yield session, decision.actor
            record_event(session, decision.actor, event_type, object, "success", params)
    except (AccountError, PasswordPolicyError) as exc:
        audit_alone(engine, decision.actor, event_type, object, "failure", params, str(exc))
        fail(str(exc))


def _principal_name(value: str) -> str:
    return value if ":" in value else f"user:{value}"


@click.group()
def account() -> None:
    """Organisations, people, apps, groups and roles (system admin only)."""


@account.command("bootstrap-admin")
@click.option("--login", required=True, help="The first admin's login.")
@click.option("--name", required=True, help="The admin's full name.")
@click.option("--org-code", default="platform", show_default=True, help="The platform organisation's code.")
@click.option("--org-name", required=True, help="The platform organisation's name.")
@click.option("--region", required=True, help="Its GB/T 2260 region code (6 digits).")
@SECRET_STDIN
def bootstrap_admin(
    login: str, name: str, org_code: str, org_name: str, region: str, secret_stdin: bool
) -> None:
    """Create the first system admin (and the platform organisation) — only on an empty database."""
    engine = state()
    password = read_secret("password", secret_stdin, confirm=True)
    params = {"login": login, "org": org_code, "role": "system_admin"}
    try:
        with transaction(engine) as session:
            accounts.bootstrap_admin(session, login, name, password, org_code, org_name, region)
            record_event(session, BOOTSTRAP, "account.create", f"user:{login}", "success", params)
    except (AccountError, PasswordPolicyError) as exc:
        audit_alone(engine, BOOTSTRAP, "account.create", f"user:{login}", "failure", params, str(exc))
        fail(str(exc))
    echo(f"created the first system admin user:{login} in {org_code}; log in with `ibrain login {login}`")


@account.command("create-org")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--type", "org_type", type=click.Choice(ORG_TYPES), required=True)
@click.option("--region", required=True, help="GB/T 2260 region code (6 digits).")
@click.option("--uscc", help="统一社会信用代码 (required for an enterprise; checked).")
def create_org(code: str, name: str, org_type: str, region: str, uscc: str | None) -> None:
    """Create an organisation: a government bureau, an enterprise or the platform."""
    params = {"name": name, "type": org_type, "region": region, "uscc": uscc}
    with admin_action("org.create", f"org:{code}", params) as (session, _):
        accounts.create_org(session, code, name, org_type, region, uscc)
    echo(f"created organisation {code} ({org_type}, region {region})")


@account.command("create-user")
@click.argument("login")
@click.option("--name", required=True)
@click.option("--org", "org_code", required=True, help="The organisation's code.")
@SECRET_STDIN
def create_user(login: str, name: str, org_code: str, secret_stdin: bool) -> None:
    """Create a person (password: ≥ 12 characters, 3 of 4 classes, not containing the login)."""
    password = read_secret("password", secret_stdin, confirm=True)
    with admin_action("account.create", f"user:{login}", {"name": name, "org": org_code}) as (session, _):
        accounts.create_user(session, login, name, org_code, password)
    echo(f"created user:{login} in {org_code}")


@account.command("create-app")
@click.argument("name")
@click.option("--org", "org_code", required=True, help="The organisation's code.")
def create_app(name: str, org_code: str) -> None:
    """Create an app; its AppKey and AppSecret are printed this once (only a hash is kept)."""
    with admin_action("app.create", f"app-name:{name}", {"name": name, "org": org_code}) as (session, _):
        app, secret = accounts.create_app(session, name, org_code)
    echo(f"created app:{app.app_key} ({name}, {org_code})")
    echo(f"AppKey:    {app.app_key}")
    echo(f"AppSecret: {secret}")
    echo("the AppSecret is shown only now: store it in the app's secret store")


@account.command("add-to-group")
@click.argument("group")
@click.argument("login")
def add_to_group(group: str, login: str) -> None:
    """Add a person to GROUP (team:<name> as in a contract's owner; created on first use)."""
    with admin_action("group.member", f"group:{group}", {"login": login}) as (session, _):
        found = accounts.add_to_group(session, group, login)
    echo(f"user:{login} is a member of team:{found.name}")


@account.command("assign-role")
@click.argument("principal")
@click.argument("role", type=click.Choice(ROLES))
def assign_role(principal: str, role: str) -> None:
    """Give PRINCIPAL (a login, user:<login> or app:<app key>) a role; separated duties refused."""
    name = _principal_name(principal)
    with admin_action("role.assign", name, {"role": role}) as (session, actor):
        accounts.assign_role(session, name, role, granted_by=actor.principal)
    echo(f"{name} holds {role}")


@account.command("disable")
@click.argument("principal")
def disable(principal: str) -> None:
    """Disable an account: its logins, sessions and tokens stop working at once."""
    name = _principal_name(principal)
    event = "app.disable" if name.startswith("app:") else "account.disable"
    with admin_action(event, name, {}) as (session, _):
        accounts.disable(session, name)
    echo(f"disabled {name}")


@account.command("list")
def list_accounts() -> None:
    """Every person and app with organisation, roles, groups and state."""
    engine = state()
    principal = current_principal(engine)
    decision = decide(principal, "account.manage", now=utcnow(), reauth=policy().reauth)
    if not decision.allowed:
        refuse(engine, decision.actor, "account.update", "accounts", {"list": True}, decision.reason)
    with transaction(engine) as session:
        rows = accounts.list_accounts(session)
    for row in rows:
        if row.disabled:
            status = "disabled"
        elif row.locked_until and row.locked_until > utcnow():
            status = f"locked until {when(row.locked_until)}"
        else:
            status = "active"
        groups = f" groups {','.join(row.groups)}" if row.groups else ""
        roles = ",".join(row.roles) or "-"
        echo(f"{row.principal:32} {row.org:16} {roles:32} {status}{groups}  {row.name}")
    echo(f"{len(rows)} accounts")


# -- login, logout, whoami ------------------------------------------------------------------------
@click.command()
@click.argument("login", required=False)
@click.option("--app", "app_key", help="Log in as an app with its AppKey (the AppSecret is asked for).")
@SECRET_STDIN
@click.option(
    "--print-token",
    is_flag=True,
    help="Print the token on stdout (for IBRAIN_TOKEN=$(…)) instead of storing it in the token file.",
)
def login(login: str | None, app_key: str | None, secret_stdin: bool, print_token: bool) -> None:
    """Log in with a password (a person) or an AppSecret (an app, --app); the token is stored in a
    0600 file (IBRAIN_TOKEN_FILE, default ~/.config/ibrain/token) that later commands use."""
    if bool(login) == bool(app_key):
        fail("give a LOGIN or --app APPKEY")
    engine = state()
    keyring = token_keyring()
    secret = read_secret("AppSecret" if app_key else "password", secret_stdin)
    rules, now = policy(), utcnow()
    with transaction(engine) as session:
        if app_key:
            outcome = accounts.app_login(session, app_key, secret, rules, keyring, now)
        else:
            outcome = accounts.password_login(session, login or "", secret, rules, keyring, now)
        event = "auth.token" if app_key else "auth.login"
        result = "success" if outcome.token else "failure"
        record_event(session, Actor(outcome.principal), event, outcome.principal, result, {}, outcome.refusal)
    try:
        token = outcome.token_or_raise()
    except AuthenticationError as exc:
        fail(f"login refused: {exc}")
    if print_token:
        click.echo(token)
        return
    path = store_token(token)
    echo(f"logged in as {outcome.principal} until {when(outcome.expires_at)}; token in {path} (mode 600)")


@click.command()
def logout() -> None:
    """End the login session and delete the stored token."""
    token = stored_token()
    if token is None:
        fail("not logged in")
    engine = state()
    try:
        with transaction(engine) as session:
            principal = accounts.logout(session, token_keyring(), token, utcnow())
            record_event(session, Actor(principal), "auth.logout", principal, "success")
    except AuthenticationError as exc:
        fail(f"not authenticated: {exc}")
    path = token_file()
    if path.is_file():
        path.unlink()
    echo(f"logged out {principal}")


@click.command()
def whoami() -> None:
    """Who the token speaks for: principal, organisation, roles, groups, when the secret was checked."""
    principal = current_principal(state())
    echo(principal.name)
    echo(f"  organisation: {principal.org}")
    echo(f"  roles: {', '.join(sorted(principal.roles)) or '-'}")
    if principal.groups:
        echo(f"  groups: {', '.join(f'team:{g}' for g in sorted(principal.groups))}")
    echo(f"  authenticated: {when(principal.auth_time)}")
