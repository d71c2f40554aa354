"""Short-lived signed access tokens (JWT, EdDSA over Ed25519, signed with the token keyring).

The header names the key (``kid``); verification accepts any key of the keyring, the retired ones
included (security/keys.py keeps their public halves), so rotating the key does not log anyone
out. Issuer, audience, expiry and issue time are required and checked. A token carries no secret
and no role: roles are read from the database on every use, so a revoked role or a disabled
account takes effect at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import jwt

from security.keys import Keyring

ISSUER = "industry-brain"
AUDIENCE = "ibrain"
ALGORITHM = "EdDSA"


class TokenError(Exception):
    """A token is malformed, expired, signed by an unknown key or for someone else."""


@dataclass(frozen=True)
class TokenClaims:
    principal: str  # user:<login> or app:<app key>
    issued_at: dt.datetime
    expires_at: dt.datetime
    auth_time: dt.datetime  # when the password or AppSecret was last checked
    sid: str | None  # a person's login session (security/identity/models.py: LoginSession)


def issue(
    keyring: Keyring,
    principal: str,
    lifetime: dt.timedelta,
    now: dt.datetime,
    auth_time: dt.datetime | None = None,
    sid: str | None = None,
) -> str:
    """A token for ``principal`` valid from ``now`` for ``lifetime``, signed with the active key."""
    key = keyring.active
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": principal,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "auth_time": int((auth_time or now).timestamp()),
    }
    if sid:
        claims["sid"] = sid
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def verify(keyring: Keyring, token: str, now: dt.datetime) -> TokenClaims:
    """The claims of a valid token; :class:`TokenError` otherwise (never echoing the token)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"malformed token ({exc.__class__.__name__})") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        raise TokenError(f"token algorithm {header.get('alg')!r} is not {ALGORITHM}")
    keys = [k for k in keyring.keys if k.kid == kid and k.public is not None]
    if not keys:
        raise TokenError(f"token signed by an unknown key ({kid!r}); log in again")
    try:
        claims = jwt.decode(
            token,
            keys[0].public,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=0,
            # times are checked below against the caller's ``now`` (one clock for the whole decision)
            options={
                "require": ["exp", "iat", "sub", "iss", "aud", "auth_time"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token ({exc.__class__.__name__}: {exc})") from None
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    if now >= expires:
        raise TokenError("token expired; log in again (`ibrain login`)")
    if now < dt.datetime.fromtimestamp(claims.get("nbf", claims["iat"]), dt.UTC):
        raise TokenError("token not valid yet (issued in the future: check the clocks)")
    return TokenClaims(
        principal=str(claims["sub"]),
        issued_at=dt.datetime.fromtimestamp(claims["iat"], dt.UTC),
        expires_at=expires,
        auth_time=dt.datetime.fromtimestamp(claims["auth_time"], dt.UTC),
        sid=claims.get("sid"),
    )
