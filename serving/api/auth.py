"""Authentication of data-service calls: a bearer token checked by the security layer.

The one place the service learns who calls: ``security.identity.accounts.resolve_token`` checks
the signature, expiry, audience and issuer, a person's login session, and that the account is
enabled, and returns the principal with its organisation (which grants may name). The data
service builds no identity of its own (docs/architecture.md: security).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from security.identity.accounts import AuthenticationError, Principal, resolve_token
from security.identity.config import IdentityPolicy
from security.identity.tokens import TokenError, verify
from security.keys import Keyring

SCHEME = "bearer"
MAX_TOKEN = 4096


class Unauthenticated(PermissionError):
    """No token, or one the security layer refuses (a 401)."""


@dataclass(frozen=True)
class Authenticator:
    keyring: Keyring  # the token keyring (verification)
    policy: IdentityPolicy

    def reads_only(self, authorization: str | None, now: dt.datetime) -> bool:
        """Whether resolving this caller only reads the state database: true for an app's valid
        token, false for a person's (resolving it records the login session's last use) and for
        a token that does not verify (its refusal is audited). Chooses the transaction only; the
        token is checked again, in full, by :meth:`principal`."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != SCHEME or not token or len(token) > MAX_TOKEN:
            return False
        try:
            return verify(self.keyring, token, now).principal.startswith("app:")
        except TokenError:
            return False

    def principal(self, session: Session, authorization: str | None, now: dt.datetime) -> Principal:
        """The caller named by ``Authorization: Bearer <token>``, or :class:`Unauthenticated`."""
        if not authorization:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != SCHEME or not token or len(token) > MAX_TOKEN:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
        try:
            return resolve_token(session, self.keyring, token, self.policy, now)
        except AuthenticationError as exc:
            raise Unauthenticated(str(exc)) from None
