"""Identity and separated duties, in-process on a SQLite state database: password policy, lockout,
tokens (expiry, unknown and retired keys, audience), session idle timeout, organisations' USCC, and
the policy's refusals (三员分立)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
from sqlalchemy import Engine

from ibrain.settings import Settings
from security.authz import decide, role_conflict
from security.db import make_engine, migrate, transaction
from security.identity import accounts
from security.identity.accounts import AccountError, AuthenticationError, Principal
from security.identity.config import IdentityPolicy
from security.identity.passwords import PasswordPolicyError, check_policy
from security.identity.tokens import TokenError, issue, verify
from security.keys import init_key, load_keyring, rotate_key

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
PASSWORD = "Correct-Horse-42"
POLICY = IdentityPolicy.from_env({"IBRAIN_LOGIN_MAX_FAILURES": "3", "IBRAIN_LOGIN_LOCKOUT_MINUTES": "10"})


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine)
    with transaction(engine) as s:
        accounts.create_org(s, "platform", "平台", "platform", "210000")
        accounts.create_user(s, "alice", "Alice", "platform", PASSWORD)
    return engine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"IBRAIN_LAKE_ROOT": str(tmp_path / "lake"), "IBRAIN_ENV": "demo"})


@pytest.fixture
def keyring(settings: Settings):
    init_key("token", settings=settings)
    return load_keyring("token", settings=settings)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short-1a", "12 characters"),
        ("alllowercaseletters", "three of"),
        ("ALLUPPER12345678", "three of"),
        ("Xalice-2025-Spring", "login"),
    ],
)
def test_password_policy_refuses(password: str, rule: str) -> None:
    with pytest.raises(PasswordPolicyError, match=rule):
        check_policy(password, "alice")


def test_password_policy_accepts_three_classes() -> None:
    check_policy("lower-and-1234", "alice")  # lower, digits, other: 3 of 4, 14 characters


def test_the_hash_is_argon2_and_not_the_password(engine: Engine) -> None:
    with transaction(engine) as s:
        [row] = accounts.list_accounts(s)
        user = s.scalar(accounts.select(accounts.User))
    assert row.principal == "user:alice"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_lockout_after_n_failures_then_unlock(engine: Engine, keyring) -> None:
    for _ in range(3):
        with transaction(engine) as s:
            outcome = accounts.password_login(s, "alice", "Wrong-Password-1", POLICY, keyring, T0)
        assert outcome.token is None
    assert "locked for 10 minutes after 3 failures" in outcome.refusal
    # the right password is refused while locked …
    with transaction(engine) as s:
        locked = accounts.password_login(s, "alice", PASSWORD, POLICY, keyring, T0 + dt.timedelta(minutes=9))
    assert locked.token is None and "locked until 2025-03-01 09:10" in locked.refusal
    # … and accepted once the lock has passed
    with transaction(engine) as s:
        ok = accounts.password_login(s, "alice", PASSWORD, POLICY, keyring, T0 + dt.timedelta(minutes=10))
    assert ok.token is not None and ok.expires_at == T0 + dt.timedelta(minutes=10 + 480)


def test_two_failures_then_success_resets_the_count(engine: Engine, keyring) -> None:
    for _ in range(2):
        with transaction(engine) as s:
            accounts.password_login(s, "alice", "Wrong-Password-1", POLICY, keyring, T0)
    with transaction(engine) as s:
        assert accounts.password_login(s, "alice", PASSWORD, POLICY, keyring, T0).token
    for _ in range(2):
        with transaction(engine) as s:
            failed = accounts.password_login(s, "alice", "Wrong-Password-1", POLICY, keyring, T0)
    assert failed.refusal == "wrong login or secret"  # 2 in a row again: not locked


def test_unknown_login_reads_like_a_wrong_password(engine: Engine, keyring) -> None:
    with transaction(engine) as s:
        outcome = accounts.password_login(s, "mallory", PASSWORD, POLICY, keyring, T0)
    assert (outcome.token, outcome.refusal) == (None, "wrong login or secret")


def login(engine: Engine, keyring, now: dt.datetime = T0) -> str:
    with transaction(engine) as s:
        return accounts.password_login(s, "alice", PASSWORD, POLICY, keyring, now).token_or_raise()


def resolve(engine: Engine, keyring, token: str, now: dt.datetime) -> Principal:
    with transaction(engine) as s:
        return accounts.resolve_token(s, keyring, token, POLICY, now)


def test_token_resolves_to_the_person_with_roles_and_groups(engine: Engine, keyring) -> None:
    with transaction(engine) as s:
        accounts.assign_role(s, "user:alice", "data_owner", granted_by="user:root")
        accounts.add_to_group(s, "team:data-governance", "alice")
    token = login(engine, keyring)
    assert jwt.get_unverified_header(token)["kid"] == keyring.active.kid
    who = resolve(engine, keyring, token, T0 + dt.timedelta(minutes=5))
    assert who == Principal(
        "user:alice", "platform", frozenset({"data_owner"}), frozenset({"data-governance"}), T0
    )


def test_expired_token_is_refused(keyring) -> None:
    token = issue(keyring, "app:ak_1", dt.timedelta(minutes=15), T0)
    assert verify(keyring, token, T0 + dt.timedelta(minutes=14)).principal == "app:ak_1"
    with pytest.raises(TokenError, match="expired"):
        verify(keyring, token, T0 + dt.timedelta(minutes=15))


def test_token_by_an_unknown_key_is_refused(keyring, tmp_path: Path) -> None:
    other = Settings.from_env({"IBRAIN_LAKE_ROOT": str(tmp_path / "other" / "lake"), "IBRAIN_ENV": "demo"})
    init_key("token", settings=other)
    forged = issue(load_keyring("token", settings=other), "user:alice", dt.timedelta(hours=1), T0)
    with pytest.raises(TokenError, match="unknown key"):
        verify(keyring, forged, T0)


def test_token_of_a_retired_key_still_verifies(keyring, settings: Settings) -> None:
    token = issue(keyring, "app:ak_1", dt.timedelta(minutes=15), T0)
    rotated = rotate_key("token", settings=settings)
    assert rotated.active.kid != keyring.active.kid
    assert verify(rotated, token, T0).principal == "app:ak_1"


def test_token_for_another_audience_or_tampered_is_refused(keyring) -> None:
    claims = {"iss": "industry-brain", "aud": "elsewhere", "sub": "user:alice", "iat": 0, "exp": 2**40}
    foreign = jwt.encode(
        claims | {"auth_time": 0},
        keyring.active.private,
        algorithm="EdDSA",
        headers={"kid": keyring.active.kid},
    )
    with pytest.raises(TokenError, match="InvalidAudience"):
        verify(keyring, foreign, T0)
    header, payload, signature = issue(keyring, "user:alice", dt.timedelta(hours=1), T0).split(".")
    bob = jwt.utils.base64url_encode(jwt.utils.base64url_decode(payload).replace(b"alice", b"bobby")).decode()
    with pytest.raises(TokenError, match="InvalidSignature"):
        verify(keyring, f"{header}.{bob}.{signature}", T0)


def test_session_idle_timeout_and_disable(engine: Engine, keyring) -> None:
    token = login(engine, keyring)
    resolve(engine, keyring, token, T0 + dt.timedelta(minutes=29))  # used: idle clock restarts
    resolve(engine, keyring, token, T0 + dt.timedelta(minutes=58))
    with pytest.raises(AuthenticationError, match="timed out"):
        resolve(engine, keyring, token, T0 + dt.timedelta(minutes=89))
    fresh = login(engine, keyring, T0 + dt.timedelta(minutes=90))
    with transaction(engine) as s:
        accounts.disable(s, "user:alice", T0 + dt.timedelta(minutes=91))
    with pytest.raises(AuthenticationError, match="session has ended"):
        resolve(engine, keyring, fresh, T0 + dt.timedelta(minutes=92))


def test_app_secret_exchange(engine: Engine, keyring) -> None:
    with transaction(engine) as s:
        app, secret = accounts.create_app(s, "省平台", "platform")
        stored = app.secret_hash
    assert secret not in stored and stored.startswith("$argon2id$")
    with transaction(engine) as s:
        wrong = accounts.app_login(s, app.app_key, secret + "x", POLICY, keyring, T0)
        ok = accounts.app_login(s, app.app_key, secret, POLICY, keyring, T0)
    assert wrong.token is None and ok.expires_at == T0 + dt.timedelta(minutes=15)
    assert resolve(engine, keyring, ok.token, T0 + dt.timedelta(minutes=1)).name == f"app:{app.app_key}"


def test_enterprise_needs_a_valid_uscc(engine: Engine) -> None:
    with transaction(engine) as s, pytest.raises(AccountError, match="needs its USCC"):
        accounts.create_org(s, "ent", "某公司", "enterprise", "210102")
    with transaction(engine) as s, pytest.raises(AccountError, match="check digit 1, expected K"):
        accounts.create_org(s, "ent", "某公司", "enterprise", "210102", "91210100MA0QC3L401")
    with transaction(engine) as s:
        org = accounts.create_org(s, "ent", "某公司", "enterprise", "210102", "91210100ma0qc3l40k")
    assert org.uscc == "91210100MA0QC3L40K"


def test_bootstrap_only_on_an_empty_database(engine: Engine, tmp_path: Path) -> None:
    with transaction(engine) as s, pytest.raises(AccountError, match="only on an empty database"):
        accounts.bootstrap_admin(s, "root", "Root", PASSWORD, "platform", "平台", "210000")
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(empty)
    with transaction(empty) as s:
        accounts.bootstrap_admin(s, "root", "Root", PASSWORD, "platform", "平台", "210000")
        assert accounts.roles_of(s, "user:root") == {"system_admin"}


# -- separated duties -----------------------------------------------------------------------------
ADMIN = Principal("user:root", "platform", frozenset({"system_admin"}), frozenset({"data-governance"}), T0)
OWNER = Principal("user:gov", "platform", frozenset({"data_owner"}), frozenset({"data-governance"}), T0)
AUDITOR = Principal("user:aud", "platform", frozenset({"security_auditor"}), frozenset(), T0)
ENGINEER = Principal("user:eng", "platform", frozenset({"data_engineer"}), frozenset(), T0)
REAUTH = dt.timedelta(minutes=15)


def test_an_admin_cannot_approve_data_access() -> None:
    decision = decide(ADMIN, "access.approve", now=T0, owner="team:data-governance", applicant="user:x")
    assert not decision.allowed and "a system admin cannot approve data access" in decision.reason


def test_an_applicant_cannot_approve_their_own_application() -> None:
    own = decide(OWNER, "access.approve", now=T0, owner="team:data-governance", applicant="user:gov")
    assert not own.allowed and "cannot approve their own application" in own.reason
    other = decide(OWNER, "access.approve", now=T0, owner="team:data-governance", applicant="user:x")
    assert other.allowed and other.actor.role == "data_owner"
    foreign = decide(OWNER, "access.approve", now=T0, owner="team:industry-analysis", applicant="user:x")
    assert not foreign.allowed and "only members of team:industry-analysis" in foreign.reason


@pytest.mark.parametrize("action", ["account.manage", "key.manage", "ops.withdraw", "access.approve"])
def test_the_auditor_cannot_change_anything(action: str) -> None:
    decision = decide(AUDITOR, action, now=T0, reauth=REAUTH, owner="team:x", applicant="user:y")
    assert not decision.allowed and "the security auditor cannot change anything" in decision.reason
    assert decide(AUDITOR, "audit.read", now=T0).allowed


def test_operator_commands_need_the_engineer() -> None:
    assert decide(ENGINEER, "ops.withdraw", now=T0).allowed
    refused = decide(OWNER, "ops.withdraw", now=T0)
    assert not refused.allowed and "needs the role data_engineer (holds data_owner)" in refused.reason


def test_admin_actions_need_a_recent_login() -> None:
    assert decide(ADMIN, "account.manage", now=T0 + REAUTH, reauth=REAUTH).allowed
    stale = decide(ADMIN, "account.manage", now=T0 + REAUTH + dt.timedelta(seconds=1), reauth=REAUTH)
    assert not stale.allowed and "within the last 15 minutes" in stale.reason


def test_conflicting_roles_cannot_be_held_together(engine: Engine) -> None:
    assert "separated duties" in role_conflict({"system_admin", "security_auditor"})
    assert role_conflict({"data_owner", "data_engineer"}) is None
    with transaction(engine) as s:
        accounts.assign_role(s, "user:alice", "system_admin", granted_by="user:root")
    for role in ("security_auditor", "data_owner"):
        with transaction(engine) as s, pytest.raises(AccountError, match="separated duties"):
            accounts.assign_role(s, "user:alice", role, granted_by="user:root")
    with transaction(engine) as s:
        assert accounts.roles_of(s, "user:alice") == {"system_admin"}
