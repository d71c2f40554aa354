"""Password policy and the slow hashes of passwords and AppSecrets (argon2id).

Policy (GB/T 22239-2019 L3-IAS1-01, 口令复杂度): at least 12 characters, at least three of the four
classes (lower case, upper case, digit, other), and not containing the login. Secrets are only
ever stored as argon2id hashes (argon2-cffi's defaults: 64 MiB, 3 passes), never logged.
"""

from __future__ import annotations

import functools
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so an unknown login costs as long as a wrong one."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class PasswordPolicyError(ValueError):
    """A new password breaks the policy; the message says which rule (never the password)."""


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def check_policy(password: str, login: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password needs at least {MIN_LENGTH} characters")
    if _classes(password) < 3:
        raise PasswordPolicyError(
            "a password needs at least three of: lower case, upper case, digits, other characters"
        )
    if login and login.lower() in password.lower():
        raise PasswordPolicyError("a password must not contain the login")


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``stored_hash``; ``None`` (unknown account) costs the same time."""
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), secret) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password that meets the policy (demo accounts)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16)) + "-" + secrets.choice(string.digits)
        if _classes(candidate) == 4:
            return candidate


def generate_secret() -> str:
    """An AppSecret: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)
