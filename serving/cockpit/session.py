"""A person's browser session: login with a password, the token kept in an HttpOnly cookie.

One small module so the portal's session handling can replace it later: the cookie holds the
token ``security.identity`` signs for a login session, so the data service resolves it exactly like
a bearer token (idle timeout, logout and disabled accounts included). SameSite=Strict keeps the
cookie off cross-site requests; the login and logout forms carry a double-submit CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response

from security.actor import Actor
from security.audit import trail
from security.db import transaction
from security.identity.accounts import AuthenticationError, LoginOutcome, logout, password_login
from security.identity.config import IdentityPolicy
from security.keys import Keyring

COOKIE = "ibrain_session"
CSRF_COOKIE = "ibrain_csrf"
MAX_LOGIN = 64
MAX_PASSWORD = 200


def token(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and len(value) <= 4096 else None


def authorization(request: Request) -> str | None:
    """``Bearer <token>`` from the session cookie, or None (then the caller is unauthenticated)."""
    value = token(request)
    return f"Bearer {value}" if value else None


def csrf(request: Request) -> str:
    """The CSRF token of this browser (the cookie's, or a new one to set with :func:`set_csrf`)."""
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and len(value) == 32 else secrets.token_hex(16)


def set_csrf(response: Response, value: str, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/")


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE) or ""
    return bool(expected) and hmac.compare_digest(expected, submitted)


def login(
    db: Engine, keyring: Keyring, policy: IdentityPolicy, login: str, password: str, client: str | None
) -> LoginOutcome:
    """Check the password (lockout and all, security.identity) and audit the attempt."""
    now = dt.datetime.now(dt.UTC)
    login, password = login[:MAX_LOGIN], password[:MAX_PASSWORD]
    with transaction(db) as session:
        outcome = password_login(session, login, password, policy, keyring, now)
        trail.record(
            session, actor=Actor(outcome.principal), event_type="auth.login", object=outcome.principal,
            result="success" if outcome.token else "failure",
            params={"via": "cockpit", **({"reason": outcome.refusal} if outcome.refusal else {})},
            client=client,
        )  # fmt: skip
    return outcome


def end(db: Engine, keyring: Keyring, request: Request) -> None:
    """End the login session the cookie names (audited); nothing to do without one."""
    value = token(request)
    if not value:
        return
    now = dt.datetime.now(dt.UTC)
    try:
        with transaction(db) as session:
            principal = logout(session, keyring, value, now)
            trail.record(session, actor=Actor(principal), event_type="auth.logout", object=principal,
                         result="success", params={"via": "cockpit"})  # fmt: skip
    except AuthenticationError:
        return  # an expired or ended session: the cookie is cleared all the same


def set_session(response: Response, value: str, expires_at: dt.datetime | None, secure: bool) -> None:
    max_age = int((expires_at - dt.datetime.now(dt.UTC)).total_seconds()) if expires_at else None
    response.set_cookie(
        COOKIE, value, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/"
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
