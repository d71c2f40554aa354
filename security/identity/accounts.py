"""Accounts: organisations, people, apps, groups and roles; logins and the tokens they give.

Every function works inside the caller's transaction (``security.db.transaction``), so the change
and its audit record commit together (docs/architecture.md: security). Functions that judge a
secret (:func:`password_login`, :func:`app_login`) never raise on a wrong secret: the failed
attempt and the lockout must be committed, so they return an outcome and the caller raises after
the commit. Secrets are hashed at once and never stored, logged or put into an error message.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ibrain.uscc import invalid_reason
from security.actor import Actor
from security.authz import role_conflict
from security.identity.config import IdentityPolicy
from security.identity.models import (
    ORG_TYPES,
    ROLES,
    App,
    Group,
    GroupMember,
    LoginSession,
    Organisation,
    RoleAssignment,
    User,
)
from security.identity.passwords import check_policy, generate_secret, hash_secret, verify_secret
from security.identity.tokens import TokenError, issue, verify
from security.keys import Keyring

LOGIN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
REGION = re.compile(r"^\d{6}$")
TEAM_PREFIX = "team:"


class AccountError(ValueError):
    """An account operation is invalid (unknown or duplicate name, bad USCC, role conflict …)."""


class AuthenticationError(PermissionError):
    """Who is acting cannot be established: wrong secret, locked or disabled account, bad token."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes: every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Principal:
    """Someone established by a login or a token: the name, the organisation, every role held, the
    groups (people only) and when the secret was last checked (re-authentication)."""

    name: str  # user:<login>, app:<app key> or system:<component>
    org: str | None
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()
    auth_time: dt.datetime | None = None

    def actor(self, role: str | None = None) -> Actor:
        """The actor of an audit record: acting in ``role`` (default: the only role, if one)."""
        if role is None and len(self.roles) == 1:
            [role] = self.roles
        return Actor(self.name, self.org, role)


SYSTEM_DAGSTER = Principal("system:dagster", None, frozenset())


# -- organisations, people, apps, groups ----------------------------------------------------------
def create_org(
    session: Session, code: str, name: str, type: str, region: str, uscc: str | None = None
) -> Organisation:
    if not CODE.match(code):
        raise AccountError(f"organisation code {code!r}: lower-case letters, digits, '_' or '-'")
    if type not in ORG_TYPES:
        raise AccountError(f"organisation type {type!r}: expected one of {', '.join(ORG_TYPES)}")
    if not REGION.match(region):
        raise AccountError(f"region {region!r}: expected a 6-digit GB/T 2260 code")
    uscc = (uscc or "").strip().upper() or None
    if type == "enterprise" and uscc is None:
        raise AccountError("an enterprise needs its USCC (统一社会信用代码, --uscc)")
    if uscc is not None and (reason := invalid_reason(uscc)):
        raise AccountError(f"USCC {uscc!r} is not valid: {reason}")
    if session.scalar(select(Organisation).where(Organisation.code == code)):
        raise AccountError(f"organisation {code!r} exists already")
    if uscc and session.scalar(select(Organisation).where(Organisation.uscc == uscc)):
        raise AccountError(f"an organisation with USCC {uscc} exists already")
    org = Organisation(code=code, name=name, type=type, region=region, uscc=uscc, created_at=utcnow())
    session.add(org)
    session.flush()
    return org


def _org(session: Session, code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise AccountError(f"no organisation {code!r} (create it with `ibrain account create-org`)")
    return org


def create_user(session: Session, login: str, name: str, org_code: str, password: str) -> User:
    if not LOGIN.match(login):
        raise AccountError(f"login {login!r}: 2–64 of a-z, 0-9, '.', '_', '-', starting with a letter")
    check_policy(password, login)
    org = _org(session, org_code)
    if session.scalar(select(User).where(User.login == login)):
        raise AccountError(f"user {login!r} exists already")
    user = User(
        login=login,
        name=name,
        org_id=org.id,
        password_hash=hash_secret(password),
        disabled=False,
        failed_attempts=0,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def create_app(session: Session, name: str, org_code: str) -> tuple[App, str]:
    """A new app and its AppSecret — returned this once; only its argon2 hash is kept."""
    org = _org(session, org_code)
    secret = generate_secret()
    app = App(
        app_key=f"ak_{secrets.token_hex(8)}",
        name=name,
        org_id=org.id,
        secret_hash=hash_secret(secret),
        disabled=False,
        failed_attempts=0,
        created_at=utcnow(),
    )
    session.add(app)
    session.flush()
    return app, secret


def group_name(owner: str) -> str:
    """The group of a contract's ``owner: team:<name>`` (or of a bare group name)."""
    name = owner.removeprefix(TEAM_PREFIX)
    if not CODE.match(name):
        raise AccountError(f"group {owner!r}: expected team:<name> with a-z, 0-9, '_' or '-'")
    return name


def add_to_group(session: Session, group: str, login: str) -> Group:
    """Add a person to a group (created on first use)."""
    name = group_name(group)
    user = _user(session, login)
    found = session.scalar(select(Group).where(Group.name == name))
    if found is None:
        found = Group(name=name)
        session.add(found)
        session.flush()
    if session.get(GroupMember, (found.id, user.id)) is None:
        session.add(GroupMember(group_id=found.id, user_id=user.id))
        session.flush()
    return found


def group_members(session: Session, owner: str) -> list[str]:
    """Principals (``user:<login>``) of the group a contract's owner names."""
    rows = session.scalars(
        select(User.login)
        .join(GroupMember, GroupMember.user_id == User.id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.name == group_name(owner), User.disabled.is_(False))
        .order_by(User.login)
    )
    return [f"user:{login}" for login in rows]


def _user(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise AccountError(f"no user {login!r}")
    return user


def _account(session: Session, principal: str) -> User | App:
    kind, _, name = principal.partition(":")
    if kind == "user":
        return _user(session, name)
    if kind == "app":
        app = session.scalar(select(App).where(App.app_key == name))
        if app is None:
            raise AccountError(f"no app {name!r}")
        return app
    raise AccountError(f"principal {principal!r}: expected user:<login> or app:<app key>")


# -- roles ----------------------------------------------------------------------------------------
def roles_of(session: Session, principal: str) -> frozenset[str]:
    query = select(RoleAssignment.role).where(RoleAssignment.principal == principal)
    return frozenset(session.scalars(query))


def assign_role(session: Session, principal: str, role: str, granted_by: str) -> RoleAssignment:
    """Give ``principal`` a role, unless it conflicts with one it holds (三员分立, security/authz.py)."""
    if role not in ROLES:
        raise AccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    _account(session, principal)
    held = roles_of(session, principal)
    if role in held:
        raise AccountError(f"{principal} holds {role} already")
    if conflict := role_conflict(held | {role}):
        raise AccountError(f"{principal} cannot hold {role}: {conflict}")
    grant = RoleAssignment(principal=principal, role=role, granted_by=granted_by, granted_at=utcnow())
    session.add(grant)
    session.flush()
    return grant


def disable(session: Session, principal: str, now: dt.datetime | None = None) -> None:
    """Disable an account: its logins, tokens and sessions stop working at once."""
    account = _account(session, principal)
    account.disabled = True
    for open_session in session.scalars(
        select(LoginSession).where(LoginSession.principal == principal, LoginSession.revoked_at.is_(None))
    ):
        open_session.revoked_at = now or utcnow()
    session.flush()


def account_count(session: Session) -> int:
    return (session.scalar(select(func.count()).select_from(User)) or 0) + (
        session.scalar(select(func.count()).select_from(App)) or 0
    )


@dataclass(frozen=True)
class AccountRow:
    principal: str
    name: str
    org: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    disabled: bool
    locked_until: dt.datetime | None


def list_accounts(session: Session) -> list[AccountRow]:
    rows = []
    for account in [*session.scalars(select(User).order_by(User.login)), *session.scalars(select(App))]:
        principal = f"user:{account.login}" if isinstance(account, User) else f"app:{account.app_key}"
        groups: tuple[str, ...] = ()
        if isinstance(account, User):
            groups = tuple(_groups(session, account.id))
        rows.append(
            AccountRow(
                principal=principal,
                name=account.name,
                org=session.get(Organisation, account.org_id).code,
                roles=tuple(sorted(roles_of(session, principal))),
                groups=groups,
                disabled=account.disabled,
                locked_until=_aware(account.locked_until),
            )
        )
    return rows


def _groups(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Group.name)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .where(GroupMember.user_id == user_id)
            .order_by(Group.name)
        )
    )


def principal_of(session: Session, name: str, auth_time: dt.datetime | None = None) -> Principal:
    """The principal ``name`` as the database knows it now; a disabled account is refused."""
    try:
        account = _account(session, name)
    except AccountError as exc:
        raise AuthenticationError(str(exc)) from None
    if account.disabled:
        raise AuthenticationError(f"{name} is disabled")
    groups = frozenset(_groups(session, account.id)) if isinstance(account, User) else frozenset()
    org = session.get(Organisation, account.org_id)
    return Principal(name, org.code, roles_of(session, name), groups, auth_time)


# -- logins ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginOutcome:
    """A login's result: the token, or why there is none (the same words for a wrong login and a
    wrong secret, so an outsider cannot tell which logins exist)."""

    principal: str
    token: str | None
    expires_at: dt.datetime | None
    refusal: str | None = None

    def token_or_raise(self) -> str:
        if self.token is None:
            raise AuthenticationError(self.refusal or "login refused")
        return self.token


WRONG = "wrong login or secret"


def _check_secret(
    account: User | App | None, secret: str, stored_hash: str | None, policy: IdentityPolicy, now: dt.datetime
) -> str | None:
    """Verify the secret and keep the lockout state; the refusal, or None when it matched."""
    if account is None:
        verify_secret(None, secret)  # the same cost as a known account
        return WRONG
    locked_until = _aware(account.locked_until)
    if locked_until is not None and now < locked_until:
        return f"account locked until {locked_until:%Y-%m-%d %H:%M} UTC after repeated failed logins"
    if account.disabled:
        verify_secret(stored_hash, secret)
        return "account disabled"
    if not verify_secret(stored_hash, secret):
        account.failed_attempts += 1
        if account.failed_attempts >= policy.max_failures:
            account.failed_attempts = 0
            account.locked_until = now + policy.lockout
            minutes = int(policy.lockout.total_seconds() // 60)
            return f"{WRONG}; account locked for {minutes} minutes after {policy.max_failures} failures"
        return WRONG
    account.failed_attempts = 0
    account.locked_until = None
    return None


def password_login(
    session: Session, login: str, password: str, policy: IdentityPolicy, keyring: Keyring, now: dt.datetime
) -> LoginOutcome:
    """Check a person's password; on success open a login session and sign its token."""
    user = session.scalar(select(User).where(User.login == login))
    principal = f"user:{login}"
    refusal = _check_secret(user, password, user.password_hash if user else None, policy, now)
    session.flush()
    if refusal:
        return LoginOutcome(principal, None, None, refusal)
    return open_session(session, principal, policy, keyring, now)


def open_session(
    session: Session, principal: str, policy: IdentityPolicy, keyring: Keyring, now: dt.datetime
) -> LoginOutcome:
    """A login session for a person whose secret was just checked (or whom ``ibrain demo`` created)."""
    sid = secrets.token_hex(16)
    expires = now + policy.session_max
    session.add(
        LoginSession(sid=sid, principal=principal, auth_time=now, last_seen_at=now, expires_at=expires)
    )
    session.flush()
    token = issue(keyring, principal, policy.session_max, now, auth_time=now, sid=sid)
    return LoginOutcome(principal, token, expires)


def app_login(
    session: Session, app_key: str, secret: str, policy: IdentityPolicy, keyring: Keyring, now: dt.datetime
) -> LoginOutcome:
    """Exchange an AppKey + AppSecret for a short-lived token (no session: it simply expires)."""
    app = session.scalar(select(App).where(App.app_key == app_key))
    principal = f"app:{app_key}"
    refusal = _check_secret(app, secret, app.secret_hash if app else None, policy, now)
    session.flush()
    if refusal:
        return LoginOutcome(principal, None, None, refusal)
    token = issue(keyring, principal, policy.app_token, now)
    return LoginOutcome(principal, token, now + policy.app_token)


def logout(session: Session, keyring: Keyring, token: str, now: dt.datetime) -> str:
    """End the login session a person's token names; returns the principal."""
    claims = _claims(keyring, token, now)
    if claims.sid:
        found = session.scalar(select(LoginSession).where(LoginSession.sid == claims.sid))
        if found is not None and found.revoked_at is None:
            found.revoked_at = now
            session.flush()
    return claims.principal


def _claims(keyring: Keyring, token: str, now: dt.datetime):
    try:
        return verify(keyring, token, now)
    except TokenError as exc:
        raise AuthenticationError(str(exc)) from None


def resolve_token(
    session: Session, keyring: Keyring, token: str, policy: IdentityPolicy, now: dt.datetime
) -> Principal:
    """Who a token speaks for: signature, expiry, audience and issuer checked, then (for a person)
    the login session — not ended, not idle longer than the policy allows — and the account."""
    claims = _claims(keyring, token, now)
    if claims.principal.startswith("user:"):
        if not claims.sid:
            raise AuthenticationError("a person's token must name a login session")
        found = session.scalar(select(LoginSession).where(LoginSession.sid == claims.sid))
        if found is None or found.principal != claims.principal:
            raise AuthenticationError("unknown login session; log in again (`ibrain login`)")
        if found.revoked_at is not None:
            raise AuthenticationError("the login session has ended; log in again (`ibrain login`)")
        if now - _aware(found.last_seen_at) > policy.session_idle:
            minutes = int(policy.session_idle.total_seconds() // 60)
            raise AuthenticationError(f"the login session timed out (unused for over {minutes} minutes)")
        found.last_seen_at = now
        session.flush()
    elif not claims.principal.startswith("app:"):
        raise AuthenticationError(f"token subject {claims.principal!r} is neither a person nor an app")
    return principal_of(session, claims.principal, claims.auth_time)


# -- the first admin and the demo -----------------------------------------------------------------
def bootstrap_admin(
    session: Session,
    login: str,
    name: str,
    password: str,
    org_code: str,
    org_name: str,
    region: str,
) -> User:
    """The first system admin and the platform organisation — only on a database with no account."""
    if account_count(session):
        raise AccountError("accounts exist already: the first admin is created only on an empty database")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        create_org(session, org_code, org_name, "platform", region)
    user = create_user(session, login, name, org_code, password)
    assign_role(session, f"user:{login}", "system_admin", granted_by="system:bootstrap")
    return user


# login, name, role, group (a contract owner's team)
DEMO_ACCOUNTS = (
    ("admin", "演示 系统管理员", "system_admin", None),
    ("auditor", "演示 安全审计员", "security_auditor", None),
    ("engineer", "演示 数据工程师", "data_engineer", "data-engineering"),
    ("governance", "演示 数据治理负责人", "data_owner", "data-governance"),
    ("analyst", "演示 产业分析负责人", "data_owner", "industry-analysis"),
    ("consumer", "演示 数据使用方", "consumer", None),
)
DEMO_ORG = ("platform", "产业大脑 演示平台", "platform", "210000")
DEMO_ENGINEER = "user:engineer"


def create_demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """The demo's accounts, created once: (login, role, password) of each new one — for printing
    once; only hashes are stored. An empty list when they exist already."""
    from security.identity.passwords import generate_password

    if session.scalar(select(User).where(User.login == DEMO_ACCOUNTS[0][0])):
        return []
    if session.scalar(select(Organisation).where(Organisation.code == DEMO_ORG[0])) is None:
        create_org(session, *DEMO_ORG)
    created = []
    for login, name, role, group in DEMO_ACCOUNTS:
        password = generate_password()
        create_user(session, login, name, DEMO_ORG[0], password)
        assign_role(session, f"user:{login}", role, granted_by="system:demo")
        if group:
            add_to_group(session, group, login)
        created.append((login, role, password))
    return created
